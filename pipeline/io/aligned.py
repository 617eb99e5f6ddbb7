"""Aligned face images, as ``RecorderOpenFace::WriteObservation`` names and writes them.

Video: ``<out>/<stem>_aligned/frame_det_<face_id:02d>_<frame:06d>.bmp``; images:
``face_det_<face_id:06d>.bmp``. With ``nobadaligned`` (OpenFace's ``-nobadaligned``)
frames whose tracking failed get no image. The folder is created when the writer opens,
as OpenFace creates it before the first frame.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from aubench.pipeline.errors import InputError


def aligned_name(frame: int, face_id: int = 0, sequence: bool = True, image_format: str = "bmp") -> str:
    """The file name OpenFace gives an aligned face."""
    if sequence:
        return f"frame_det_{face_id:02d}_{frame:06d}.{image_format}"
    return f"face_det_{face_id:06d}.{image_format}"


class AlignedWriter:
    """Writes aligned faces into ``directory`` (created here)."""

    def __init__(self, directory: str | Path, nobadaligned: bool = True, sequence: bool = True,
                 image_format: str = "bmp"):
        self.directory = Path(directory)
        self.nobadaligned = nobadaligned
        self.sequence = sequence
        self.image_format = image_format
        self.written = 0
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise InputError(f"{self.directory}: cannot create the aligned-faces folder ({exc.strerror}); "
                             "give an output folder you can write to") from None

    def write(self, frame: int, aligned_bgr: np.ndarray, success: bool, face_id: int = 0) -> Path | None:
        """Write one aligned face (uint8, (h, w, 3) BGR or (h, w) grey); None when skipped."""
        if self.nobadaligned and not success:
            return None
        img = np.asarray(aligned_bgr)
        if img.dtype != np.uint8 or img.ndim not in (2, 3) or img.size == 0:
            raise ValueError(f"aligned face of frame {frame}: expected a uint8 image, got {img.dtype} {img.shape}")
        path = self.directory / aligned_name(frame, face_id, self.sequence, self.image_format)
        if not cv2.imwrite(str(path), img):
            raise InputError(f"{path}: OpenCV could not write the aligned face; check the output folder is writable")
        self.written += 1
        return path

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

from aubench.pipeline.errors import InputError, output_error


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
            raise output_error(exc, self.directory) from None

    def write(self, frame: int, aligned_bgr: np.ndarray, success: bool, face_id: int = 0) -> Path | None:
        """Write one aligned face (uint8, (h, w, 3) BGR or (h, w) grey); None when skipped."""
        if self.nobadaligned and not success:
            return None
        img = np.asarray(aligned_bgr)
        if img.dtype != np.uint8 or img.ndim not in (2, 3) or img.size == 0:
            raise ValueError(f"aligned face of frame {frame}: expected a uint8 image, got {img.dtype} {img.shape}")
        path = self.directory / aligned_name(frame, face_id, self.sequence, self.image_format)
        # Encoded here and written by Python rather than cv2.imwrite (same encoder, same bytes): imwrite says
        # only False on a full disk and can leave a partial image; this gives the errno and removes the partial file.
        ok, encoded = cv2.imencode(f".{self.image_format}", img)
        if not ok:
            raise InputError(f"{path}: OpenCV could not encode the aligned face as {self.image_format}; "
                             "use an image format OpenCV writes (bmp, png, jpg)")
        try:
            with open(path, "wb", buffering=0) as fh:
                view = memoryview(encoded.tobytes())
                while view:  # an unbuffered write may take part of it
                    view = view[fh.write(view):]
        except OSError as exc:
            try:
                path.unlink(missing_ok=True)
                kept = f"the partial {path.name} was removed"
            except OSError:
                kept = f"{path.name} may be partial"
            raise output_error(exc, path, frames=self.written, kept=kept) from None
        self.written += 1
        return path

"""OpenFace ``.hog`` files (``RecorderHOG.cpp``): the aligned face's FHOG per frame.

Each frame is one record, little-endian::

    int32 num_cols, int32 num_rows, int32 num_channels   (12, 12, 31 for a 112x112 alignment)
    float32 good_frame                                   (1 tracked, -1 not)
    float32 values[num_cols * num_rows * num_channels]   (the descriptor in its stored order)

OpenFace writes a record for every frame (failed ones too, flagged -1). :func:`read_hog`
returns the descriptors as (n, num_rows, num_cols, num_channels) float32 in the stored
order (``(12, 12, 31)`` is what the AU analyser produces and consumes).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from aubench.pipeline.errors import InputError, output_error
from aubench.pipeline.io.output_file import RecordFile

HOG_SHAPE = (12, 12, 31)
_HEADER_BYTES = 16


@dataclass(frozen=True)
class HogFrames:
    """A whole ``.hog`` file: ``descriptors`` (n, rows, cols, channels) float32, ``good`` (n,) bool."""

    descriptors: np.ndarray
    good: np.ndarray

    def __len__(self) -> int:
        return int(self.good.shape[0])


def _record_bytes(shape: tuple[int, int, int]) -> int:
    return _HEADER_BYTES + 4 * shape[0] * shape[1] * shape[2]


def read_hog(path: str | Path) -> HogFrames:
    """Read a ``.hog`` file; a truncated or inconsistent file is an InputError naming it."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: no such .hog file; give a .hog written by OpenFace or `aubench run --hogalign`")
    raw = path.read_bytes()
    if not raw:
        return HogFrames(np.zeros((0,) + HOG_SHAPE, np.float32), np.zeros(0, bool))
    if len(raw) < _HEADER_BYTES:
        raise InputError(f"{path}: expected a 16-byte record header (num_cols, num_rows, num_channels, good_frame), "
                         f"got {len(raw)} bytes; the file is truncated, write it again")
    cols, rows, chans = (int(v) for v in np.frombuffer(raw[:12], dtype="<i4"))
    if min(cols, rows, chans) <= 0 or cols * rows * chans > 1 << 24:
        raise InputError(f"{path}: expected positive FHOG dimensions in the first record, got "
                         f"{cols}x{rows}x{chans}; give a .hog written by OpenFace or aubench")
    record = _record_bytes((cols, rows, chans))
    if len(raw) % record:
        raise InputError(f"{path}: {len(raw)} bytes is not a whole number of {record}-byte records "
                         f"({cols}x{rows}x{chans} FHOG); the file is truncated (frame {len(raw) // record + 1} is "
                         "incomplete), write it again")
    n = len(raw) // record
    words = np.frombuffer(raw, dtype="<f4").reshape(n, record // 4)
    dims = words[:, :3].view("<i4")
    bad = np.flatnonzero(np.any(dims != (cols, rows, chans), axis=1))
    if bad.size:
        raise InputError(f"{path}: frame {bad[0] + 1} has dimensions {dims[bad[0]].tolist()}, the first frame "
                         f"{[cols, rows, chans]}; the file is damaged, write it again")
    good = words[:, 3] > 0
    descriptors = words[:, 4:].astype(np.float32).reshape(n, rows, cols, chans)
    return HogFrames(descriptors, good)


def _record(descriptor: np.ndarray, good: bool) -> bytes:
    d = np.asarray(descriptor)
    if d.ndim != 3:
        raise ValueError(f"HOG descriptor: expected (rows, cols, channels), got shape {d.shape}")
    rows, cols, chans = d.shape
    header = np.array([cols, rows, chans], dtype="<i4").tobytes()
    flag = np.array([1.0 if good else -1.0], dtype="<f4").tobytes()
    return header + flag + np.ascontiguousarray(d, dtype="<f4").tobytes()


class HogWriter:
    """Appends one record per :meth:`write`, each on disk when it returns, so a stopped run leaves whole records.

    A write that fails (a full disk) cuts the file back to its last whole record and raises
    :class:`aubench.pipeline.errors.OutputError` (:class:`aubench.pipeline.io.output_file.RecordFile`).
    """

    def __init__(self, path: str | Path):
        self.path = Path(path)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise output_error(exc, self.path.parent) from None
        self._file = RecordFile(self.path, what="record")

    @property
    def frames(self) -> int:
        return self._file.records

    def write(self, descriptor: np.ndarray, good: bool) -> None:
        """``descriptor`` (12, 12, 31) (any float dtype; stored as float32), ``good`` the frame's success."""
        self._file.write(_record(descriptor, good))

    def remove_if_empty(self) -> bool:
        """Close and delete the file when it holds no record."""
        return self._file.remove_if_empty()

    def close(self) -> None:
        self._file.close()

    def __enter__(self) -> HogWriter:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def write_hog(path: str | Path, descriptors: np.ndarray, good) -> Path:
    """Write a whole ``.hog`` file: ``descriptors`` (n, rows, cols, channels), ``good`` (n,) bool."""
    descriptors = np.asarray(descriptors)
    good = np.asarray(good, dtype=bool).reshape(-1)
    if descriptors.ndim != 4 or descriptors.shape[0] != good.shape[0]:
        raise ValueError(f"write_hog: expected (n, rows, cols, channels) descriptors and n flags, "
                         f"got {descriptors.shape} and {good.shape}")
    with HogWriter(path) as w:
        for d, g in zip(descriptors, good):
            w.write(d, bool(g))
    return Path(path)

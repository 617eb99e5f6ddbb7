"""OpenFace-format CSV output (``RecorderCSV.cpp``), byte for byte.

Two schemas, chosen by ``sequence``:

* FeatureExtraction (video, ``sequence=True``): ``frame,face_id,timestamp,confidence,success``;
* FaceLandmarkImg (images, ``sequence=False``): ``face,confidence``;

then, each when enabled, the gaze block (``gaze_0_*``, ``gaze_1_*``, ``gaze_angle_*``,
``eye_lmk_x/y_*``, ``eye_lmk_X/Y/Z_*``), pose, 2D landmarks (all x then all y), 3D
landmarks (X, Y, Z), PDM parameters and the AU columns (``_r`` then ``_c``, each sorted
by name). Numbers are fixed-point with ``RecorderCSV::WriteLine``'s precisions:

=====================================  =========
timestamp                              3
confidence (video / image)             2 / 3
gaze vectors                           6
gaze angles, pose rotation, PDM params 3
eye landmarks, pose translation,
2D and 3D landmarks                    1
AU intensity / occurrence              2 / 1
=====================================  =========

The C++ holds every per-face value except timestamp, confidence and AUs in ``float``,
so they are rounded to float32 before formatting (Python's and glibc's fixed-point
conversions both round the exact binary value, so the text matches). FeatureExtraction
then rewrites the AU columns with 2 decimals after its offline post-processing
(``FaceAnalyser::PostprocessOutputFile``): :func:`rewrite_au_columns` (a file),
:func:`rewrite_au_lines` (rows in memory).

Rows are flushed as they are written, so a run that stops leaves a valid CSV of the
frames done.
"""

from __future__ import annotations

import glob
import os
import stat
import sys
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from aubench.pipeline.errors import InputError, output_error
from aubench.pipeline.io.output_file import RecordFile
from aubench.pipeline.io.records import AU_INTENSITY, AU_OCCURRENCE, FaceRecord

N_FACE_LANDMARKS = 68
N_EYE_LANDMARKS = 56
N_MODES = 34


@dataclass(frozen=True)
class CsvSchema:
    """Which blocks a CSV has and their sizes (``RecorderCSV::Open``'s arguments)."""

    sequence: bool = True
    gaze: bool = True
    pose: bool = True
    landmarks_2d: bool = True
    landmarks_3d: bool = True
    pdmparams: bool = True
    aus: bool = True
    n_landmarks: int = N_FACE_LANDMARKS
    n_eye_landmarks: int = N_EYE_LANDMARKS
    n_modes: int = N_MODES
    au_intensity: tuple[str, ...] = AU_INTENSITY
    au_occurrence: tuple[str, ...] = AU_OCCURRENCE

    @classmethod
    def from_output(cls, output, sequence: bool = True, **kwargs) -> CsvSchema:
        """From :class:`aubench.pipeline.config.OutputParameters` (the blocks to write)."""
        return cls(sequence=sequence, gaze=output.gaze, pose=output.pose, landmarks_2d=output.landmarks_2d,
                   landmarks_3d=output.landmarks_3d, pdmparams=output.pdmparams, aus=output.aus, **kwargs)

    @property
    def intensity_names(self) -> tuple[str, ...]:
        return tuple(sorted(self.au_intensity))

    @property
    def occurrence_names(self) -> tuple[str, ...]:
        return tuple(sorted(self.au_occurrence))

    def columns(self) -> list[str]:
        """Column names in OpenFace's order."""
        cols = ["frame", "face_id", "timestamp", "confidence", "success"] if self.sequence else ["face", "confidence"]
        if self.gaze:
            cols += ["gaze_0_x", "gaze_0_y", "gaze_0_z", "gaze_1_x", "gaze_1_y", "gaze_1_z", "gaze_angle_x", "gaze_angle_y"]
            for axis in ("x", "y", "X", "Y", "Z"):
                cols += [f"eye_lmk_{axis}_{i}" for i in range(self.n_eye_landmarks)]
        if self.pose:
            cols += ["pose_Tx", "pose_Ty", "pose_Tz", "pose_Rx", "pose_Ry", "pose_Rz"]
        if self.landmarks_2d:
            for axis in ("x", "y"):
                cols += [f"{axis}_{i}" for i in range(self.n_landmarks)]
        if self.landmarks_3d:
            for axis in ("X", "Y", "Z"):
                cols += [f"{axis}_{i}" for i in range(self.n_landmarks)]
        if self.pdmparams:
            cols += ["p_scale", "p_rx", "p_ry", "p_rz", "p_tx", "p_ty"] + [f"p_{i}" for i in range(self.n_modes)]
        if self.aus:
            cols += [f"{n}_r" for n in self.intensity_names] + [f"{n}_c" for n in self.occurrence_names]
        return cols

    def header(self) -> str:
        return ",".join(self.columns()) + "\n"


_TEMPLATES: dict[tuple[int, int], str] = {}


def _fixed(values, decimals: int) -> list[str]:
    """float32 values (the C++ ``float`` fields) in fixed notation, as one comma-joined cell group.

    One ``%`` with a template of n ``%.Nf`` fields formats the whole block (the same
    conversions as ``"{:.Nf}".format`` per value, in a third of the time).
    """
    as_double = np.asarray(values, dtype=np.float32).astype(np.float64).reshape(-1).tolist()
    if not as_double:
        return []
    key = (decimals, len(as_double))
    template = _TEMPLATES.get(key)
    if template is None:
        template = _TEMPLATES[key] = ",".join([f"%.{decimals}f"] * len(as_double))
    return [template % tuple(as_double)]


def _block(values, shape: tuple[int, ...], what: str, frame: int) -> np.ndarray:
    arr = np.asarray(values, dtype=np.float64)
    if arr.size == 0:
        return np.zeros(shape)
    if arr.shape != shape:
        raise ValueError(f"FaceRecord {what} of frame {frame}: expected shape {shape}, got {arr.shape}")
    return arr


def format_row(record: FaceRecord, schema: CsvSchema) -> str:
    """One CSV line (with its newline) for ``record``, as ``RecorderCSV::WriteLine`` writes it."""
    r = record
    if schema.sequence:
        cells = [str(int(r.frame)), str(int(r.face_id)), f"{float(r.timestamp):.3f}",
                 f"{float(r.confidence):.2f}", "1" if r.success else "0"]
    else:
        cells = [str(int(r.face_id)), f"{float(r.confidence):.3f}"]
    if schema.gaze:
        n = schema.n_eye_landmarks
        cells += _fixed(np.concatenate([np.asarray(r.gaze_0, float).reshape(3), np.asarray(r.gaze_1, float).reshape(3)]), 6)
        cells += _fixed(np.asarray(r.gaze_angle, float).reshape(2), 3)
        eye2 = _block(r.eye_landmarks_2d, (n, 2), "eye_landmarks_2d", r.frame)
        eye3 = _block(r.eye_landmarks_3d, (n, 3), "eye_landmarks_3d", r.frame)
        cells += _fixed(eye2.T, 1) + _fixed(eye3.T, 1)
    if schema.pose:
        pose = np.asarray(r.pose, float).reshape(6)
        cells += _fixed(pose[:3], 1) + _fixed(pose[3:], 3)
    if schema.landmarks_2d:
        cells += _fixed(_block(r.landmarks_2d, (schema.n_landmarks, 2), "landmarks_2d", r.frame).T, 1)
    if schema.landmarks_3d:
        cells += _fixed(_block(r.landmarks_3d, (schema.n_landmarks, 3), "landmarks_3d", r.frame).T, 1)
    if schema.pdmparams:
        cells += _fixed(np.asarray(r.params_global, float).reshape(6), 3)
        cells += _fixed(_block(r.params_local, (schema.n_modes,), "params_local", r.frame), 3)
    if schema.aus:
        # RecorderCSV writes 0 for every AU when the analyser gave none
        cells += [f"{float(r.au_intensity[n]):.2f}" if n in r.au_intensity else "0" for n in schema.intensity_names]
        cells += [f"{float(r.au_occurrence[n]):.1f}" if n in r.au_occurrence else "0" for n in schema.occurrence_names]
    return ",".join(cells) + "\n"


class CsvWriter:
    """Writes the header on open and one line per :meth:`write`, each on disk when it returns.

    Use as a context manager; the file is valid (header + whole rows) after every write. A
    write that fails (a full disk) cuts the file back to its last whole row, or removes it
    when no row was complete, and raises :class:`aubench.pipeline.errors.OutputError`
    (:class:`aubench.pipeline.io.output_file.RecordFile`).
    """

    def __init__(self, path: str | Path, schema: CsvSchema):
        self.path = Path(path)
        self.schema = schema
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise output_error(exc, self.path.parent) from None
        # "\n" on every platform, as the reference files
        self._file = RecordFile(self.path, schema.header().encode("ascii"), what="row")

    @property
    def rows(self) -> int:
        return self._file.records

    def write(self, record: FaceRecord) -> None:
        line = format_row(record, self.schema)  # format fully before writing: no half rows
        self._file.write(line.encode("ascii"))

    def remove_if_empty(self) -> bool:
        """Close and delete the file when it holds the header alone (a run that failed on its first frame)."""
        return self._file.remove_if_empty()

    def close(self) -> None:
        self._file.close()

    def __enter__(self) -> CsvWriter:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def write_csv(path: str | Path, records: Sequence[FaceRecord], schema: CsvSchema) -> Path:
    """Write a whole CSV at once."""
    with CsvWriter(path, schema) as w:
        for r in records:
            w.write(r)
    return Path(path)


def format_au(value: float) -> str:
    """An AU value as ``PostprocessOutputFile`` rewrites it (fixed, 2 decimals)."""
    return f"{float(value):.2f}"


def rewrite_au_lines(lines: Sequence[str], intensity: Mapping[str, Sequence[float]],
                     occurrence: Mapping[str, Sequence[float]], where: str = "CSV") -> list[str]:
    """The CSV ``lines`` (header first, no newlines) with every ``AUxx_r`` / ``AUxx_c`` cell replaced.

    ``FaceAnalyser::PostprocessOutputFile``: the post-processed values of the whole video
    overwrite the AU columns with 2 decimals; every other cell is kept as written.

    Parameters
    ----------
    lines : the header line then one line per row.
    intensity, occurrence : ``{"AU01": (n_rows,) values}``; every AU column of the header must
        be given, with one value per data row.
    where : what the lines are (a path), for the error messages.
    """
    if not lines:
        raise InputError(f"{where}: the CSV is empty; expected an OpenFace CSV with a header")
    names = lines[0].split(",")
    n_rows = len(lines) - 1
    targets: list[tuple[int, np.ndarray]] = []
    for i, name in enumerate(names):
        if not name.startswith("AU") or name[-2:] not in ("_r", "_c"):
            continue
        source = intensity if name.endswith("_r") else occurrence
        au = name[:-2]
        if au not in source:
            raise InputError(f"{where}: no post-processed values for column {name}; "
                             f"give values for every AU column (got {', '.join(sorted(source)) or 'none'})")
        values = np.asarray(source[au], dtype=np.float64).reshape(-1)
        if values.shape[0] != n_rows:
            raise InputError(f"{where}: {n_rows} rows but {values.shape[0]} post-processed values for {name}; "
                             "give one value per row")
        targets.append((i, values))
    formatted = [(i, [format_au(v) for v in values]) for i, values in targets]
    out = [lines[0]]
    for row, line in enumerate(lines[1:]):
        cells = line.split(",")
        if len(cells) != len(names):
            raise InputError(f"{where}: row {row + 1} has {len(cells)} cells, the header {len(names)}; "
                             "the file is damaged")
        for i, texts in formatted:
            cells[i] = texts[row]
        out.append(",".join(cells))
    return out


def rewrite_au_columns(path: str | Path, intensity: Mapping[str, Sequence[float]],
                       occurrence: Mapping[str, Sequence[float]]) -> None:
    """Replace the ``AUxx_r`` / ``AUxx_c`` cells of every row of the file with 2-decimal values, atomically.

    :func:`rewrite_au_lines` on the file's lines. The new file is written beside the old one
    and renamed over it, so a failure leaves the original intact.

    Parameters
    ----------
    intensity, occurrence : ``{"AU01": (n_rows,) values}``; every AU column of the file must
        be given, with one value per data row.
    """
    path = Path(path)
    lines = path.read_text(encoding="ascii").split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    out = rewrite_au_lines(lines, intensity, occurrence, where=str(path))
    # The pid in the name lets a later run tell a temporary file of a killed run (removed by
    # remove_stale_temporaries) from one of a run still going.
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.{os.getpid()}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="ascii", newline="") as fh:
            fh.write("\n".join(out) + "\n")
        # mkstemp creates 0600; the CSV keeps the mode it was created with (the user's umask)
        os.chmod(tmp, stat.S_IMODE(os.stat(path).st_mode))
        os.replace(tmp, path)
    except BaseException as exc:
        removed = True
        try:
            if os.path.exists(tmp):
                os.unlink(tmp)
        except OSError:
            removed = False
        if isinstance(exc, OSError):
            kept = (f"while rewriting its AU columns with the post-processed values: {path.name} is kept as written, "
                    f"with the online AU values of its {len(out) - 1} rows, and the temporary {Path(tmp).name} "
                    f"{'was removed' if removed else 'could not be removed'}")
            raise output_error(exc, path, kept=kept) from None
        raise


def remove_stale_temporaries(csv_path: str | Path) -> list[Path]:
    """Remove ``.<name>.<pid>.*.tmp`` files beside ``csv_path`` left by a killed :func:`rewrite_au_columns`.

    A file whose process is still alive (another run into the same folder) is left alone; one
    without a pid in its name (written by an earlier version) is removed. Returns the paths removed.
    """
    csv_path = Path(csv_path)
    prefix = f".{csv_path.name}."
    removed = []
    for tmp in csv_path.parent.glob(f"{glob.escape(prefix)}*.tmp"):
        parts = tmp.name[len(prefix):-len(".tmp")].split(".")
        if len(parts) == 2 and parts[0].isdigit() and _alive(int(parts[0])):
            continue
        try:
            tmp.unlink()
            removed.append(tmp)
        except OSError:
            pass  # not ours to fight over; the run's own outputs are what matter
    return removed


def _alive(pid: int) -> bool:
    if pid == os.getpid() or sys.platform == "win32":  # on Windows os.kill(pid, 0) would end the process
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True  # exists under another user, or cannot tell: leave its file alone
    return True

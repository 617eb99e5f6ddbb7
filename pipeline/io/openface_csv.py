"""Reading OpenFace CSVs (FeatureExtraction's video schema or FaceLandmarkImg's image schema).

Used by ``aubench run --landmarks-from`` (replaying a tracker's output) and by the
parity harness. :func:`read_openface_csv` gives an :class:`OpenFaceTable`: every
column by name as float64, plus the blocks as arrays (landmarks (n, 68, 2), pose
(n, 6), ...) and :meth:`OpenFaceTable.records` as :class:`FaceRecord` objects that
:mod:`aubench.pipeline.io.csv_out` writes back to the same text. Header names are stripped
of spaces (OpenFace 2.0 wrote ``", "`` separators). A missing column is an
InputError naming the column and the file.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from aubench.pipeline.errors import InputError
from aubench.pipeline.io.records import FaceRecord


@dataclass
class OpenFaceTable:
    """An OpenFace CSV: ``columns`` maps each header name to its (n,) float64 values."""

    path: Path
    names: list[str]
    columns: dict[str, np.ndarray]

    # ------------------------------------------------------------------ basics
    def __len__(self) -> int:
        return int(next(iter(self.columns.values())).shape[0]) if self.columns else 0

    @property
    def is_sequence(self) -> bool:
        """True for FeatureExtraction's schema (``frame,...``), False for FaceLandmarkImg's (``face,...``)."""
        return "frame" in self.columns

    def has(self, *names: str) -> bool:
        return all(n in self.columns for n in names)

    def column(self, name: str) -> np.ndarray:
        """One column; a missing one is an InputError naming it and the file."""
        try:
            return self.columns[name]
        except KeyError:
            schema = "FeatureExtraction" if self.is_sequence else "FaceLandmarkImg"
            raise InputError(f"{self.path}: no column {name!r} in this {schema} CSV; write it with the flag that "
                             "outputs it (-2Dfp, -3Dfp, -pdmparams, -pose, -gaze, -aus) or give a full CSV") from None

    def block(self, names: list[str]) -> np.ndarray:
        """(n, len(names)) array of the named columns."""
        return np.stack([self.column(n) for n in names], axis=1) if names else np.zeros((len(self), 0))

    def _count(self, prefix: str) -> int:
        n = 0
        while f"{prefix}{n}" in self.columns:
            n += 1
        return n

    def _points(self, axes: tuple[str, ...], prefix: str = "", n: int | None = None) -> np.ndarray:
        n = self._count(f"{prefix}{axes[0]}_") if n is None else n
        if n == 0:
            self.column(f"{prefix}{axes[0]}_0")  # raises naming the column
        return np.stack([self.block([f"{prefix}{a}_{i}" for i in range(n)]) for a in axes], axis=2)

    # ------------------------------------------------------------------ per-frame values
    @property
    def frame(self) -> np.ndarray:
        """1-based frame numbers (video) or 1..n (images)."""
        return self.column("frame").astype(np.int64) if self.is_sequence else np.arange(1, len(self) + 1)

    @property
    def face_id(self) -> np.ndarray:
        return self.column("face_id" if self.is_sequence else "face").astype(np.int64)

    @property
    def timestamp(self) -> np.ndarray:
        return self.column("timestamp") if self.is_sequence else np.zeros(len(self))

    @property
    def confidence(self) -> np.ndarray:
        return self.column("confidence")

    @property
    def success(self) -> np.ndarray:
        """(n,) bool; the image schema has no column (every listed face was fitted)."""
        return self.column("success") > 0.5 if self.is_sequence else np.ones(len(self), bool)

    def landmarks_2d(self) -> np.ndarray:
        """(n, 68, 2) px."""
        return self._points(("x", "y"))

    def landmarks_3d(self) -> np.ndarray:
        """(n, 68, 3) mm."""
        return self._points(("X", "Y", "Z"))

    def eye_landmarks_2d(self) -> np.ndarray:
        """(n, 56, 2) px."""
        return self._points(("x", "y"), "eye_lmk_")

    def eye_landmarks_3d(self) -> np.ndarray:
        """(n, 56, 3) mm."""
        return self._points(("X", "Y", "Z"), "eye_lmk_")

    def pose(self) -> np.ndarray:
        """(n, 6): Tx, Ty, Tz (mm), Rx, Ry, Rz (rad)."""
        return self.block(["pose_Tx", "pose_Ty", "pose_Tz", "pose_Rx", "pose_Ry", "pose_Rz"])

    def params_global(self) -> np.ndarray:
        """(n, 6): scale, rx, ry, rz, tx, ty."""
        return self.block(["p_scale", "p_rx", "p_ry", "p_rz", "p_tx", "p_ty"])

    def params_local(self) -> np.ndarray:
        """(n, m) non-rigid PDM parameters (m = 34 for the 68-point PDM)."""
        m = self._count("p_")
        if m == 0:
            self.column("p_0")
        return self.block([f"p_{i}" for i in range(m)])

    def gaze(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(gaze_0 (n, 3), gaze_1 (n, 3), gaze_angle (n, 2))``."""
        return (self.block(["gaze_0_x", "gaze_0_y", "gaze_0_z"]), self.block(["gaze_1_x", "gaze_1_y", "gaze_1_z"]),
                self.block(["gaze_angle_x", "gaze_angle_y"]))

    def au_names(self, suffix: str) -> list[str]:
        """AU names with columns ending ``suffix`` (``"_r"`` or ``"_c"``), in file order."""
        return [c[: -len(suffix)] for c in self.names if c.startswith("AU") and c.endswith(suffix)]

    def au_intensity(self) -> dict[str, np.ndarray]:
        """``{"AU01": (n,)}`` from the ``_r`` columns."""
        return {n: self.columns[f"{n}_r"] for n in self.au_names("_r")}

    def au_occurrence(self) -> dict[str, np.ndarray]:
        """``{"AU01": (n,)}`` from the ``_c`` columns."""
        return {n: self.columns[f"{n}_c"] for n in self.au_names("_c")}

    # ------------------------------------------------------------------ records
    def records(self) -> list[FaceRecord]:
        """Every row as a :class:`FaceRecord`; blocks the file lacks stay zero."""
        n = len(self)

        def opt(fn, shape):
            try:
                return fn()
            except InputError:
                return np.zeros((n,) + shape)

        lm2 = opt(self.landmarks_2d, (68, 2))
        lm3 = opt(self.landmarks_3d, (68, 3))
        eye2 = opt(self.eye_landmarks_2d, (56, 2))
        eye3 = opt(self.eye_landmarks_3d, (56, 3))
        pose = opt(self.pose, (6,))
        pg = opt(self.params_global, (6,))
        pl = opt(self.params_local, (34,))
        g0, g1, ga = opt(self.gaze, ()) if self.has("gaze_0_x") else (np.zeros((n, 3)), np.zeros((n, 3)), np.zeros((n, 2)))
        reg, cls = self.au_intensity(), self.au_occurrence()
        frames, faces, ts, conf, ok = self.frame, self.face_id, self.timestamp, self.confidence, self.success
        out = []
        for i in range(n):
            out.append(FaceRecord(
                frame=int(frames[i]), face_id=int(faces[i]), timestamp=float(ts[i]), confidence=float(conf[i]),
                success=bool(ok[i]), gaze_0=g0[i].copy(), gaze_1=g1[i].copy(), gaze_angle=ga[i].copy(),
                eye_landmarks_2d=eye2[i].copy(), eye_landmarks_3d=eye3[i].copy(), pose=pose[i].copy(),
                landmarks_2d=lm2[i].copy(), landmarks_3d=lm3[i].copy(), params_global=pg[i].copy(),
                params_local=pl[i].copy(),
                au_intensity={k: float(v[i]) for k, v in reg.items()},
                au_occurrence={k: float(v[i]) for k, v in cls.items()},
            ))
        return out


def read_openface_csv(path: str | Path) -> OpenFaceTable:
    """Read a FeatureExtraction or FaceLandmarkImg CSV into an :class:`OpenFaceTable`."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: no such CSV; give an OpenFace CSV (FeatureExtraction or FaceLandmarkImg output)")
    try:
        with path.open(encoding="utf-8") as fh:
            header = fh.readline()
            names = [h.strip() for h in header.strip().split(",")]
            if not header.strip() or names[0] not in ("frame", "face"):
                raise InputError(f"{path}: expected an OpenFace CSV header starting with 'frame' or 'face', "
                                 f"got {header[:40].strip()!r}; give a FeatureExtraction or FaceLandmarkImg CSV")
            if len(set(names)) != len(names):
                dup = next(n for n in names if names.count(n) > 1)
                raise InputError(f"{path}: column {dup!r} appears twice in the header; the file is damaged")
            data = np.loadtxt(fh, delimiter=",", ndmin=2, dtype=np.float64)
    except UnicodeDecodeError:
        raise InputError(f"{path}: not a text file; give an OpenFace CSV") from None
    except ValueError as exc:
        raise InputError(f"{path}: unreadable numbers ({str(exc).splitlines()[0]}); give an intact OpenFace CSV") from None
    if data.size == 0:
        data = np.zeros((0, len(names)))
    if data.shape[1] != len(names):
        raise InputError(f"{path}: the header has {len(names)} columns, the rows {data.shape[1]}; the file is damaged")
    return OpenFaceTable(path, names, {n: data[:, i].copy() for i, n in enumerate(names)})

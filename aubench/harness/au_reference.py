"""Readers of the C++ reference data the AU stage is checked against (``../shared/reference``).

* ``<clip>/<clip>.hog``: per frame int32 cols, rows, channels, float32 good-frame flag,
  then cols*rows*channels float32 FHOG values (row-major over rows, cols, channels);
* ``<clip>/<clip>.csv``: FeatureExtraction output (named columns);
* ``trace/au/``: online AU predictions, geometry descriptors and running medians of
  default.wmv (see ``trace/README.md`` section 4).
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from aubench.pipeline.errors import InputError

MEDIAN_FRAMES = (1, 50, 100, 288)


def read_hog_file(path: str | Path) -> tuple[np.ndarray, np.ndarray]:
    """An OpenFace ``.hog`` file: ``(good (n,) bool, descriptors (n, D) float32)``."""
    path = Path(path)
    data = path.read_bytes()
    if len(data) < 16:
        raise InputError(f"{path}: expected an OpenFace .hog file, got {len(data)} bytes; give a .hog from -hogalign")
    cols, rows, channels = np.frombuffer(data[:12], "<i4")
    size = int(cols) * int(rows) * int(channels)
    block = 16 + 4 * size
    if size <= 0 or len(data) % block:
        raise InputError(f"{path}: expected frames of {cols}x{rows}x{channels} float32 values, "
                         f"got {len(data)} bytes; give an intact .hog file")
    frames = np.frombuffer(data, dtype="<f4").reshape(-1, block // 4)
    return frames[:, 3] != 0, np.ascontiguousarray(frames[:, 4:])


def read_csv_columns(path: str | Path) -> dict[str, np.ndarray]:
    """An OpenFace CSV as ``{column: float64 array}`` (header spaces stripped)."""
    path = Path(path)
    with path.open() as fh:
        header = [h.strip() for h in fh.readline().split(",")]
    data = np.loadtxt(path, delimiter=",", skiprows=1, ndmin=2)
    return {name: data[:, k] for k, name in enumerate(header)}


def read_csv_text(path: str | Path) -> dict[str, list[str]]:
    """An OpenFace CSV as ``{column: [cell text, ...]}`` (to compare the 2-decimal AU columns exactly)."""
    with Path(path).open(newline="") as fh:
        rows = list(csv.reader(fh))
    header = [h.strip() for h in rows[0]]
    return {name: [r[k].strip() for r in rows[1:]] for k, name in enumerate(header)}


def csv_landmarks(columns: dict[str, np.ndarray], unround: bool = False,
                  image_size: tuple[int, int] | None = None) -> np.ndarray:
    """(frames, 68, 2) float32 landmarks ``x_i, y_i`` of a CSV.

    ``unround``: the PDM shape that explains the rounded landmarks, ``p_*`` parameters and
    3D landmarks (:mod:`aubench.pipeline.landmarks.recorded`), closer to what C++ used;
    ``image_size`` (w, h) lets it recognise OpenFace's default camera.
    """
    x = np.stack([columns[f"x_{i}"] for i in range(68)], axis=1)
    y = np.stack([columns[f"y_{i}"] for i in range(68)], axis=1)
    landmarks = np.stack([x, y], axis=2).astype(np.float32)
    if not unround:
        return landmarks
    from aubench.pipeline.landmarks.recorded import landmark_pdm, unround_all

    pdm = landmark_pdm()
    params_global = np.stack([columns[k] for k in ("p_scale", "p_rx", "p_ry", "p_rz", "p_tx", "p_ty")], axis=1)
    params_local = np.stack([columns[f"p_{i}"] for i in range(pdm.n_modes)], axis=1)
    points_3d = None
    if "X_0" in columns:
        points_3d = np.stack([np.stack([columns[f"{a}_{i}"] for i in range(68)], axis=1) for a in "XYZ"], axis=2)
    return unround_all(pdm, landmarks, params_global, params_local, points_3d, image_size)[0]


@dataclass(frozen=True)
class OnlineTrace:
    """``trace/au/``: what C++ FaceAnalyser computed online on default.wmv."""

    successes: np.ndarray            # (T,) bool
    views: np.ndarray                # (T,) int
    intensity: dict[str, np.ndarray]  # "AU01" -> (T,) raw online SVR values
    occurrence: dict[str, np.ndarray]
    intensity_order: tuple[str, ...]  # model order, as the trace's columns
    occurrence_order: tuple[str, ...]
    geometry: np.ndarray             # (T, 238) float64
    hog_medians: dict[int, np.ndarray]   # frame -> (4464,)
    geom_medians: dict[int, np.ndarray]  # frame -> (238,)
    hog_descriptors: dict[int, np.ndarray]


def load_online_trace(trace_dir: str | Path) -> OnlineTrace:
    d = Path(trace_dir) / "au"
    cols = read_csv_columns(d / "online_au_predictions.csv")
    names = list(cols)
    reg = tuple(n[:-2] for n in names if n.endswith("_r"))
    cls = tuple(n[:-2] for n in names if n.endswith("_c"))
    return OnlineTrace(
        successes=cols["success"] != 0,
        views=cols["view"].astype(int),
        intensity={n: cols[n + "_r"] for n in reg},
        occurrence={n: cols[n + "_c"] for n in cls},
        intensity_order=reg,
        occurrence_order=cls,
        geometry=np.load(d / "geom_descriptor_per_frame.npy"),
        hog_medians={f: np.load(d / f"hog_median_frame{f:04d}.npy")[0] for f in MEDIAN_FRAMES},
        geom_medians={f: np.load(d / f"geom_median_frame{f:04d}.npy")[0] for f in MEDIAN_FRAMES},
        hog_descriptors={f: np.load(d / f"hog_descriptor_frame{f:04d}.npy")[0] for f in MEDIAN_FRAMES},
    )

"""Tolerances of the comparisons whose result depends on the CPU's BLAS kernel.

OpenBLAS picks its sgemm/LAPACK kernels per CPU when it loads, and the kernels sum
in different orders. Iterative fits (``PDM::CalcParams``' Gauss-Newton, CLNF's
NU-RLMS over scales, the tracker) carry those last-bit differences on, so our
distance from the C++ trace (itself one CPU's numbers: ``../shared/reference/cpu_spread``)
moves with the machine. Each tolerance below is therefore measured, not read off
one machine::

    python -m experiments.blas_spread

runs the tests marked ``blas`` once under every OpenBLAS kernel family the CPU can
load (``OPENBLAS_CORETYPE``), records each named comparison's deviation, and prints
the largest per name. A tolerance is :data:`MARGIN` times that largest deviation
(rounded up), beyond what the CSV's rounding already allows: the margin is for
kernel families not measured here. The measurement these numbers come from is
in ``experiments/RESULTS.md`` (section 000) and ``out/blas_spread.json`` when re-run.

:func:`assert_close` is the one place the tests compare against them; with
``AUBENCH_RECORD_DEVIATIONS=FILE`` set it also appends each deviation to FILE
(JSON lines), which is how ``experiments.blas_spread`` measures.
"""

from __future__ import annotations

import json
import os

import numpy as np

MARGIN = 2.0

# name -> (tolerance, largest deviation measured over the kernel families, family it came from).
# Measured 2026-12-03 on an AMD EPYC (Zen 4, AVX-512) under Cooperlake (auto), SkylakeX, Haswell,
# Zen and Sandybridge, numpy 1.26.4's OpenBLAS 0.3.23. Re-measured the same day with numpy 2.4.6's
# OpenBLAS 0.3.31 (SkylakeX (auto), Haswell, Sandybridge; that build loads SkylakeX for Cooperlake and
# Haswell for Zen): every largest deviation the same to the digits below (experiments/RESULTS.md, section 001).
TOLERANCES: dict[str, tuple[float, float, str]] = {
    # PDM::CalcParams refit of the 13 traced hypotheses (up to 1000 Gauss-Newton iterations)
    "calc_params.global_rel": (1.5e-3, 6.6e-4, "Cooperlake"),
    "calc_params.local": (1e-2, 4.6e-3, "Sandybridge"),
    "calc_params.shape_px": (7e-3, 3.4e-3, "Cooperlake"),
    # CLNF detection from the traced hypothesis-0 start (16 NU-RLMS calls)
    "clnf.hyp0.fit_px": (2e-3, 4.1e-4, "Sandybridge"),
    "clnf.hyp0.parts_px": (3e-2, 1.34e-2, "Sandybridge"),
    "clnf.hyp0.final_px": (2e-3, 4.3e-4, "Haswell"),
    "clnf.hyp0.likelihood": (1e-4, 4.5e-5, "Sandybridge"),
    "clnf.compiled.final_px": (5e-3, 3.5e-4, "Haswell"),
    "clnf.compiled.likelihood": (1e-3, 4.4e-5, "Haswell"),
    # frames 2 and 3 tracked from the C++'s own start parameters
    "clnf.tracking_px": (1.5e-2, 5.3e-3, "Haswell"),
    # all 11 rotation hypotheses of frame 1 (failed fits amplify differences most)
    "clnf.hypotheses.likelihood": (2.5e-3, 1.05e-3, "Sandybridge"),
    "clnf.hypotheses.winner_px": (2e-3, 4.3e-4, "Haswell"),
    # the whole tracker on frames 1-2 against the C++ CSV, beyond the CSV's rounding
    "tracker.landmarks_px": (1e-2, 0.0, "all within the rounding"),
    "tracker.eye_landmarks_px": (6e-2, 2.65e-2, "Sandybridge"),
    "tracker.eye_landmarks_3d_mm": (0.25, 0.123, "Sandybridge"),
    "tracker.landmarks_3d_mm": (3e-2, 1.01e-2, "Sandybridge"),
    "tracker.pose_t_mm": (3e-2, 0.0, "all within the rounding"),
    "tracker.pose_r_rad": (2e-4, 0.0, "all within the rounding"),
    "tracker.gaze": (3e-3, 1.29e-3, "Sandybridge"),
    "tracker.params_global": (2e-3, 1.4e-4, "Haswell"),
    "tracker.params_local_sd": (4e-3, 1.94e-3, "Sandybridge"),
    # Image mode (FaceLandmarkImg, run_images with the fast preset) on sample1-6, all 17 faces: our CSV against
    # the C++ CSV, beyond both files' rounding (one CSV step). Measured 2026-12-03 on an Intel Xeon (AVX-512) with
    # numpy 2.4's OpenBLAS under SkylakeX (auto), Haswell and Sandybridge (Zen and Cooperlake load Haswell and
    # SkylakeX there): python -m experiments.image_spread spread OUT. Whole fits from an MTCNN box move more than
    # the traced steps above; C++ FaceLandmarkImg is as far from itself across those kernels (fli.sh under
    # OPENBLAS_CORETYPE SkylakeX, Sandybridge against the Zen reference): landmarks 0.2, eye landmarks 3D 2.5 mm,
    # PDM local 0.21, AU intensity max 0.15 beyond rounding (MAE 0.010), 3 of 306 occurrence cells.
    "image.landmarks_px": (0.2, 0.1, "every family"),
    "image.eye_landmarks_px": (0.4, 0.2, "SkylakeX"),
    "image.landmarks_3d_mm": (0.6, 0.3, "SkylakeX"),
    "image.eye_landmarks_3d_mm": (6.0, 2.8, "Haswell"),
    "image.pose_t_mm": (0.6, 0.3, "SkylakeX"),
    "image.pose_r_rad": (5e-4, 0.0, "all within the rounding"),
    "image.gaze": (8e-3, 3.8e-3, "SkylakeX"),
    "image.gaze_angle_rad": (4e-3, 2e-3, "SkylakeX"),
    "image.params_global": (5e-2, 2.5e-2, "Sandybridge"),
    "image.params_local": (0.6, 0.29, "Haswell"),
    "image.confidence": (1e-3, 0.0, "all within the rounding"),
    # AUs (static models) from those landmarks: largest |intensity| difference beyond the 2-dp rounding, mean
    # |difference| over the 17 x 17 cells, and the share of the 17 x 18 occurrence cells that differ
    "image.au_intensity_max": (0.5, 0.23, "Sandybridge"),
    "image.au_intensity_mae": (3e-2, 1.47e-2, "SkylakeX"),
    "image.au_occurrence_disagreement": (2.7e-2, 1.31e-2, "SkylakeX"),
    # the aligned faces (mean |grey-level difference| of a face's 112x112x3 bitmap, largest face) and their FHOG
    # (1 - correlation with the C++ .hog record, worst face); C++ against itself: 0.156 and 3.5e-3
    "image.aligned_mean_abs": (0.4, 0.191, "SkylakeX"),
    "image.hog_one_minus_r": (1.2e-2, 6.0e-3, "SkylakeX"),
}


def tolerance(name: str) -> float:
    return TOLERANCES[name][0]


def deviation(actual, expected, rounding: float = 0.0, scale=None, relative: float | None = None) -> float:
    """Largest ``|actual - expected|`` beyond ``rounding``, divided by ``scale`` (per element) or, with
    ``relative=eps``, by ``eps + |expected|``."""
    a = np.asarray(actual, dtype=np.float64)
    e = np.asarray(expected, dtype=np.float64)
    d = np.abs(a - e)
    if relative is not None:
        d = d / (relative + np.abs(e))
    d = np.maximum(d - rounding, 0.0)
    if scale is not None:
        d = d / np.asarray(scale, dtype=np.float64)
    return float(d.max()) if d.size else 0.0


def assert_close(name: str, actual, expected, rounding: float = 0.0, scale=None, relative: float | None = None,
                 context: str = "") -> None:
    """Assert that ``actual`` is within the named tolerance of ``expected`` (after ``rounding``).

    The deviation is recorded first when ``AUBENCH_RECORD_DEVIATIONS`` names a file.
    """
    dev = deviation(actual, expected, rounding, scale, relative)
    path = os.environ.get("AUBENCH_RECORD_DEVIATIONS")
    if path:
        with open(path, "a", encoding="utf-8") as fh:
            fh.write(json.dumps({"name": name, "deviation": dev}) + "\n")
    tol = tolerance(name)
    assert dev <= tol, (f"{name}: deviation {dev:.3g} > tolerance {tol:.3g}"
                        + (f" (beyond rounding {rounding:g})" if rounding else "") + (f" [{context}]" if context else "")
                        + "; tolerances come from `python -m experiments.blas_spread` (tests/tolerances.py)")

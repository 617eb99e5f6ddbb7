"""Landmark-stage parity against C++ OpenFace on whole clips (issue 4's figures).

:func:`clip_parity` runs :class:`aubench.pipeline.landmarks.tracker.LandmarkTracker` on
``media/CLIP.*`` and compares every frame with ``reference/CLIP/CLIP.csv`` (the command:
``python -m experiments.landmark_parity CLIP``):

* per-frame mean landmark error (68 points, px): median, p95, max (frames both mark successful);
* head rotation error (max over the 3 Euler angles, degrees) and translation error (mm);
* gaze: angle between our and the C++ unit vectors (both eyes), gaze-angle error (degrees);
* agreement of ``success`` and of ``confidence`` (ours rounded to 2 dp, as written);
* when (re)detection ran, ms per frame (median after frame 1) and NU-RLMS updates per call.

``detector="reference"`` (default) stands in the C++ MTCNN boxes of
``reference/detections/CLIP.csv`` (frames 1-60 only; the widest face, as
``DetectSingleFaceMTCNN``), which isolates the CLNF/tracking path from the detector;
``detector="mtcnn"`` uses ``aubench.pipeline.detect.mtcnn``.

Measured (reference variants, our MTCNN, whole clips): default.wmv 288 frames: landmark
error median 0.042 px, p95 0.051, max 0.37; rotation median 0.027 deg (max 0.63); gaze vector
median 0.041 deg (max 0.70); success and confidence agreement 100 %. 2015-10-15-15-14.avi
842 frames: 0.043 / 0.057 / 0.13 px, rotation 0.028 deg, gaze 0.043 deg (max 1.9), agreement
100 %. multi_face.avi frames 1-600 (detections at frames 1, 13 and 578; the C++ tracking
failures at 578-579 reproduced): 0.040 / 0.046 / 0.53 px, rotation 0.027 deg, agreement 100 %.
With the reference detector the figures are the same. (The CSV's 1-dp rounding alone gives
about 0.035 px.)
"""

from __future__ import annotations

import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import cv2
import numpy as np

from aubench.harness.paths import shared_dir
from aubench.pipeline import config as config_module
from aubench.pipeline import registry
from aubench.pipeline.errors import InputError
from aubench.pipeline.landmarks.gaze import angle_between_deg
from aubench.pipeline.models import locate

POSE_COLUMNS = ("pose_Tx", "pose_Ty", "pose_Tz", "pose_Rx", "pose_Ry", "pose_Rz")
GAZE_COLUMNS = ("gaze_0_x", "gaze_0_y", "gaze_0_z", "gaze_1_x", "gaze_1_y", "gaze_1_z", "gaze_angle_x", "gaze_angle_y")


def read_csv(path: Path) -> dict[str, np.ndarray]:
    with path.open() as fh:
        header = fh.readline().strip().split(",")
    data = np.loadtxt(path, delimiter=",", skiprows=1, ndmin=2)
    return {name: data[:, k] for k, name in enumerate(header)}


class ReferenceDetector:
    """``detect_single`` from the C++ detections CSV (the widest face of the frame, or None)."""

    def __init__(self, path: Path):
        if not path.is_file():
            raise InputError(f"{path}: no reference detections for this clip; use --detector mtcnn")
        self.rows = np.loadtxt(path, delimiter=",", skiprows=1, ndmin=2)
        self.last_frame = int(self.rows[:, 0].max())
        self.frame = 0

    def detect_single(self, bgr: np.ndarray) -> Any:
        if self.frame > self.last_frame:
            raise InputError(
                f"frame {self.frame}: the reference detections stop at frame {self.last_frame}; "
                "use --detector mtcnn for clips that need a later (re)detection"
            )
        rows = self.rows[(self.rows[:, 0] == self.frame) & (self.rows[:, 1] >= 0)]
        if len(rows) == 0:
            return None
        best = rows[0]
        for row in rows[1:]:
            if row[4] > best[4]:
                best = row
        return SimpleNamespace(x=best[2], y=best[3], w=best[4], h=best[5], confidence=best[6])


def compare(results: list[Any], reference: dict[str, np.ndarray]) -> dict[str, Any]:
    """Parity figures of tracker results (one per frame, from frame 1) against a C++ CSV."""
    n = len(results)
    lm_ref = np.stack([np.stack([reference[f"x_{k}"], reference[f"y_{k}"]], axis=1) for k in range(68)], axis=1)[:n]
    success_ref = reference["success"][:n] == 1
    success = np.array([bool(r.success) for r in results])
    both = success & success_ref
    lm = np.array([r.landmarks for r in results])
    err = np.linalg.norm(lm - lm_ref, axis=2).mean(axis=1)
    pose = np.array([r.pose for r in results])
    pose_ref = np.stack([reference[k] for k in POSE_COLUMNS], axis=1)[:n]
    rot_err = np.degrees(np.abs(pose[:, 3:] - pose_ref[:, 3:]).max(axis=1))
    trans_err = np.abs(pose[:, :3] - pose_ref[:, :3]).max(axis=1)
    gaze_ref = np.stack([reference[k] for k in GAZE_COLUMNS], axis=1)[:n]
    g0 = angle_between_deg(np.array([r.gaze_0 for r in results])[both], gaze_ref[both, 0:3])
    g1 = angle_between_deg(np.array([r.gaze_1 for r in results])[both], gaze_ref[both, 3:6])
    gaze_vec = np.concatenate([g0, g1])
    gaze_angle = np.degrees(np.abs(np.array([r.gaze_angle for r in results]) - gaze_ref[:, 6:8]).max(axis=1))[both]
    confidence = np.array([float(r.confidence) for r in results])
    iterations = [u for r in results for u in getattr(r, "iterations", [])]

    def stats(values: np.ndarray) -> dict[str, float]:
        if values.size == 0:
            return {"median": float("nan"), "p95": float("nan"), "max": float("nan")}
        return {"median": float(np.median(values)), "p95": float(np.percentile(values, 95)), "max": float(values.max())}

    return {
        "frames": n,
        "frames_both_successful": int(both.sum()),
        "success_agreement": float(np.mean(success == success_ref)) if n else float("nan"),
        "confidence_agreement": (float(np.mean(np.abs(np.round(confidence, 2) - reference["confidence"][:n]) < 0.006))
                                 if n else float("nan")),
        "landmark_error_px": stats(err[both]),
        "rotation_error_deg": stats(rot_err[both]),
        "translation_error_mm": stats(trans_err[both]),
        "gaze_vector_error_deg": stats(gaze_vec),
        "gaze_angle_error_deg": stats(gaze_angle),
        "detections_at": [i + 1 for i, r in enumerate(results) if getattr(r, "detected", False)],
        "nu_rlms_updates": {"calls": len(iterations), "mean": float(np.mean(iterations)) if iterations else float("nan"),
                            "fraction_at_max": (float(np.mean(np.array(iterations) == max(iterations)))
                                                if iterations else float("nan"))},
    }


def clip_parity(clip: str, frames: int | None = None, detector: str = "reference",
                config: config_module.Config | None = None, shared: Path | None = None) -> dict[str, Any]:
    """Run the tracker on a reference clip and compare it with the C++ CSV."""
    from aubench.pipeline.landmarks.tracker import LandmarkTracker

    shared = shared or shared_dir()
    config = config or config_module.Config()
    videos = sorted((shared / "media").glob(f"{clip}.*"))
    if not videos:
        raise InputError(f"{shared / 'media'}: no video named {clip}.*; give one of the reference clips")
    reference = read_csv(shared / "reference" / clip / f"{clip}.csv")
    kernels = registry.resolve(config.variant_selection)
    det = ReferenceDetector(shared / "reference/detections" / f"{clip}.csv") if detector == "reference" else None
    tracker = LandmarkTracker(locate(), config, kernels, detector=det)
    cap = cv2.VideoCapture(str(videos[0]))
    results, ms = [], []
    try:
        while frames is None or len(results) < frames:
            ok, bgr = cap.read()
            if not ok:
                break
            if det is not None:
                det.frame = len(results) + 1
            start = time.perf_counter()
            results.append(tracker.track(bgr, cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY)))
            ms.append((time.perf_counter() - start) * 1000.0)
    finally:
        cap.release()
    out = {"clip": clip, "detector": detector, "config": config.name, **compare(results, reference)}
    out["ms_per_frame_median"] = float(np.median(ms[1:])) if len(ms) > 1 else float("nan")
    out["ms_first_frame"] = float(ms[0]) if ms else float("nan")
    return out

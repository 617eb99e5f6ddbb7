"""Still-image landmark parity: our MTCNN + CLNF on sample*.jpg against C++ FaceLandmarkImg.

FaceLandmarkImg (OpenFace 2.2) detects every face with MTCNN and fits each box with
``DetectLandmarksInImage`` without the multi-view hypotheses (only the frontal
start), so that is what is run here. Each C++ face is matched to our face with the
nearest landmark centroid; the figure per face is the mean distance over the 68
landmarks (px). The C++ CSV writes landmarks with 1 decimal, so ~0.03 px is the
precision floor. The command: ``python -m experiments.image_landmark_parity``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import cv2
import numpy as np

from aubench.pipeline import config as config_module
from aubench.pipeline import registry
from aubench.pipeline.errors import InputError
from aubench.pipeline.io.openface_csv import read_openface_csv
from aubench.pipeline.models import locate


def image_parity(image: Path, reference_csv: Path, config: config_module.Config,
                 kernels: registry.Kernels, detector, clnf) -> list[dict[str, Any]]:
    """One row per C++ face of ``image``: its error against our nearest face."""
    bgr = cv2.imread(str(image), cv2.IMREAD_COLOR)
    if bgr is None:
        raise InputError(f"{image}: cannot be read as an image; give one of the sample*.jpg")
    gray = cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY).astype(np.float32)
    ours = []
    for det in detector.detect(bgr):
        fit = clnf.detect_from_box(gray, (det.x, det.y, det.w, det.h), multi_view=False)
        ours.append(np.asarray(fit.landmarks, np.float64))
    theirs = read_openface_csv(reference_csv).landmarks_2d()
    rows = []
    for face, ref in enumerate(theirs):
        if not ours:
            rows.append({"image": image.name, "face": face, "error_px": float("inf")})
            continue
        centre = ref.mean(axis=0)
        best = min(ours, key=lambda lm: float(np.linalg.norm(lm.mean(axis=0) - centre)))
        rows.append({"image": image.name, "face": face,
                     "error_px": float(np.linalg.norm(best - ref, axis=1).mean())})
    return rows


def run(shared: Path, config: config_module.Config) -> dict[str, Any]:
    from aubench.pipeline.detect.mtcnn import MTCNNDetector
    from aubench.pipeline.landmarks.clnf import CLNF

    kernels = registry.resolve(config.variant_selection)
    models = locate()
    detector = MTCNNDetector(models, config.detector, kernels)
    clnf = CLNF(models, config.landmarks, kernels)
    rows = []
    for image in sorted((shared / "media").glob("sample*.jpg")):
        rows += image_parity(image, shared / "reference" / "images" / f"{image.stem}.csv", config, kernels,
                             detector, clnf)
    errors = np.array([r["error_px"] for r in rows])
    return {"faces": len(rows), "median_px": float(np.median(errors)), "p95_px": float(np.percentile(errors, 95)),
            "max_px": float(errors.max()), "per_face": rows}

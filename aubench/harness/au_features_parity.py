"""Parity of the AU appearance features alone: face alignment and FHOG against C++ OpenFace.

Driven by the C++ landmarks of ``reference/CLIP/CLIP.csv`` (``x_0..y_67``, written with
0.1 px precision, so our PDM fit and warp see landmarks up to 0.05 px off),
:func:`clip_parity` gives per clip:

- aligned faces (``AlignFaceMask``, 112x112, scale 0.7) against the C++ ``-simalign``
  BMPs of frames 1-100 (successful frames only: ``-nobadaligned``): per-frame mean
  absolute difference (grey levels, over all pixels and channels), max pixel difference
  and the share of differing pixel values;
- FHOG of our aligned face against the C++ ``.hog`` file, every successful frame:
  per-frame Pearson correlation and max abs difference; failed frames must be all zero;
- FHOG of C++'s own aligned BMPs (frames 1-100) against the ``.hog`` file (isolates the
  FHOG from the alignment).

:func:`trace_parity`: the three traced dlib inputs/outputs (``trace/fhog``) and the exact
(unrounded) landmarks of default.wmv frames 1-3 (``trace/clnf``) -> aligned faces.
:func:`bench`: per variant of ``fhog`` (the three traced 112x112 faces) and ``face_mask``
(the mesh on default.wmv frames 1-3), the first call (Numba compile or cache load) apart,
then the median and p90 ms of ``repeats`` calls; plus the warp (``similarity_warp`` +
``cv2.warpAffine``).

The command: ``python -m experiments.au_features_parity [CLIP ...] [--trace] [--bench]``.
"""

from __future__ import annotations

import time
from pathlib import Path

import cv2
import numpy as np

from aubench.harness.paths import shared_dir
from aubench.harness.stats import pearson_r
from aubench.pipeline import registry
from aubench.pipeline.au.align import align_face_mask
from aubench.pipeline.errors import InputError
from aubench.pipeline.io.frames import open_input
from aubench.pipeline.io.hog_file import read_hog
from aubench.pipeline.io.openface_csv import read_openface_csv
from aubench.pipeline.landmarks.pdm import calc_params
from aubench.pipeline.models.pdm import read_pdm
from aubench.pipeline.models.triangulation import read_triangulation

CLIPS = ("default", "2015-10-15-15-14", "multi_face")
ALIGNED_FRAMES = 100  # the reference keeps the aligned BMPs of frames 1-100 only


def _media(shared: Path, clip: str) -> Path:
    matches = sorted((shared / "media").glob(f"{clip}.*"))
    if not matches:
        raise InputError(f"{shared / 'media'}: no video named {clip}.*; put OpenFace's sample videos there")
    return matches[0]


def _stats(values: list[float]) -> dict:
    if not values:
        return {"n": 0}
    v = np.asarray(values, dtype=np.float64)
    return {"n": int(v.size), "mean": float(v.mean()), "median": float(np.median(v)),
            "min": float(v.min()), "p05": float(np.percentile(v, 5)), "p95": float(np.percentile(v, 95)),
            "max": float(v.max())}


def clip_parity(clip: str, models: Path, kernels, frames: int | None = None) -> dict:
    """Every figure of one clip (see the module docstring); ``kernels``: resolved ``fhog`` and ``face_mask``."""
    fhog = kernels.fhog
    shared = shared_dir()
    ref = shared / "reference" / clip
    table = read_openface_csv(ref / f"{clip}.csv")
    landmarks = table.landmarks_2d().astype(np.float32)
    success = table.success.astype(bool)
    hog = read_hog(ref / f"{clip}.hog")
    pdm = read_pdm(models / "AU_predictors" / "In-the-wild_aligned_PDM_68.txt")
    tri = read_triangulation(models / "AU_predictors" / "tris_68_full.txt")

    aligned_mad, aligned_max, aligned_share, cpp_bmp_hog_diff = [], [], [], []
    hog_corr, hog_maxdiff = [], []
    failed_nonzero = 0
    n = 0
    for frame in open_input(_media(shared, clip)):
        k = frame.number - 1
        if k >= len(table) or (frames is not None and k >= frames):
            break
        n += 1
        ref_cells = hog.descriptors[k]
        if not success[k]:
            failed_nonzero += int(np.count_nonzero(ref_cells))
            continue
        params_global, _ = calc_params(pdm, landmarks[k])
        ours = align_face_mask(frame.bgr, landmarks[k], params_global, pdm, tri, kernels=kernels)
        cells = fhog(ours)
        hog_corr.append(pearson_r(cells.reshape(-1).astype(np.float64), ref_cells.reshape(-1).astype(np.float64)))
        hog_maxdiff.append(float(np.abs(cells - ref_cells).max()))
        bmp_path = ref / f"{clip}_aligned" / f"frame_det_00_{frame.number:06d}.bmp"
        if frame.number <= ALIGNED_FRAMES and bmp_path.is_file():
            bmp = cv2.imread(str(bmp_path), cv2.IMREAD_COLOR)
            d = np.abs(ours.astype(np.int16) - bmp.astype(np.int16))
            aligned_mad.append(float(d.mean()))
            aligned_max.append(float(d.max()))
            aligned_share.append(float(np.count_nonzero(d)) / d.size)
            cpp_bmp_hog_diff.append(float(np.abs(fhog(bmp) - ref_cells).max()))
    return {
        "clip": clip, "frames": n, "successful": int(success[:n].sum()),
        "aligned_vs_cpp_bmp": {"mean_abs_diff": _stats(aligned_mad), "max_pixel_diff": _stats(aligned_max),
                               "share_of_differing_values": _stats(aligned_share)},
        "hog_vs_cpp": {"correlation": _stats(hog_corr), "max_abs_diff": _stats(hog_maxdiff),
                       "share_correlation_at_least_0.999": float(np.mean(np.asarray(hog_corr) >= 0.999))
                       if hog_corr else float("nan")},
        "hog_of_cpp_bmp_vs_cpp_hog_max_abs_diff": _stats(cpp_bmp_hog_diff),
        "failed_frames_nonzero_hog_values": failed_nonzero,
    }


def trace_parity(models: Path, kernels) -> dict:
    """Exact inputs: dlib's traced FHOG cases and default.wmv frames 1-3 with unrounded landmarks."""
    fhog = kernels.fhog
    shared = shared_dir()
    trace = shared / "reference" / "trace"
    out = {"fhog_max_abs_diff": {}, "aligned_exact_landmarks_max_pixel_diff": {},
           "hog_exact_landmarks_vs_cpp_hog_max_abs_diff": {}, "hog_csv_landmarks_vs_cpp_hog_correlation": {}}
    for path in sorted((trace / "fhog").glob("frame*_input.npy")):
        name = path.name.split("_")[0]
        expected = np.load(path.with_name(f"{name}_dlib_fhog.npy"))
        out["fhog_max_abs_diff"][name] = float(np.abs(fhog(np.load(path)) - expected).max())
    pdm = read_pdm(models / "AU_predictors" / "In-the-wild_aligned_PDM_68.txt")
    tri = read_triangulation(models / "AU_predictors" / "tris_68_full.txt")
    ref = shared / "reference" / "default"
    hog = read_hog(ref / "default.hog")
    csv_landmarks = read_openface_csv(ref / "default.csv").landmarks_2d().astype(np.float32)
    for frame in open_input(_media(shared, "default")):
        lm_path = trace / "clnf" / f"frame{frame.number:04d}" / "final_landmarks_as_recorded.npy"
        if not lm_path.is_file():
            break
        lm = np.load(lm_path)
        ours = align_face_mask(frame.bgr, lm, calc_params(pdm, lm)[0], pdm, tri, kernels=kernels)
        bmp = cv2.imread(str(ref / "default_aligned" / f"frame_det_00_{frame.number:06d}.bmp"))
        key = f"frame{frame.number:04d}"
        out["aligned_exact_landmarks_max_pixel_diff"][key] = int(np.abs(ours.astype(np.int16) - bmp.astype(np.int16)).max())
        ref_cells = hog.descriptors[frame.number - 1]
        out["hog_exact_landmarks_vs_cpp_hog_max_abs_diff"][key] = float(np.abs(fhog(ours) - ref_cells).max())
        # the same frame from the CSV's rounded landmarks: what the 0.1 px precision alone costs
        lm = csv_landmarks[frame.number - 1]
        rounded = align_face_mask(frame.bgr, lm, calc_params(pdm, lm)[0], pdm, tri, kernels=kernels)
        out["hog_csv_landmarks_vs_cpp_hog_correlation"][key] = pearson_r(
            fhog(rounded).reshape(-1).astype(np.float64), ref_cells.reshape(-1).astype(np.float64))
    return out


def _time_calls(fn, inputs: list[tuple], repeats: int) -> dict:
    start = time.perf_counter()
    fn(*inputs[0])
    first_ms = (time.perf_counter() - start) * 1000.0
    times = []
    for k in range(repeats):
        args = inputs[k % len(inputs)]
        start = time.perf_counter()
        fn(*args)
        times.append((time.perf_counter() - start) * 1000.0)
    return {"first_call_ms": round(first_ms, 3), "median_ms": round(float(np.median(times)), 4),
            "p90_ms": round(float(np.percentile(times, 90)), 4), "calls": repeats}


def bench(models: Path, repeats: int) -> dict:
    """Milliseconds per call of every available ``fhog`` and ``face_mask`` variant, and of the warp."""
    from aubench.pipeline.au.align import mask_landmarks, similarity_warp, warp_face

    shared = shared_dir()
    trace = shared / "reference" / "trace"
    faces = [(np.load(p),) for p in sorted((trace / "fhog").glob("frame*_input.npy"))]
    pdm = read_pdm(models / "AU_predictors" / "In-the-wild_aligned_PDM_68.txt")
    tri = read_triangulation(models / "AU_predictors" / "tris_68_full.txt")
    frames = {f.number: f.bgr for f in _first_frames(_media(shared, "default"), 3)}
    align = registry.reference_kernels().align_shapes  # the warp is timed with the reference similarity
    masks, warps = [], []
    for number, bgr in frames.items():
        lm = np.load(trace / "clnf" / f"frame{number:04d}" / "final_landmarks_as_recorded.npy")
        g = calc_params(pdm, lm)[0]
        warp = similarity_warp(lm, g, pdm, align=align)
        masks.append((mask_landmarks(lm, warp, 0.7), tri, 112, 112))
        warps.append((bgr, lm, g))
    out: dict = {}
    for kernel, inputs in (("fhog", faces), ("face_mask", masks)):
        for name, variant in registry.kernels()[kernel].variants.items():
            if variant.unavailable_reason() is None:
                out[f"{kernel}={name}"] = _time_calls(variant.load(), inputs, repeats)
    out["warp (similarity_warp + warpAffine)"] = _time_calls(
        lambda bgr, lm, g: warp_face(bgr, similarity_warp(lm, g, pdm, align=align), 112, 112), warps, repeats)
    return out


def _first_frames(path: Path, n: int):
    for frame in open_input(path):
        if frame.number > n:
            break
        yield frame

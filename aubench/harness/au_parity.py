"""AU-stage parity against C++ OpenFace, driven by the C++ landmarks of a reference clip.

:func:`clip_parity` runs :class:`aubench.pipeline.au.analyser.FaceAnalyser` on every frame of
``media/CLIP.*`` with the landmarks and success flags of ``reference/CLIP/CLIP.csv``,
post-processes the video as FeatureExtraction does and compares the AU columns with the C++
CSV: per-AU Pearson r and MAE of ``AUxx_r``, agreement of ``AUxx_c`` (ours rounded to 2 dp, as
written; frames the CSV marks successful). Also per-frame HOG correlation / max abs difference
against ``CLIP.hog`` and, for frames 1-100, the mean absolute difference of the aligned faces.
The command: ``python -m experiments.au_parity CLIP`` (its flags select the functions below).

The landmarks are by default recovered from the CSV's rounded records (0.1-px landmarks,
0.001 PDM parameters, 0.1-mm 3D landmarks: :mod:`aubench.pipeline.landmarks.recorded`), which puts
them 0.001-0.005 px from the ones C++ used instead of 0.03 px; ``unround=False``
(``--raw-landmarks``) uses the CSV's landmarks as written.

Measured (fast variants, whole clips; default / 2015-10-15-15-14 / multi_face): AU r min
0.9986 / 0.9963 / 0.9983, MAE max 0.008 / 0.012 / 0.013, occurrence agreement min
97.2 % / 98.9 % / 98.9 % (AU17, AU17, AU23), HOG correlation min 0.9991 / 0.9985 / 0.9978
with 0 / 9 / 17 frames below 0.999. With the raw CSV landmarks: r min 0.987, agreement
93.75 %, 160 of 288 default frames below 0.999.

:func:`roundtrip_floor` (``--roundtrip``) measures the floor of any CSV-driven check: our
tracked run against its own replay through its CSV (both ours, so every difference is the
CSV's rounding). It gives HOG correlation min 0.9984 / 0.9987 / 0.9985 and occurrence
agreement min 97.2 % / 98.8 % / 99.0 % (AU17 on default and 2015): the comparison with C++
sits on that floor.

``hog_from_reference`` (``--hog-from-reference``) takes each frame's FHOG from the C++
``.hog`` file instead of aligning and computing it (isolates the geometry and calibration
path: the only input then not C++'s is the PDM fit to the CSV's 0.1-px landmarks).

:func:`image_parity` (``--images``): image mode (static models) on sample1-6 from the CSV
landmarks. :func:`online_replay` (``--online``) replays default.wmv's C++ HOG and geometry
descriptors (``trace/au``) through the running medians, predictors and post-processing and
reports the differences (expected: ~1e-14 online, 0 final cells). :func:`bench`
(``--bench``) times the median update and the prediction per frame for each variant
selection.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from aubench.harness.au_reference import (
    MEDIAN_FRAMES,
    csv_landmarks,
    load_online_trace,
    read_csv_columns,
    read_csv_text,
    read_hog_file,
)
from aubench.harness.paths import shared_dir
from aubench.harness.stats import pearson_r
from aubench.pipeline import config as config_module
from aubench.pipeline import registry
from aubench.pipeline.au.analyser import FaceAnalyser
from aubench.pipeline.au.calibration import RunningMedians, updates_median
from aubench.pipeline.au.postprocess import format_au, offline_intensity, offline_occurrence
from aubench.pipeline.au.predictors import AUPredictor
from aubench.pipeline.errors import InputError
from aubench.pipeline.io.frames import open_input
from aubench.pipeline.models import locate
from aubench.pipeline.models.au_models import read_au_models

CLIPS = ("default", "2015-10-15-15-14", "multi_face")


def _media(shared: Path, clip: str, extensions=(".wmv", ".avi", ".mp4")) -> Path:
    for ext in extensions:
        p = shared / "media" / f"{clip}{ext}"
        if p.is_file():
            return p
    raise InputError(f"{shared / 'media'}: no video named {clip}.*; clips: {', '.join(CLIPS)}")


class _ReferenceHogAnalyser(FaceAnalyser):
    """FaceAnalyser whose FHOG is the C++ one of the frame (no alignment)."""

    def __init__(self, *args, reference_hog: np.ndarray, **kwargs):
        super().__init__(*args, **kwargs)
        self._reference_hog = reference_hog
        self._frame = 0
        self.kernels = registry.Kernels(
            {"fhog": lambda img, *args: self._reference_hog[self._frame].reshape(12, 12, 31),
             "au_predict": self.kernels.au_predict, "running_median": self.kernels.running_median,
             "face_mask": self.kernels.face_mask},
            {**self.kernels.selection, "fhog": "C++ .hog"})

    def _align(self, bgr, landmarks, params_global, scale, size, mask, timer=None):
        return np.zeros((size, size, 3), np.uint8)

    def add_next_frame(self, *args, **kwargs):
        result = super().add_next_frame(*args, **kwargs)
        self._frame += 1
        return result


def _frames(video: Path, limit: int | None):
    import cv2

    cap = cv2.VideoCapture(str(video))
    if not cap.isOpened():
        raise InputError(f"{video}: OpenCV cannot open it; give a readable video")
    k = 0
    try:
        while limit is None or k < limit:
            ok, frame = cap.read()
            if not ok:
                break
            yield frame
            k += 1
    finally:
        cap.release()


def _analyse(clip: str, landmarks: np.ndarray, successes: np.ndarray, timestamps: np.ndarray,
             kernels: registry.Kernels, hog_from_reference: bool, n: int, shared: Path,
             compare_hog: bool = True) -> dict:
    """Run FaceAnalyser over the first n frames of CLIP; post-processed AUs, HOG/aligned figures, stage times."""
    from aubench.pipeline.timing import StageTimer

    ref_dir = shared / "reference" / clip
    _, ref_hog = read_hog_file(ref_dir / f"{clip}.hog")
    cfg = config_module.Config()
    models = locate(None)
    if hog_from_reference:
        fa = _ReferenceHogAnalyser(models, cfg.analyser, kernels, reference_hog=ref_hog)
        source = (np.zeros((480, 640, 3), np.uint8) for _ in range(n))
    else:
        fa = FaceAnalyser(models, cfg.analyser, kernels)
        source = _frames(_media(shared, clip), n)
    timer = StageTimer()
    hog_corr, hog_maxdiff, aligned_mad = [], [], []
    for k, frame in enumerate(source):
        r = fa.add_next_frame(frame, landmarks[k], bool(successes[k]), float(timestamps[k]), timer=timer)
        timer.next_frame()
        if compare_hog and not hog_from_reference:
            ours = r.hog.reshape(-1).astype(np.float64)
            theirs = ref_hog[k].astype(np.float64)
            if successes[k]:
                hog_corr.append(pearson_r(ours, theirs))
            hog_maxdiff.append(float(np.abs(ours - theirs).max()))
            img = ref_dir / f"{clip}_aligned" / f"frame_det_00_{k + 1:06d}.bmp"
            if successes[k] and img.is_file():
                import cv2

                aligned_mad.append(float(np.abs(cv2.imread(str(img)).astype(float) - r.aligned_bgr.astype(float)).mean()))
    if fa.frames_tracking == 0:
        raise InputError(f"{clip}: no frames analysed")
    per_stage = {stage: float(np.mean(ms)) for stage, ms in timer.per_frame().items()}
    out = {"post": fa.postprocess(), "frames": fa.frames_tracking,
           "stage_ms_per_frame": per_stage, "au_stage_ms_per_frame": float(sum(per_stage.values()))}
    if hog_corr:
        out["hog"] = {"correlation_min": float(np.min(hog_corr)), "correlation_median": float(np.median(hog_corr)),
                      "frames_below_0.999": int(np.sum(np.array(hog_corr) < 0.999)), "frames": len(hog_corr),
                      "max_abs_diff": float(np.max(hog_maxdiff))}
    if aligned_mad:
        out["aligned"] = {"mean_abs_diff_mean": float(np.mean(aligned_mad)),
                          "mean_abs_diff_max": float(np.max(aligned_mad)), "frames": len(aligned_mad)}
    return out


def _au_figures(post, reference: dict[str, np.ndarray], ok: np.ndarray) -> dict:
    """Per-AU r / MAE / max of ``_r`` and agreement of ``_c``, ours rounded to 2 dp as written."""
    au = {}
    for name, values in post.intensity.items():
        ours = np.array([float(format_au(v)) for v in values])[ok]
        theirs = reference[f"{name}_r"][ok]
        au[f"{name}_r"] = {"r": pearson_r(ours, theirs), "mae": float(np.abs(ours - theirs).mean()),
                           "max_abs": float(np.abs(ours - theirs).max())}
    for name, values in post.occurrence.items():
        ours = np.array([float(format_au(v)) for v in values])[ok]
        au[f"{name}_c"] = {"agreement": float((ours == reference[f"{name}_c"][ok]).mean())}
    return au


def clip_parity(clip: str, selection: dict[str, str] | None = None, hog_from_reference: bool = False,
                frames: int | None = None, shared: Path | None = None, unround: bool = True) -> dict:
    """Run the AU stage on CLIP with the C++ landmarks and compare with the C++ CSV.

    ``unround``: the landmarks recovered from the CSV's rounded records
    (:mod:`aubench.pipeline.landmarks.recorded`); False: the 0.1-px landmarks as written.
    """
    shared = shared or shared_dir()
    columns = read_csv_columns(shared / "reference" / clip / f"{clip}.csv")
    with open_input(_media(shared, clip)) as source:
        size = (source.width, source.height)
    landmarks = csv_landmarks(columns, unround=unround, image_size=size)
    successes = columns["success"] != 0
    n = len(successes) if frames is None else min(frames, len(successes))
    kernels = registry.resolve(selection or {})
    run = _analyse(clip, landmarks, successes, columns["timestamp"], kernels, hog_from_reference, n, shared)
    n = run["frames"]
    ok = successes[:n]
    # C++ columns of a shortened run are not comparable after post-processing (whole-video medians)
    text = read_csv_text(shared / "reference" / clip / f"{clip}.csv")
    reference = {k: np.array([float(v) for v in text[k][:n]]) for k in text if k.startswith("AU")}
    out = {
        "clip": clip, "frames": int(n), "successful": int(ok.sum()), "whole_video": n == len(successes),
        "hog_from_reference": hog_from_reference, "landmarks_unrounded": unround,
        "variants": kernels.selection,
        "au_stage_ms_per_frame": run["au_stage_ms_per_frame"], "stage_ms_per_frame": run["stage_ms_per_frame"],
        "au": _au_figures(run["post"], reference, ok),
    }
    for key in ("hog", "aligned"):
        if key in run:
            out[key] = run[key]
    return out


def roundtrip_floor(clip: str, config: str = "fast", shared: Path | None = None, frames: int | None = None,
                    work_dir: Path | None = None) -> dict:
    """What a CSV-driven AU check can show at best: our pipeline against itself through a CSV.

    Run 1: our tracker and AU stage on CLIP (the AU stage gets the exact landmarks), CSV and
    ``.hog`` written with OpenFace's rounding. Run 2: ``--landmarks-from`` that CSV (the same
    replay, unrounding included, that drives the check against C++). The parity of run 2
    against run 1 is the floor the C++ comparison sits on: C++ also fed its AU stage
    landmarks of which the CSV keeps only a rounded record.
    """
    import tempfile

    from aubench.harness import parity
    from aubench.pipeline.extract import run

    shared = shared or shared_dir()
    media = _media(shared, clip)
    cfg = config_module.with_overrides(config_module.load_any(config), output={"hogalign": True})
    with tempfile.TemporaryDirectory(dir=work_dir) as tmp:
        tracked = run(media, Path(tmp) / "tracked", cfg, frames=frames, progress=False)
        replayed = run(media, Path(tmp) / "replayed", cfg, frames=frames, landmarks_from=tracked.csv, progress=False)
        figures = parity.compare(replayed.csv, tracked.csv, series=False)
    return {"clip": clip, "config": config, "frames": figures["frames"], "au": figures["au"], "hog": figures["hog"]}


def online_replay(selection: dict[str, str] | None = None, shared: Path | None = None) -> dict:
    """default.wmv: C++ HOG + C++ geometry -> medians, online predictions, final AU cells."""
    shared = shared or shared_dir()
    trace = load_online_trace(shared / "reference" / "trace")
    _, hog = read_hog_file(shared / "reference" / "default" / "default.hog")
    models = read_au_models(locate(None) / "AU_predictors" / "main_dynamic_svms.txt")
    predictor = AUPredictor(models)
    kernels = registry.resolve(selection or {})
    medians = RunningMedians()
    T = len(trace.successes)
    online_err, class_bad, median_bad = 0.0, 0, 0
    for f in range(T):
        h, g = hog[f].astype(np.float64), trace.geometry[f]
        if updates_median(f + 1):
            medians.update(kernels, h, g, 0, bool(trace.successes[f]))
        if f + 1 in MEDIAN_FRAMES:
            median_bad += int(np.count_nonzero(medians.hog_median != trace.hog_medians[f + 1]))
            median_bad += int(np.count_nonzero(medians.geom_median != trace.geom_medians[f + 1]))
        v = predictor.predict(kernels, h, g, medians.hog_median, medians.geom_median)
        for name, x in v.intensity.items():
            online_err = max(online_err, abs(x - trace.intensity[name][f]))
        class_bad += sum(x != trace.occurrence[name][f] for name, x in v.occurrence.items())
    reg = {n: np.zeros(T) for n in predictor.intensity_names}
    cls = {n: np.zeros(T) for n in predictor.occurrence_names}
    for f in np.flatnonzero(trace.successes):
        v = predictor.predict(kernels, hog[f], trace.geometry[f], medians.hog_median, medians.geom_median)
        for name, x in v.intensity.items():
            reg[name][f] = x
        for name, x in v.occurrence.items():
            cls[name][f] = x
    final_r = offline_intensity(reg, trace.successes, models.intensity_cutoffs)
    final_c = offline_occurrence(cls)
    text = read_csv_text(shared / "reference" / "default" / "default.csv")
    cells = sum(format_au(x) != e for n, vals in final_r.items() for x, e in zip(vals, text[f"{n}_r"]))
    cells += sum(format_au(x) != e for n, vals in final_c.items() for x, e in zip(vals, text[f"{n}_c"]))
    return {"frames": T, "online_intensity_max_abs_diff": online_err, "online_class_mismatches": int(class_bad),
            "median_values_differing_at_frames_1_50_100_288": median_bad,
            "final_au_cells_differing": int(cells), "final_au_cells": T * (len(final_r) + len(final_c)),
            "variants": kernels.selection}


def image_parity(selection: dict[str, str] | None = None, shared: Path | None = None,
                 hog_from_reference: bool = False, unround: bool = True) -> dict:
    """FaceLandmarkImg (static models, no calibration, ``FaceAnalyser.predict_static``): every
    face of sample1-6 from its CSV landmarks, against ``reference/images/sampleN.csv``
    (``_r`` 2 dp, ``_c`` 1 dp). ``hog_from_reference``: the C++ HOG instead of ours."""
    import cv2

    shared = shared or shared_dir()
    root = shared / "reference" / "images"
    kernels = registry.resolve(selection or {})
    fa = FaceAnalyser(locate(None), config_module.Config().analyser, kernels, dynamic=False)
    faces, r_cells, c_cells, max_abs = 0, 0, 0, 0.0
    for path in sorted(root.glob("sample*.csv")):
        columns, text = read_csv_columns(path), read_csv_text(path)
        _, hog = read_hog_file(path.with_suffix(".hog"))
        image = cv2.imread(str(_media(shared, path.stem, (".jpg", ".png"))))
        size = (image.shape[1], image.shape[0])
        for k, landmarks in enumerate(csv_landmarks(columns, unround=unround, image_size=size)):
            if hog_from_reference:
                from aubench.pipeline.au.geometry import fit_geometry

                _, _, geometry = fit_geometry(fa.pdm, landmarks, fa._calc_params)
                v = fa.predictor.predict(kernels, hog[k], geometry)
                intensity = {n: min(max(x, 0.0), 5.0) for n, x in v.intensity.items()}
                occurrence = v.occurrence
            else:
                r = fa.predict_static(image, landmarks)
                intensity, occurrence = r.au_intensity, r.au_occurrence
            for name, x in intensity.items():
                max_abs = max(max_abs, abs(x - float(text[f"{name}_r"][k])))
                r_cells += f"{x:.2f}" != text[f"{name}_r"][k]
            c_cells += sum(f"{x:.1f}" != text[f"{name}_c"][k] for name, x in occurrence.items())
            faces += 1
    return {"faces": faces, "hog_from_reference": hog_from_reference, "landmarks_unrounded": unround,
            "intensity_cells_differing": int(r_cells),
            "intensity_cells": faces * len(fa.intensity_names), "intensity_max_abs_diff": max_abs,
            "occurrence_cells_differing": int(c_cells), "occurrence_cells": faces * len(fa.occurrence_names)}


def bench(selections: list[dict[str, str]], shared: Path | None = None) -> list[dict]:
    """ms/frame of the running-median update (every other frame, averaged) and the prediction."""
    shared = shared or shared_dir()
    trace = load_online_trace(shared / "reference" / "trace")
    _, hog = read_hog_file(shared / "reference" / "default" / "default.hog")
    hog = hog.astype(np.float64)
    predictor = AUPredictor(read_au_models(locate(None) / "AU_predictors" / "main_dynamic_svms.txt"))
    rows = []
    for selection in selections:
        kernels = registry.resolve(selection)
        t0 = time.perf_counter()
        warm = RunningMedians()
        warm.update(kernels, hog[0], trace.geometry[0], 0, True)
        predictor.predict(kernels, hog[0], trace.geometry[0], warm.hog_median, warm.geom_median)
        warmup = time.perf_counter() - t0
        medians = RunningMedians()
        t_median = t_predict = 0.0
        for f in range(len(hog)):
            a = time.perf_counter()
            if updates_median(f + 1):
                medians.update(kernels, hog[f], trace.geometry[f], 0, bool(trace.successes[f]))
            b = time.perf_counter()
            predictor.predict(kernels, hog[f], trace.geometry[f], medians.hog_median, medians.geom_median)
            c = time.perf_counter()
            t_median += b - a
            t_predict += c - b
        n = len(hog)
        rows.append({"variants": kernels.selection, "median_ms_per_frame": 1000 * t_median / n,
                     "predict_ms_per_frame": 1000 * t_predict / n,
                     "total_ms_per_frame": 1000 * (t_median + t_predict) / n, "warmup_s": warmup})
    return rows

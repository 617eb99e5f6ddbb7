"""CLNF fitting against the C++ trace of default.wmv frames 1-3 (trace/clnf)."""

from __future__ import annotations

import csv
import dataclasses

import numpy as np
import pytest

from aubench.pipeline import registry
from aubench.pipeline.config import LandmarkParameters
from aubench.pipeline.landmarks.clnf import CLNF, ROTATION_HYPOTHESES, part_parameters
from aubench.pipeline.timing import StageTimer

from ...conftest import MODELS, TRACE
from ...tolerances import assert_close
from .test_patch_experts import default_gray_frames

CLNF_TRACE = TRACE / "clnf"
FAST = {"patch_response": "numba", "mean_shift": "numba"}


def _info(path) -> dict[str, str]:
    return dict(t.split("=", 1) for t in path.read_text().split() if "=" in t)


@pytest.fixture(scope="module")
def frames():
    return default_gray_frames(3)


@pytest.fixture(scope="module")
def clnf():
    return CLNF(MODELS, LandmarkParameters(), registry.resolve(FAST))


def _model(clnf, name):
    if name == "main":
        return clnf.main, clnf.params
    for part_name, _, model, params in clnf.parts:
        if part_name == name:
            return model, params
    raise KeyError(name)


@pytest.mark.parametrize("scale_dir", [
    "frame0001/detect/hyp00/main/scale0",
    "frame0001/detect/hyp00/main/scale2",  # computes the likelihood
    "frame0001/detect/hyp00/inner/scale0",  # weighted (weight_factor 2.5)
    "frame0001/detect/hyp00/left_eye_28/scale1",
    "frame0001/detect/hyp03/main/scale1",  # profile view, invisible points
    "frame0003/track/main/scale2",  # the one early stop of the trace (rigid, 2 updates)
])
def test_nu_rlms_matches_trace(clnf, scale_dir):
    d = CLNF_TRACE / scale_dir
    model, params = _model(clnf, d.parent.name)
    info = _info(d / "info.txt")
    scale = int(info["scale_index"])
    settings = model.scale_settings(scale, int(info["window_size"]), int(info["view_id"]), params)
    assert settings.sigma == pytest.approx(float(info["sigma"]), abs=1e-6)
    assert settings.reg_factor == pytest.approx(float(info["reg_factor"]), abs=1e-5)
    assert settings.weight_factor == pytest.approx(float(info["weight_factor"]), abs=1e-6)
    responses = np.load(d / "responses.npy")
    base = np.load(d / "landmarks_before.npy")
    start = np.load(d / "params_before.npy")[0]
    after_rigid = np.load(d / "params_after_rigid.npy")[0]
    for step, p in (("rigid", start), ("nonrigid", after_rigid)):
        step_info = _info(d / step / "info.txt")
        res = model.nu_rlms(p[:6], p[6:], responses, base, np.load(d / "sim_img_to_ref.npy"),
                            np.load(d / "sim_ref_to_img.npy"), settings, step == "rigid",
                            step_info["compute_lhood"] == "1", params, clnf.kernels, trace=True)
        assert res.updates == int(step_info["updates_performed"])
        assert res.converged == (step_info["converged_early"] == "1")
        np.testing.assert_allclose(np.array(res.trace["ms_img"]), np.load(d / step / "iter_meanshift_img.npy"),
                                   atol=1e-4)
        np.testing.assert_allclose(np.array(res.trace["params"]), np.load(d / step / "iter_params_after.npy"),
                                   atol=2e-4)
        if step_info["compute_lhood"] == "1":
            assert res.loglhood == pytest.approx(float(step_info["loglhood"]), abs=1e-4)
            np.testing.assert_allclose(res.landmark_likelihoods, np.load(d / "landmark_likelihoods.npy")[0],
                                       rtol=1e-4, atol=1e-6)


@pytest.mark.blas
def test_detect_landmarks_hypothesis0(clnf, frames):
    d = CLNF_TRACE / "frame0001" / "detect" / "hyp00"
    p0 = np.load(d / "init_params.npy")[0]
    timer = StageTimer()
    res = clnf.detect_landmarks(frames[0], p0[:6], p0[6:], clnf.params.window_sizes_init, timer)
    assert_close("clnf.hyp0.fit_px", res.fit_landmarks, np.load(d / "main" / "fit_landmarks.npy"))
    for name in ("inner", "left_eye_28", "right_eye_28"):
        assert_close("clnf.hyp0.parts_px", res.part_landmarks[name], np.load(d / name / "final_landmarks.npy"),
                     context=name)
    assert_close("clnf.hyp0.final_px", res.landmarks, np.load(d / "main" / "final_landmarks.npy"))
    assert_close("clnf.hyp0.likelihood", res.likelihood, 0.799492478)
    # 3 main scales x 2 calls, inner 1 x 2, eyes 2 x 2 each: all run 5 updates here
    assert res.iterations == [5] * 16
    assert len(timer.counters["landmarks.main.nu_rlms.updates"]) == 6


@pytest.fixture(scope="module")
def clnf_compiled():
    return CLNF(MODELS, LandmarkParameters(), registry.resolve({**FAST, "nu_rlms": "numba"}))


@pytest.mark.blas
def test_compiled_nu_rlms_detection(clnf_compiled, frames):
    """The compiled NU-RLMS loop keeps the whole hypothesis-0 fit on the C++ trace."""
    d = CLNF_TRACE / "frame0001" / "detect" / "hyp00"
    p0 = np.load(d / "init_params.npy")[0]
    res = clnf_compiled.detect_landmarks(frames[0], p0[:6], p0[6:], clnf_compiled.params.window_sizes_init)
    assert_close("clnf.compiled.final_px", res.landmarks, np.load(d / "main" / "final_landmarks.npy"))
    assert_close("clnf.compiled.likelihood", res.likelihood, 0.799492478)
    assert res.detection_certainty == pytest.approx(0.983333349)


@pytest.mark.blas
@pytest.mark.parametrize("compiled", [False, True], ids=["reference", "numba"])
def test_tracking_frames(clnf, clnf_compiled, frames, compiled):
    """Frames 2 and 3 from the C++'s own start parameters (small windows, scales 1 and 2)."""
    clnf = clnf_compiled if compiled else clnf
    for f in (2, 3):
        d = CLNF_TRACE / f"frame{f:04d}" / "track"
        start = np.load(d / "start_params.npy")[0]
        res = clnf.detect_landmarks(frames[f - 1], start[:6], start[6:], clnf.params.window_sizes_small)
        assert_close("clnf.tracking_px", res.landmarks,
                     np.load(CLNF_TRACE / f"frame{f:04d}" / "final_landmarks_as_recorded.npy"), context=f"frame {f}")


@pytest.mark.slow
@pytest.mark.blas
def test_multi_hypothesis_detection(clnf, frames):
    box = np.load(CLNF_TRACE / "frame0001" / "detect" / "mtcnn_box_xywh.npy")[0]
    res = clnf.detect_from_box(frames[0], box, complete_all=True)
    rows = list(csv.DictReader((CLNF_TRACE / "frame0001" / "detect" / "hypotheses.csv").open()))
    assert len(res.hypotheses) == len(rows) == len(ROTATION_HYPOTHESES)
    likelihoods = np.array([h[0] for h in res.hypotheses])
    expected = np.array([float(r["model_likelihood"]) for r in rows])
    # good fits agree to 1e-4; failed ones amplify float differences a little more
    assert_close("clnf.hypotheses.likelihood", likelihoods, expected)
    assert int(np.argmax(likelihoods)) == 0
    certainties = [h[1] for h in res.hypotheses]
    np.testing.assert_allclose(certainties, [float(r["detection_certainty"]) for r in rows], atol=1e-6)
    assert res.detection_success and res.detection_certainty == pytest.approx(0.983333349)
    assert_close("clnf.hypotheses.winner_px", res.landmarks,
                 np.load(CLNF_TRACE / "frame0001" / "detect" / "winner_landmarks.npy"))


@pytest.mark.slow
def test_only_the_winning_hypothesis_is_completed(clnf_compiled, frames):
    """Parts and validation run on the most likely hypothesis only, with the result of completing all 11."""
    box = np.load(CLNF_TRACE / "frame0001" / "detect" / "mtcnn_box_xywh.npy")[0]
    lazy = clnf_compiled.detect_from_box(frames[0], box)
    full = clnf_compiled.detect_from_box(frames[0], box, complete_all=True)
    for name in ("landmarks", "params_global", "params_local", "fit_landmarks", "landmark_likelihoods"):
        np.testing.assert_array_equal(getattr(lazy, name), getattr(full, name), err_msg=name)
    assert (lazy.likelihood, lazy.detection_certainty, lazy.detection_success, lazy.iterations) == \
        (full.likelihood, full.detection_certainty, full.detection_success, full.iterations)
    for name in full.part_landmarks:
        np.testing.assert_array_equal(lazy.part_landmarks[name], full.part_landmarks[name], err_msg=name)
    certainties = [h[1] for h in lazy.hypotheses]
    winner = int(np.argmax([h[0] for h in lazy.hypotheses]))
    assert [c is None for c in certainties] == [i != winner for i in range(len(certainties))]
    assert certainties[winner] == full.hypotheses[winner][1]
    np.testing.assert_array_equal([h[0] for h in lazy.hypotheses], [h[0] for h in full.hypotheses])


def test_iteration_policy_is_configuration(frames):
    d = CLNF_TRACE / "frame0002" / "track"
    start = np.load(d / "start_params.npy")[0]
    reduced = CLNF(MODELS, dataclasses.replace(LandmarkParameters(), num_optimisation_iteration=2,
                                               refine_hierarchical=False), registry.resolve(FAST))
    res = reduced.detect_landmarks(frames[1], start[:6], start[6:], (0, 9, 7, 0))
    assert res.iterations == [2, 2, 2, 2]
    early = CLNF(MODELS, dataclasses.replace(LandmarkParameters(), convergence_threshold=1e6,
                                             refine_hierarchical=False), registry.resolve(FAST))
    timer = StageTimer()
    res = early.detect_landmarks(frames[1], start[:6], start[6:], (0, 9, 7, 0), timer)
    assert res.iterations == [1, 1, 1, 1]  # the first shape change already counts as converged
    assert timer.counters["landmarks.main.nu_rlms.converged"] == [1.0] * 4
    # both stay near the full fit on a slow frame
    np.testing.assert_allclose(res.landmarks, np.load(d / "main" / "fit_landmarks.npy"), atol=5.0)


def test_part_parameters():
    main = LandmarkParameters()
    eye = part_parameters("left_eye_28", main)
    assert eye.window_sizes_init == (3, 5, 9) and eye.sigma == 1.0 and eye.reg_factor == 0.5
    assert not eye.refine_parameters and not eye.refine_hierarchical and not eye.validate_detections
    inner = part_parameters("inner", main)
    assert inner.window_sizes_init == (9,) and inner.weight_factor == 2.5 and inner.sigma == 1.75


def test_still_image_single_hypothesis(clnf):
    """FaceLandmarkImg fits only the frontal hypothesis (multi_view off): sample1.jpg from its MTCNN box."""
    import cv2

    from ...conftest import MEDIA, REFERENCE

    gray = cv2.cvtColor(cv2.imread(str(MEDIA / "sample1.jpg")), cv2.COLOR_BGR2GRAY).astype(np.float32)
    det = next(csv.DictReader((REFERENCE / "detections" / "sample1.csv").open()))
    row = next(csv.DictReader((REFERENCE / "images" / "sample1.csv").open()))
    expected = np.array([[float(row[f"x_{i}"]), float(row[f"y_{i}"])] for i in range(68)])
    res = clnf.detect_from_box(gray, [float(det[c]) for c in "xywh"], multi_view=False)
    assert len(res.hypotheses) == 1
    # the CSV has 1 decimal: 0.05 px is its rounding
    assert np.linalg.norm(res.landmarks - expected, axis=1).mean() < 0.06
    assert res.detection_certainty == pytest.approx(float(row["confidence"]), abs=0.006)

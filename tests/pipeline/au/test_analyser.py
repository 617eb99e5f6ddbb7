"""FaceAnalyser orchestration on default.wmv.

Driven by the C++ per-frame HOG (.hog file, through a stand-in ``fhog`` kernel) and the
C++ geometry descriptors, so that the schedule of the running medians, the failed-frame
handling, the history and the offline step are checked exactly against the C++ online
predictions and the final AU columns of default.csv.
"""

from __future__ import annotations

import numpy as np
import pytest

import aubench.pipeline.au.analyser as analyser_module
from aubench.harness.au_reference import csv_landmarks, load_online_trace, read_csv_columns, read_csv_text, read_hog_file
from aubench.pipeline import registry
from aubench.pipeline.au.analyser import FaceAnalyser
from aubench.pipeline.config import AnalyserParameters
from aubench.pipeline.errors import InputError

from ...conftest import MEDIA, MODELS, REFERENCE, TRACE


@pytest.fixture(scope="module")
def reference():
    _, hog = read_hog_file(REFERENCE / "default" / "default.hog")
    landmarks = csv_landmarks(read_csv_columns(REFERENCE / "default" / "default.csv"))
    return load_online_trace(TRACE), hog, landmarks


def _replaying_analyser(monkeypatch, reference, selection, **kwargs):
    """An analyser whose HOG and geometry are the C++ ones of the frame being added."""
    online, hog, _ = reference
    current = {"frame": 0}

    def cxx_fhog(aligned, *args):
        return hog[current["frame"]].reshape(12, 12, 31)

    def cxx_geometry(pdm, landmarks, fit=None):
        return np.zeros(6, np.float32), np.zeros(34, np.float32), online.geometry[current["frame"]]

    monkeypatch.setattr(analyser_module, "fit_geometry", cxx_geometry)
    monkeypatch.setattr(FaceAnalyser, "_align", lambda self, *a, **k: np.zeros((112, 112, 3), np.uint8))
    base = registry.resolve(selection)
    kernels = registry.Kernels({"fhog": cxx_fhog, "au_predict": base.au_predict,
                                "running_median": base.running_median}, base.selection)
    return FaceAnalyser(MODELS, AnalyserParameters(), kernels, **kwargs), current


@pytest.mark.parametrize("selection,frames", [({"running_median": "numba", "au_predict": "stacked"}, 288),
                                              ({}, 30)])
def test_online_predictions_and_postprocessing(monkeypatch, reference, selection, frames):
    online, _, landmarks = reference
    fa, current = _replaying_analyser(monkeypatch, reference, selection)
    frame = np.zeros((480, 640, 3), np.uint8)
    for f in range(frames):
        current["frame"] = f
        result = fa.add_next_frame(frame, landmarks[f], bool(online.successes[f]), f / 15)
        assert result.hog.shape == (12, 12, 31) and result.aligned_bgr.shape == (112, 112, 3)
        for name, value in result.au_intensity.items():
            assert value == pytest.approx(online.intensity[name][f], abs=1e-12), (f, name)
        assert result.au_occurrence == {n: online.occurrence[n][f] for n in result.au_occurrence}
    assert fa.medians.hog_counts == [(frames + 1) // 2]
    if frames == 288:
        final = fa.postprocess()
        expected = read_csv_text(REFERENCE / "default" / "default.csv")
        for name, values in final.intensity.items():
            assert [f"{v:.2f}" for v in values] == expected[f"{name}_r"], name
        for name, values in final.occurrence.items():
            assert [f"{v:.2f}" for v in values] == expected[f"{name}_c"], name
        # the same through the run loop's own copy of the online values
        again = fa.postprocess({n: online.intensity[n] for n in fa.intensity_names},
                               {n: online.occurrence[n] for n in fa.occurrence_names}, online.successes)
        for name in final.intensity:
            np.testing.assert_array_equal(again.intensity[name], final.intensity[name])


def test_failed_frames_and_reset(monkeypatch, reference):
    online, _, landmarks = reference
    fa, current = _replaying_analyser(monkeypatch, reference, {"running_median": "numba"})
    frame = np.zeros((480, 640, 3), np.uint8)
    r = fa.add_next_frame(frame, landmarks[0], False, 0.0)
    assert set(r.au_intensity.values()) == {0.0} and set(r.au_occurrence.values()) == {0.0}
    assert not r.aligned_bgr.any() and not r.geometry.any()
    # odd frame count, nothing added: the medians are the first bins' centres (HOG clipped to 0)
    assert fa.medians.hog_counts == [0] and not fa.medians.hog_median.any()
    assert fa.medians.geom_median[0] == pytest.approx(-60 + 0.006)
    fa.add_next_frame(frame, landmarks[1], True, 1 / 15)
    assert fa.successes == [False, True] and len(fa._init_hog) == 1
    post = fa.postprocess()
    assert all(v.shape == (2,) for v in post.intensity.values())
    fa.reset()
    assert fa.frames_tracking == 0 and fa.successes == [] and fa.medians.geom_count == 0
    with pytest.raises(InputError, match="2 frames|0 frames"):
        fa.postprocess(successes=[True, True])


def test_bad_inputs(monkeypatch, reference):
    fa, _ = _replaying_analyser(monkeypatch, reference, {})
    with pytest.raises(InputError, match="BGR uint8"):
        fa.add_next_frame(np.zeros((10, 10), np.uint8), np.zeros((68, 2)), True, 0.0)
    with pytest.raises(InputError, match=r"\(68, 2\)"):
        fa.add_next_frame(np.zeros((10, 10, 3), np.uint8), np.zeros((51, 2)), True, 0.0)


def test_static_models(monkeypatch, reference):
    online, _, landmarks = reference
    fa, current = _replaying_analyser(monkeypatch, reference, {}, dynamic=False)
    assert not fa.models.has_dynamic and len(fa.intensity_names) == 17
    r = fa.predict_static(np.zeros((480, 640, 3), np.uint8), landmarks[0])
    assert all(0.0 <= v <= 5.0 for v in r.au_intensity.values())


FAST = {"fhog": "numba_tables", "calc_params": "numba", "face_mask": "numba", "running_median": "numba",
        "au_predict": "stacked"}


@pytest.mark.parametrize("selection", [{}, FAST])
def test_real_stages_on_traced_landmarks(selection):
    """Frames 1-3 of default.wmv with the landmarks C++ FaceAnalyser received (unrounded):
    aligned faces and FHOG equal the C++ ones, online predictions within 1e-5."""
    import cv2

    online = load_online_trace(TRACE)
    _, hog = read_hog_file(REFERENCE / "default" / "default.hog")
    fa = FaceAnalyser(MODELS, AnalyserParameters(), registry.resolve(selection))
    cap = cv2.VideoCapture(str(MEDIA / "default.wmv"))
    try:
        for f in range(3):
            ok, frame = cap.read()
            assert ok
            landmarks = np.load(TRACE / "clnf" / f"frame{f + 1:04d}" / "final_landmarks_as_recorded.npy")
            r = fa.add_next_frame(frame, landmarks, True, f / 15)
            aligned = cv2.imread(str(REFERENCE / "default" / "default_aligned" / f"frame_det_00_{f + 1:06d}.bmp"))
            np.testing.assert_array_equal(r.aligned_bgr, aligned)
            np.testing.assert_array_equal(r.hog.reshape(-1), hog[f])
            np.testing.assert_allclose(r.geometry, online.geometry[f], rtol=0, atol=1e-4)
            for name, value in r.au_intensity.items():
                assert value == pytest.approx(online.intensity[name][f], abs=1e-5), (f, name)
            assert r.au_occurrence == {n: online.occurrence[n][f] for n in r.au_occurrence}
    finally:
        cap.release()

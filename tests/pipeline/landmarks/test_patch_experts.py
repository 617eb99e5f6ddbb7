"""Patch-expert responses against the C++ trace (trace/patch_unit and trace/clnf)."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from aubench.pipeline import registry
from aubench.pipeline.landmarks import patch_experts as pe
from aubench.pipeline.models.ccnf import read_ccnf_scale

from ...conftest import MEDIA, MODELS, TRACE

CLNF = TRACE / "clnf"


def default_gray_frames(n: int) -> list[np.ndarray]:
    """First n frames of default.wmv as float32 grey (SequenceCapture::GetGrayFrame, then float)."""
    cap = cv2.VideoCapture(str(MEDIA / "default.wmv"))
    frames = []
    for _ in range(n):
        ok, bgr = cap.read()
        assert ok
        frames.append(cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY).astype(np.float32))
    cap.release()
    return frames


@pytest.fixture(scope="module")
def frames():
    return default_gray_frames(2)


@pytest.fixture(scope="module")
def scales():
    names = ("0.25", "0.35", "0.5")
    return [read_ccnf_scale(MODELS / "model" / "patch_experts" / f"ccnf_patches_{s}_general.txt") for s in names]


@pytest.fixture(scope="module")
def kernels():
    return registry.resolve({"patch_response": "batched"})


@pytest.mark.parametrize("lm", [0, 30, 48])
def test_patch_unit(frames, scales, kernels, lm):
    unit = TRACE / "patch_unit" / f"lm{lm:02d}"
    scale0 = CLNF / "frame0001" / "detect" / "hyp00" / "main" / "scale0"
    landmarks = np.load(scale0 / "landmarks_before.npy")
    sim = np.load(scale0 / "sim_ref_to_img.npy")
    # warp matrix and sampled area are bit-exact
    np.testing.assert_array_equal(pe.warp_matrix(landmarks[lm], sim, 21), np.load(unit / "warp_matrix.npy"))
    area = pe.sample_areas(frames[0], landmarks, [lm], sim, 21, kernels.warp_areas)[0]
    np.testing.assert_array_equal(area, np.load(unit / "area_of_interest.npy"))
    ref = registry.kernels()["patch_response"].variants["reference"].load()
    cache = pe.SigmaCache()
    wm, al = cache.weights(0, scales[0], 0)
    sig = cache.sigmas(0, scales[0], 0, 11)
    out = ref(area[None], wm[lm:lm + 1], al[lm:lm + 1], sig[lm:lm + 1])[0]
    np.testing.assert_allclose(out, np.load(unit / "response.npy"), atol=2e-6, rtol=0)


@pytest.mark.parametrize("context,frame,scale", [
    ("frame0001/detect/hyp00/main", 0, 0),
    ("frame0001/detect/hyp00/main", 0, 2),
    ("frame0001/detect/hyp03/main", 0, 1),  # a profile view: 33 invisible landmarks
    ("frame0002/track/main", 1, 1),
])
def test_responses_match_trace(frames, scales, kernels, context, frame, scale):
    d = CLNF / context / f"scale{scale}"
    params = np.load(d / "params_before.npy")[0]
    expected = np.load(d / "responses.npy")
    view = pe.view_index(scales[scale].centers, params[:6])
    info = (d / "info.txt").read_text()
    assert f"view_id={view} " in info
    window = expected.shape[1]
    out = pe.responses(frames[frame], scales[scale], scale, view, np.load(d / "landmarks_before.npy"),
                       np.load(d / "sim_ref_to_img.npy"), window, pe.SigmaCache(), kernels.patch_response,
                       kernels.warp_areas)
    np.testing.assert_allclose(out, expected, atol=2e-6, rtol=0)


def test_similarity_transform_matches_trace(kernels):
    d = CLNF / "frame0001" / "detect" / "hyp00" / "main" / "scale0"
    expected_img_to_ref = np.load(d / "sim_img_to_ref.npy")
    # a pure rotation+scale of a shape is recovered exactly enough
    rng = np.random.default_rng(0)
    ref_shape = rng.normal(size=(68, 2)).astype(np.float32)
    inv = np.linalg.inv(expected_img_to_ref.astype(np.float64))
    img_shape = (ref_shape.astype(np.float64) @ inv.T + [300, 200]).astype(np.float32)
    r2i, i2r = pe.similarity_transforms(img_shape, ref_shape, kernels.align_shapes)
    np.testing.assert_allclose(i2r, expected_img_to_ref, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(r2i @ i2r, np.eye(2), atol=1e-5)


def test_view_index_prefers_first_on_ties(scales):
    centers = scales[0].centers
    assert pe.view_index(centers, np.zeros(6)) == 0
    assert pe.view_index(centers, np.array([1, 0, np.radians(-70), 0, 0, 0])) == 3
    assert pe.view_index(centers, np.array([1, 0, np.radians(44), 0, 0, 0])) == 5


def test_large_sigmas_by_cholesky_equal_the_lu_inverse(scales):
    """Windows >= 10 invert by Cholesky: on the real window-11 matrices the float32 result is the LU one."""
    experts = scales[0]
    comps = experts.sigma_components[11]
    for lm in (0, 17, 30, 48, 67):
        ex = experts.experts[0][lm]
        fast = pe.compute_sigma(ex.alphas, ex.betas, comps, 11)
        sum_alphas = np.float32(0)
        for a in ex.alphas:
            sum_alphas = np.float32(sum_alphas + a)
        q2 = np.zeros((121, 121), np.float32)
        for b in range(len(comps)):
            q2 = q2 + np.float32(ex.betas[b]) * comps[b]
        lu = np.linalg.inv((np.float32(2) * (sum_alphas * np.eye(121, dtype=np.float32) + q2)).astype(np.float64))
        np.testing.assert_array_equal(fast, lu.astype(np.float32))


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 2**31 - 1), n=st.integers(2, 40))
def test_spd_inverse_inverts_spd_matrices_and_refuses_others(seed, n):
    rng = np.random.default_rng(seed)
    m = rng.standard_normal((n, n))
    spd = m @ m.T + n * np.eye(n)
    inv = pe._spd_inverse(spd)
    np.testing.assert_allclose(inv @ spd, np.eye(n), atol=1e-9)
    np.testing.assert_array_equal(inv, inv.T)
    indefinite = spd - 2 * np.linalg.eigvalsh(spd).max() * np.eye(n)
    assert pe._spd_inverse(indefinite) is None

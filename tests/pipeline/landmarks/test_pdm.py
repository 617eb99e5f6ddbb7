"""PDM operations against the C++ trace (frames 1-3 of default.wmv) and the reference CSVs."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from aubench.pipeline.landmarks import pdm as P
from aubench.pipeline.models.pdm import read_pdm
from tests.conftest import MODELS, TRACE
from tests.pipeline.landmarks._reference_csv import block, load
from tests.tolerances import assert_close

PART_PDMS = {
    "main": "pdms/In-the-wild_aligned_PDM_68.txt",
    "inner": "model_inner/pdms/pdm_51_inner.txt",
    "left_eye_28": "model_eye/pdms/pdm_28_l_eye_3D_closed.txt",
    "right_eye_28": "model_eye/pdms/pdm_28_eye_3D_closed.txt",
}
_CACHE: dict[str, object] = {}


def pdm_for(part: str):
    if part not in _CACHE:
        _CACHE[part] = read_pdm(MODELS / "model" / PART_PDMS[part])
    return _CACHE[part]


DETECT = TRACE / "clnf/frame0001/detect"
# NU-RLMS calls of the trace (folders holding iter_param_update.npy), a few of each part
NU_RLMS_DIRS = sorted(p.parent for p in (TRACE / "clnf").glob("frame000*/**/iter_param_update.npy"))
REFIT_DIRS = sorted(p.parent for p in (TRACE / "clnf").glob("frame000*/**/main/merged_landmarks_before_refit.npy"))


def _part_of(path: Path) -> str:
    return next(k for k in PART_PDMS if k in path.parts)


def test_box_to_params_matches_trace_for_every_hypothesis():
    pdm = pdm_for("main")
    box = np.load(DETECT / "mtcnn_box_xywh.npy")[0]
    g = P.calc_params_from_box(pdm, box)
    np.testing.assert_array_equal(g, np.load(DETECT / "init_params_from_box.npy")[0, :6])
    np.testing.assert_array_equal(P.calc_shape_2d(pdm, g), np.load(DETECT / "init_landmarks_from_box.npy"))
    for hyp in sorted(DETECT.glob("hyp[0-9]*")):
        expected = np.load(hyp / "init_params.npy")[0]
        g = P.calc_params_from_box(pdm, box, expected[1:4])
        np.testing.assert_allclose(g, expected[:6], rtol=0, atol=1e-5)
        np.testing.assert_allclose(P.calc_shape_2d(pdm, g), np.load(hyp / "init_landmarks.npy"), atol=1e-4)


def test_params_to_landmarks_matches_trace_all_parts_and_scales():
    files = sorted((TRACE / "clnf").glob("frame000*/**/params_after_nonrigid.npy"))
    assert len(files) > 100
    parts = set()
    for f in files:
        part = _part_of(f)
        parts.add(part)
        p = np.load(f)[0]
        lm = P.calc_shape_2d(pdm_for(part), p[:6], p[6:])
        np.testing.assert_allclose(lm, np.load(f.parent / "landmarks_after.npy"), rtol=0, atol=1e-4, err_msg=str(f))
    assert parts == set(PART_PDMS)


def test_update_and_clamp_match_trace_iterations():
    assert len(NU_RLMS_DIRS) > 100
    worst = 0.0
    for d in NU_RLMS_DIRS[::3]:
        pdm = pdm_for(_part_of(d))
        start = d.parent / ("params_before.npy" if d.name == "rigid" else "params_after_rigid.npy")
        current = np.load(start)[0]
        updates, after = np.load(d / "iter_param_update.npy"), np.load(d / "iter_params_after.npy")
        for k in range(len(updates)):
            g, loc = P.update_model_parameters(updates[k], current[:6], current[6:])
            loc = P.clamp(pdm, loc)
            worst = max(worst, float(np.abs(np.concatenate([g, loc]) - after[k]).max()))
            current = after[k]
    assert worst < 1e-5


@pytest.mark.blas
def test_calc_params_refit_matches_trace():
    assert len(REFIT_DIRS) == 13
    pdm = pdm_for("main")
    for d in REFIT_DIRS:
        g, loc = P.calc_params(pdm, np.load(d / "merged_landmarks_before_refit.npy"))
        expected = np.load(d / "merged_params_after_refit.npy")[0]
        # 1000 Gauss-Newton iterations carry the BLAS kernel's rounding: tolerances from tests/tolerances.py
        assert_close("calc_params.global_rel", g, expected[:6], relative=1e-4, context=str(d))
        assert_close("calc_params.local", loc, expected[6:], context=str(d))
        assert_close("calc_params.shape_px", P.calc_shape_2d(pdm, g, loc),
                     np.load(d / "merged_landmarks_after_refit.npy"), context=str(d))


def test_jacobian_rigid_columns_agree_and_weights_apply():
    pdm = pdm_for("inner")
    rng = np.random.default_rng(0)
    g = np.array([1.2, 0.1, -0.2, 0.05, 300, 200], np.float32)
    loc = (rng.standard_normal(pdm.n_modes) * np.sqrt(pdm.eigen_values)).astype(np.float32)
    jac, jac_t = P.compute_jacobian(pdm, g, loc)
    rigid, rigid_t = P.compute_rigid_jacobian(pdm, g, loc)
    np.testing.assert_array_equal(jac[:, :6], rigid)
    np.testing.assert_array_equal(jac_t, jac.T)
    w = rng.uniform(0.5, 2, 2 * pdm.n_points).astype(np.float32)
    _, jac_tw = P.compute_jacobian(pdm, g, loc, w)
    np.testing.assert_allclose(jac_tw, (jac * w[:, None]).T, rtol=1e-6)
    # the Jacobian is the derivative of the projection (finite differences, local params)
    eps = 1e-2
    for k in (6, 10, 6 + pdm.n_modes - 1):
        plus, minus = loc.copy(), loc.copy()
        plus[k - 6] += eps
        minus[k - 6] -= eps
        num = (P.landmarks_to_column(P.calc_shape_2d(pdm, g, plus))
               - P.landmarks_to_column(P.calc_shape_2d(pdm, g, minus))) / (2 * eps)
        np.testing.assert_allclose(jac[:, k], num, atol=2e-2)


@pytest.mark.parametrize("clip", ["default", "2015-10-15-15-14"])
def test_csv_params_reproduce_csv_landmarks(clip):
    """calc_shape_2d of the CSV's p_* reproduces its x_/y_ (params 3 dp, landmarks 1 dp)."""
    cols = load(clip)
    g = np.stack([cols[k] for k in ("p_scale", "p_rx", "p_ry", "p_rz", "p_tx", "p_ty")], axis=1)
    loc = block(cols, "p_", 34)
    xs, ys = block(cols, "x_", 68), block(cols, "y_", 68)
    pdm = pdm_for("main")
    step = 1 if clip == "default" else 7
    for i in range(0, len(g), step):
        lm = P.calc_shape_2d(pdm, g[i], loc[i])
        assert np.abs(lm[:, 0] - xs[i]).max() < 0.2 and np.abs(lm[:, 1] - ys[i]).max() < 0.2, f"frame {i + 1}"


@settings(max_examples=25, deadline=None)
@given(
    st.floats(0.5, 3.0),
    st.floats(-0.4, 0.4),
    st.floats(-0.6, 0.6),
    st.floats(-0.4, 0.4),
    st.floats(100, 500),
    st.floats(100, 400),
    st.integers(0, 2**31 - 1),
)
def test_calc_params_recovers_plausible_params(scale, rx, ry, rz, tx, ty, seed):
    pdm = pdm_for("main")
    rng = np.random.default_rng(seed)
    loc = (rng.standard_normal(pdm.n_modes) * 0.5 * np.sqrt(pdm.eigen_values)).astype(np.float32)
    g = np.array([scale, rx, ry, rz, tx, ty], np.float32)
    lm = P.calc_shape_2d(pdm, g, loc)
    g_fit, loc_fit = P.calc_params(pdm, lm)
    # the regularised, early-stopped fit need not return the same params, but must reproduce
    # the shape closely (measured: worst point off by at most ~0.4 px at any scale)
    err = np.abs(P.calc_shape_2d(pdm, g_fit, loc_fit) - lm).max()
    assert err < 0.6
    # scale and pose are recovered approximately (the non-rigid modes absorb part of a rotation)
    np.testing.assert_allclose(g_fit[0], scale, rtol=0.03)
    np.testing.assert_allclose(g_fit[1:4], g[1:4], atol=0.1)


def test_clamp_limits_to_three_sigma():
    pdm = pdm_for("left_eye_28")
    limit = 3 * np.sqrt(pdm.eigen_values)
    p = np.linspace(-2, 2, pdm.n_modes).astype(np.float32) * limit
    out = P.clamp(pdm, p)
    np.testing.assert_allclose(out, np.clip(p, -limit, limit), rtol=1e-6)
    assert out.dtype == np.float32


def test_rotation_helpers_round_trip():
    euler = np.array([0.3, -0.5, 0.2], np.float32)
    rot = P.euler_to_rotation(euler)
    np.testing.assert_allclose(rot @ rot.T, np.eye(3), atol=1e-6)
    np.testing.assert_allclose(P.rotation_to_euler(rot), euler, atol=1e-6)
    np.testing.assert_allclose(P.axis_angle_to_euler(P.euler_to_axis_angle(euler)), euler, atol=1e-5)

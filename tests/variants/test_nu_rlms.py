"""Every nu_rlms variant against single traced NU-RLMS calls of the C++ (trace/clnf)."""

from __future__ import annotations

import numpy as np
import pytest

from aubench.pipeline import registry
from aubench.pipeline.config import LandmarkParameters
from aubench.pipeline.landmarks.clnf import CLNF

from ..conftest import MODELS, TRACE

KERNEL = registry.kernels()["nu_rlms"]
AVAILABLE = [name for name, v in KERNEL.variants.items() if v.unavailable_reason() is None]
CALLS = [
    ("frame0001/detect/hyp00/main/scale0", "rigid"),
    ("frame0001/detect/hyp00/main/scale0", "nonrigid"),
    ("frame0001/detect/hyp00/inner/scale0", "nonrigid"),  # weighted
    ("frame0001/detect/hyp03/main/scale2", "nonrigid"),  # invisible points
    ("frame0003/track/main/scale2", "rigid"),  # stops early after 2 updates
]


def _info(path):
    return dict(t.split("=", 1) for t in path.read_text().split() if "=" in t)


@pytest.fixture(scope="module")
def clnf():
    return CLNF(MODELS, LandmarkParameters(validate_detections=False), registry.resolve({}))


@pytest.mark.parametrize("variant", AVAILABLE)
@pytest.mark.parametrize("scale_dir,step", CALLS)
def test_trace_call(clnf, variant, scale_dir, step):
    d = TRACE / "clnf" / scale_dir
    name = d.parent.name
    model, params = (clnf.main, clnf.params) if name == "main" else next(
        (m, p) for n, _, m, p in clnf.parts if n == name)
    info = _info(d / "info.txt")
    settings = model.scale_settings(int(info["scale_index"]), int(info["window_size"]), int(info["view_id"]), params)
    start = np.load(d / ("params_before.npy" if step == "rigid" else "params_after_rigid.npy"))[0]
    kernels = registry.resolve({"nu_rlms": variant})
    res = model.nu_rlms(start[:6], start[6:], np.load(d / "responses.npy"), np.load(d / "landmarks_before.npy"),
                        np.load(d / "sim_img_to_ref.npy"), np.load(d / "sim_ref_to_img.npy"), settings,
                        step == "rigid", True, params, kernels)
    step_info = _info(d / step / "info.txt")
    assert res.updates == int(step_info["updates_performed"])
    expected = np.load(d / step / "iter_params_after.npy")[-1]
    np.testing.assert_allclose(np.concatenate([res.params_global, res.params_local]), expected, atol=3e-4)

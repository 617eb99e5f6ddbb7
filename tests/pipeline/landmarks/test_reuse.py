"""The cached kind of variant (``[reuse]``, issue 19): off by default, skips the work it says it
skips when on, and stays within the realtime preset's parity targets on 60 frames of default.wmv.

The targets (landmark median <= 0.5 px, every AU intensity r >= 0.95, occurrence agreement >= 95 %
per AU against C++) are the issue's for ``aubench/presets/realtime.toml``; the figures each option
reaches on the three whole clips are in experiments/RESULTS.md, "Cached variants (issue 19)". On 60
frames the AU columns cannot be judged against C++'s whole-clip CSV (the offline step calibrates on
the frames it has: fast itself has AU r down to 0.27 there), so each option is judged against fast's
own 60 frames. There most AUs stay below 0.5 (AU05 peaks at 0.16), too flat for a correlation to mean
anything (parts_every = 2 gives AU05 r 0.89 at MAE 0.015), so the AU intensities are held to the
project's MAE threshold (``[parity] au_intensity_mae_max``, 0.05) instead of r; the whole-clip r of
every option is in RESULTS.md.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from aubench.harness import parity
from aubench.pipeline import config as config_mod
from aubench.pipeline import extract
from aubench.pipeline.config import ReuseParameters
from aubench.pipeline.errors import ConfigError
from aubench.pipeline.landmarks import pdm as pdm_ops
from aubench.pipeline.landmarks import reuse as reuse_ops
from aubench.pipeline.models.clnf_model import read_main_model
from aubench.pipeline.models.pdm import read_pdm
from aubench.pipeline.timing import StageTimer
from tests.conftest import MEDIA, MODELS

VIDEO = MEDIA / "default.wmv"
FRAMES = 60
# the targets for the realtime preset
LANDMARK_MEDIAN_PX = 0.5
AU_MAE_MAX = config_mod.ParityThresholds().au_intensity_mae_max
OCCURRENCE_MIN = 0.95


def _run(tmp_path_factory, baseline: dict | None = None, **reuse) -> tuple[dict, StageTimer, dict]:
    cfg = config_mod.preset("fast")
    if reuse:
        cfg = config_mod.with_overrides(cfg, reuse=reuse)
    out = tmp_path_factory.mktemp("reuse")
    timer = StageTimer()
    extract.run(VIDEO, out, cfg, timer, frames=FRAMES, progress=False, models_dir=MODELS)
    csv = out / "default.csv"
    reference = parity.find_reference(VIDEO) if baseline is None else baseline["csv"]
    figures = parity.compare(csv, reference, series=False)
    return figures, timer, {"csv": csv}


def _calls(timer: StageTimer, stage: str) -> int:
    """Frames on which ``stage`` ran at least once."""
    return sum(1 for ms in timer.per_frame().get(stage, []) if ms > 0)


@pytest.fixture(scope="module")
def fast_run(tmp_path_factory):
    return _run(tmp_path_factory)


def _within_targets(figures: dict) -> None:
    assert figures["landmarks"]["error_median_px"] <= LANDMARK_MEDIAN_PX
    assert figures["au"]["intensity_mae_max"] <= AU_MAE_MAX
    assert figures["au"]["occurrence_agreement_min"] >= OCCURRENCE_MIN


# -- off by default ----------------------------------------------------------------------------------
def test_every_reuse_option_is_off_by_default_and_leaves_the_hash_alone():
    assert not ReuseParameters().any
    for name in ("fast", "reference"):
        cfg = config_mod.preset(name)
        assert cfg.reuse == ReuseParameters()
        assert "reuse" not in config_mod.to_dict(cfg)  # the same data, so the same hash, as before [reuse]
    on = config_mod.with_overrides(config_mod.preset("fast"), reuse={"parts_every": 2})
    assert config_mod.to_dict(on)["reuse"]["parts_every"] == 2
    assert config_mod.config_hash(on) != config_mod.config_hash(config_mod.preset("fast"))


def test_fast_does_all_the_work(fast_run):
    _, timer, _ = fast_run
    assert not [name for name in timer.counters if "reused" in name]
    assert _calls(timer, "landmarks.validator") == FRAMES


# -- each option on ----------------------------------------------------------------------------------
def test_validator_every_skips_the_cnn_and_keeps_the_landmarks(tmp_path_factory, fast_run):
    figures, timer, files = _run(tmp_path_factory, fast_run[2], validator_every=3)
    reused = len(timer.counters["landmarks.validator.reused"])
    assert reused > FRAMES // 4
    assert _calls(timer, "landmarks.validator") == FRAMES - reused
    # the validator's verdict does not move a landmark while the face is tracked
    ours, base = parity.read_openface_csv(files["csv"]), parity.read_openface_csv(fast_run[2]["csv"])
    xs = [f"x_{i}" for i in range(68)]
    np.testing.assert_array_equal(ours.block(xs), base.block(xs))
    _within_targets(figures)


def test_parts_every_skips_part_fits(tmp_path_factory, fast_run):
    figures, timer, _ = _run(tmp_path_factory, fast_run[2], parts_every=2)
    for part in ("inner", "left_eye_28", "right_eye_28"):
        reused = len(timer.counters[f"landmarks.{part}.reused"])
        assert reused > FRAMES // 4
        assert _calls(timer, f"landmarks.{part}.scale0.response") == FRAMES - reused
    _within_targets(figures)


def test_response_reuse_skips_response_maps(tmp_path_factory, fast_run):
    figures, timer, _ = _run(tmp_path_factory, fast_run[2], response_reuse_px=1.0)
    assert len(timer.counters["landmarks.main.responses_reused"]) > 5
    _within_targets(figures)


def test_au_predict_every_skips_online_predictions_and_not_the_csv(tmp_path_factory, fast_run):
    figures, timer, files = _run(tmp_path_factory, fast_run[2], au_predict_every=3)
    assert len(timer.counters["au.predict.reused"]) >= FRAMES // 2
    # every frame of a clip this short is re-predicted by the offline step: the CSV is fast's
    assert files["csv"].read_bytes() == fast_run[2]["csv"].read_bytes()


def test_motion_prediction_changes_the_start(tmp_path_factory, fast_run):
    figures, _, _ = _run(tmp_path_factory, fast_run[2], motion_prediction_gain=0.5)
    assert 0 < figures["landmarks"]["error_median_px"] <= LANDMARK_MEDIAN_PX


def test_realtime_preset_within_targets(tmp_path_factory, fast_run):
    cfg = config_mod.preset("realtime")
    assert cfg.reuse.any
    out = tmp_path_factory.mktemp("realtime")
    extract.run(VIDEO, out, cfg, StageTimer(), frames=FRAMES, progress=False, models_dir=MODELS)
    _within_targets(parity.compare(out / "default.csv", fast_run[2]["csv"], series=False))


# -- the geometry the part reuse relies on -------------------------------------------------------------
def test_shape_change_ignores_similarity_and_sees_shape():
    rng = np.random.default_rng(0)
    shape = rng.uniform(0, 200, (12, 2))
    c = 1.1 * np.exp(0.2j)
    z = shape @ np.array([1, 1j])
    moved = c * z + (5 - 3j)
    moved = np.stack([moved.real, moved.imag], 1)
    assert reuse_ops.shape_change(shape, moved) < 1e-9
    bent = moved.copy()
    bent[0] += [3.0, 0.0]
    assert reuse_ops.shape_change(shape, bent) > 0.5


def test_moved_params_global_move_the_shape_exactly():
    """Applying the similarity to params_global equals applying it to the projected landmarks."""
    spec = read_main_model(MODELS / "model" / "main_clnf_general.txt")
    pdm = read_pdm(spec.parts[0].files.pdm)
    g = np.array([1.3, 0.1, -0.2, 0.15, 210.0, 180.0], np.float32)
    local = np.linspace(-2, 2, pdm.n_modes).astype(np.float32)
    before = pdm_ops.calc_shape_2d(pdm, g, local).astype(np.float64)
    c, src, dst = 0.97 * np.exp(-0.05j), complex(200, 170), complex(204, 168)
    z = c * (before @ np.array([1, 1j]) - src) + dst
    moved = pdm_ops.calc_shape_2d(pdm, reuse_ops.move_params_global(g, c, src, dst), local)
    np.testing.assert_allclose(moved, np.stack([z.real, z.imag], 1), atol=2e-3)  # float32 parameters


# -- configuration -------------------------------------------------------------------------------------
@pytest.mark.parametrize("key,value", [("validator_every", 0), ("parts_every", 101), ("response_reuse_px", -0.5),
                                       ("parts_stable_shape_px", float("nan")),
                                       ("validator_stable_shape_px", 21.0), ("au_predict_every", 0),
                                       ("motion_prediction_gain", 1.5), ("validator_margin", 2.0)])
def test_bad_values_are_one_line_config_errors(tmp_path, key, value):
    path = tmp_path / "bad.toml"
    path.write_text(f"[reuse]\n{key} = {value!r}\n".replace("nan", "nan"))
    with pytest.raises(ConfigError) as err:
        config_mod.load(path)
    message = str(err.value)
    assert "\n" not in message and f"[reuse] {key}" in message and str(path) in message


def test_unknown_reuse_key_says_did_you_mean(tmp_path):
    path = tmp_path / "typo.toml"
    path.write_text("[reuse]\nparts_evry = 2\n")
    with pytest.raises(ConfigError, match="parts_every"):
        config_mod.load(path)


def test_a_reuse_cache_starts_empty_after_invalidate():
    cache = reuse_ops.ReuseCache(dataclasses.replace(ReuseParameters(), parts_every=3, validator_every=3))
    landmarks = np.zeros((68, 2), np.float32) + np.arange(68, dtype=np.float32)[:, None]
    cache.validated(0.99, landmarks)
    cache.part_fitted("inner", np.ones(6, np.float32), np.zeros(3, np.float32), landmarks[:10])
    cache.next_frame()
    assert cache.reusable_certainty(landmarks, 0.725) == pytest.approx(0.99)
    assert cache.moved_part("inner", landmarks[:10]) is not None
    cache.invalidate()
    assert cache.reusable_certainty(landmarks, 0.725) is None and cache.moved_part("inner", landmarks[:10]) is None

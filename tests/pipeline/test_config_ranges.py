"""Range checks of every config value (issue 15, item 4): out-of-range values are one-line ConfigErrors
that name the file, the section and the key, whether they come from TOML, overrides or a Config built in Python."""

from __future__ import annotations

import dataclasses
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from aubench.pipeline import config
from aubench.pipeline.errors import ConfigError

# (section, key, Range) of every ranged numeric field
NUMERIC = [(section, f.name, f.metadata["range"])
           for section, cls in config._SECTIONS.items() for f in dataclasses.fields(cls)
           if "range" in f.metadata and isinstance(f.default, (int, float)) and not isinstance(f.default, bool)]
INTEGER_KEYS = {(s, f.name) for s, cls in config._SECTIONS.items() for f in dataclasses.fields(cls)
                if type(f.default) is int}


def test_every_non_boolean_field_declares_a_range():
    missing = [f"{s}.{f.name}" for s, cls in config._SECTIONS.items() for f in dataclasses.fields(cls)
               if not isinstance(f.default, bool) and "range" not in f.metadata]
    assert missing == []


def test_defaults_and_every_shipped_preset_are_in_range():
    config.check_ranges(config.Config())
    for path in sorted(config.preset_dir().glob("*.toml")):
        config.check_ranges(config.load(path))


def _outside(rng: config.Range, is_int: bool) -> st.SearchStrategy:
    """Values outside ``rng``: below, above, and NaN/infinity for floats."""
    options = [st.sampled_from([math.nan, math.inf, -math.inf])] if not is_int else []
    if rng.low is not None:
        below = st.floats(max_value=rng.low, allow_nan=False, allow_infinity=False, exclude_max=not rng.low_open)
        if is_int:
            below = st.integers(max_value=math.ceil(rng.low) - 1)
        options.append(below)
    if rng.high is not None:
        above = st.floats(min_value=rng.high, allow_nan=False, allow_infinity=False, exclude_min=not rng.high_open)
        if is_int:
            above = st.integers(min_value=math.floor(rng.high) + 1)
        options.append(above)
    return st.one_of(options)


@pytest.mark.parametrize("section,key,rng", NUMERIC, ids=[f"{s}.{k}" for s, k, _ in NUMERIC])
@settings(max_examples=15, deadline=None)
@given(data=st.data())
def test_out_of_range_values_are_rejected_with_the_key(tmp_path_factory, section, key, rng, data):
    value = data.draw(_outside(rng, (section, key) in INTEGER_KEYS))
    assert not rng.contains(value)
    text = repr(value)  # TOML spells nan, inf and -inf as Python prints them
    path = tmp_path_factory.mktemp("cfg") / "bad.toml"
    path.write_text(f"[{section}]\n{key} = {text}\n")
    with pytest.raises(ConfigError) as err:
        config.load(path)
    msg = str(err.value)
    assert msg.startswith(f"{path}: [{section}] {key} = ") and "expected" in msg and "e.g." in msg
    assert "\n" not in msg
    # the same value through an override (CLI flags, aubench.extract) and through a Config built in Python
    with pytest.raises(ConfigError, match=rf"\[{section}\] {key} = "):
        config.with_overrides(config.Config(), **{section: {key: value}})
    bad = dataclasses.replace(config.Config(), **{section: dataclasses.replace(
        getattr(config.Config(), section), **{key: value})})
    with pytest.raises(ConfigError, match=rf"\[{section}\] {key} = "):
        config.build(bad)


@pytest.mark.parametrize("text,needle", [
    ("[detector]\nmin_face_size = 0", "min_face_size = 0: expected a value >= 12"),
    ("[detector]\npyramid_factor = 1.0", "pyramid_factor = 1.0: expected a value in [0.5, 0.95]"),
    ("[detector]\npyramid_factor = 1.5", "pyramid_factor = 1.5: expected"),
    ("[analyser]\nsim_size_out = 0", "sim_size_out = 0: expected a value in [1, 4096]"),
    ("[landmarks]\nwindow_sizes_init = []", "window_sizes_init = []: expected a non-empty list of window sizes"),
    ("[landmarks]\nwindow_sizes_init = [10, 9]", "window_sizes_init = [10, 9]: expected"),
    ("[landmarks]\nwindow_sizes_small = [0, 0]", "window_sizes_small = [0, 0]: expected"),
    ("[landmarks]\nnum_optimisation_iteration = -1", "num_optimisation_iteration = -1: expected a value >= 1"),
    ("[landmarks]\nmodel_location = \"\"", 'model_location = "": expected a non-empty string'),
    ("[camera]\nfx = -500.0", "fx = -500.0: expected a value >= 0"),
    ("[runtime]\nworkers = -2", "workers = -2: expected a value >= 0"),
])
def test_named_bad_values(tmp_path, text, needle):
    path = tmp_path / "bad.toml"
    path.write_text(text + "\n")
    with pytest.raises(ConfigError, match="e.g.") as err:
        config.load(path)
    assert needle in str(err.value)


@pytest.mark.parametrize("value", [0, 0.5, 0.95, 1e-9])
def test_edges_and_zero_defaults_are_accepted(value):
    config.with_overrides(config.Config(), camera={"fx": value * 1000, "fy": value * 1000})
    config.with_overrides(config.Config(), landmarks={"weight_factor": value})


@pytest.mark.parametrize("camera", [{"fx": 500.0}, {"fy": 500.0}, {"cx": 320.0}, {"cy": 240.0}])
def test_camera_intrinsics_are_given_in_pairs(camera):
    """fx without fy would divide by zero in the pose (OpenFace's -fx alone leaves fy at -1): refused."""
    with pytest.raises(ConfigError, match="give (fx and fy|cx and cy) together"):
        config.with_overrides(config.Config(), camera=camera)


def test_unsupported_window_size_names_the_supported_ones_at_model_load():
    import os
    from pathlib import Path

    models = os.environ.get("AUBENCH_MODELS")
    if not models or not (Path(models) / "model" / "main_clnf_general.txt").is_file():
        pytest.skip("needs the OpenFace models (AUBENCH_MODELS)")
    from aubench.pipeline.landmarks.clnf import CLNFModel, check_window_sizes
    from aubench.pipeline.models.clnf_model import read_main_model

    model = CLNFModel(read_main_model(Path(models) / "model" / "main_clnf_general.txt").main)
    check_window_sizes(model, config.LandmarkParameters(), "main_clnf_general.txt")
    params = dataclasses.replace(config.LandmarkParameters(), window_sizes_init=(13, 9, 7, 5))
    with pytest.raises(ConfigError, match=r"window_sizes_init = \[13, 9, 7, 5\]: window 13 at scale 0.*scale 0"):
        check_window_sizes(model, params, "main_clnf_general.txt")


# issue 15, item 4: each of these once crashed with a traceback or ran with exit 0 to a wrong result
ISSUE_CASES = {
    "min_face_size_0": "[detector]\nmin_face_size = 0",  # was ValueError: math domain error
    "pyramid_factor_1": "[detector]\npyramid_factor = 1.0",  # was ZeroDivisionError
    "sim_size_out_0": "[analyser]\nsim_size_out = 0",  # was a NumPy broadcast error
    "window_sizes_init_empty": "[landmarks]\nwindow_sizes_init = []",  # landmarks ~20 px off, exit 0
    "num_optimisation_iteration_-1": "[landmarks]\nnum_optimisation_iteration = -1",  # exit 0, never fitted
    "pyramid_factor_1.5": "[detector]\npyramid_factor = 1.5",  # no face found, exit 0
}


@pytest.mark.parametrize("case", sorted(ISSUE_CASES))
def test_issue_cases_are_one_line_and_exit_2_from_the_cli(tmp_path, capsys, case):
    from aubench import cli

    section_key = ISSUE_CASES[case].split("\n")[1].split(" = ")[0]
    path = tmp_path / "bad.toml"
    path.write_text(ISSUE_CASES[case] + "\n")
    rc = cli.main(["run", "default.wmv", "-o", str(tmp_path / "out"), "--config", str(path), "--frames", "2"])
    err = capsys.readouterr().err
    assert rc == 2
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith(f"aubench run: error: {path}: [") and f"] {section_key} = " in lines[0]
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())

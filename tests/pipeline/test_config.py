from __future__ import annotations

import dataclasses

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from aubench.pipeline import config
from aubench.pipeline.errors import ConfigError


def write(tmp_path, text):
    p = tmp_path / "c.toml"
    p.write_text(text)
    return p


def test_defaults_are_openface_featureextraction_values():
    cfg = config.Config()
    assert cfg.landmarks.window_sizes_init == (11, 9, 7, 5)
    assert cfg.landmarks.window_sizes_small == (0, 9, 7, 0)
    assert cfg.landmarks.sigma == 1.5 and cfg.landmarks.reg_factor == 25.0
    assert cfg.analyser.sim_scale_out == 0.7 and cfg.analyser.sim_size_out == 112
    assert cfg.detector.min_face_size == 60


def test_load_overrides_and_is_frozen(tmp_path):
    cfg = config.load(write(tmp_path, "[landmarks]\nnum_optimisation_iteration = 3\nsigma = 2\n"))
    assert cfg.landmarks.num_optimisation_iteration == 3
    assert cfg.landmarks.sigma == 2.0 and isinstance(cfg.landmarks.sigma, float)
    with pytest.raises(dataclasses.FrozenInstanceError):
        cfg.landmarks.sigma = 1.0  # type: ignore[misc]


def test_unknown_key_names_file_key_and_suggestion(tmp_path):
    p = write(tmp_path, "[landmarks]\nnum_optimisation_iterations = 3\n")
    with pytest.raises(ConfigError) as err:
        config.load(p)
    msg = str(err.value)
    assert str(p) in msg and "num_optimisation_iterations" in msg
    assert 'did you mean "num_optimisation_iteration"' in msg


def test_a_removed_key_says_so_and_how_to_fix_the_file(tmp_path):
    p = write(tmp_path, "[landmarks]\nlimit_pose = true\n")
    with pytest.raises(ConfigError) as err:
        config.load(p)
    msg = str(err.value)
    assert msg.startswith(f'{p}: [landmarks]: key "limit_pose"') and "removed" in msg and "delete the line" in msg
    assert not hasattr(config.Config().landmarks, "limit_pose")


def test_unknown_section_and_wrong_type(tmp_path):
    with pytest.raises(ConfigError, match='did you mean "landmarks"'):
        config.load(write(tmp_path, "[landmark]\nsigma = 1.0\n"))
    with pytest.raises(ConfigError, match="expected an integer"):
        config.load(write(tmp_path, "[landmarks]\nnum_optimisation_iteration = 2.5\n"))
    with pytest.raises(ConfigError, match="expected true or false"):
        config.load(write(tmp_path, "[output]\nhogalign = 1\n"))


def test_bad_toml_and_missing_file(tmp_path):
    with pytest.raises(ConfigError, match="not valid TOML"):
        config.load(write(tmp_path, "[landmarks\n"))
    with pytest.raises(ConfigError, match="config file not found"):
        config.load(tmp_path / "nope.toml")


def test_unknown_variant_lists_choices(tmp_path):
    with pytest.raises(ConfigError, match="unknown kernel"):
        config.load(write(tmp_path, '[variants]\nno_such_kernel = "reference"\n'))


def test_overrides_and_hash(tmp_path):
    base = config.Config()
    changed = config.with_overrides(base, output={"hogalign": True, "simalign": None})
    assert changed.output.hogalign and not changed.output.simalign
    assert config.config_hash(base) != config.config_hash(changed)
    assert config.config_hash(base) == config.config_hash(config.Config())
    with pytest.raises(ConfigError, match="did you mean"):
        config.with_overrides(base, output={"hogalig": True})


def test_presets_load():
    for name in ("reference", "fast"):
        cfg = config.preset(name)
        assert cfg.name == name
    with pytest.raises(ConfigError, match="unknown preset"):
        config.preset("fastest")


def test_one_preset_per_distinct_setting():
    """Two presets with the same effective settings (all but name and description) would be one configuration
    under two hashes, as faithful and fast once were."""
    def settings_of(cfg):
        d = config.to_dict(cfg)
        d.pop("name")
        d.pop("description")
        return d

    names = sorted(p.stem for p in config.preset_dir().glob("*.toml"))
    assert {"fast", "reference"} <= set(names)
    seen = {}
    for name in names:
        key = repr(sorted(settings_of(config.preset(name)).items()))
        assert key not in seen, f"presets {seen.get(key)} and {name} have the same settings"
        seen[key] = name


@settings(max_examples=60, deadline=None)
@given(st.text(max_size=200))
def test_arbitrary_text_never_crashes_the_loader(tmp_path_factory, text):
    p = tmp_path_factory.mktemp("cfg") / "x.toml"
    p.write_text(text, encoding="utf-8")
    try:
        config.load(p)
    except ConfigError as exc:
        assert str(p) in str(exc)


def test_build_is_what_config_and_variant_select(tmp_path):
    """``--config``/``--variant`` on the command line and ``config=``/``variants=`` in the API go through build."""
    fast = config.preset("fast")
    assert config.build("fast") == fast and config.build(fast) == fast
    assert config.build(None) == config.Config()
    path = write(tmp_path, "[output]\nhogalign = true\n")
    built = config.build(path, {"fhog": "reference"}, output={"gaze": False})
    assert built.output.hogalign and not built.output.gaze and built.variant_selection == {"fhog": "reference"}
    with pytest.raises(ConfigError, match="expected a preset name"):
        config.build(3)
    with pytest.raises(ConfigError, match="expected a mapping of kernel name to variant name"):
        config.build("fast", {"fhog": 1})

"""Where the model folder is looked for and remembered (platformdirs, and the layout before it)."""

from __future__ import annotations

import sys

import pytest

from aubench.pipeline import cache, models


@pytest.fixture
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    for var in ("XDG_CONFIG_HOME", "XDG_CACHE_HOME", models.ENV_VAR, "AUBENCH_CACHE_DIR"):
        monkeypatch.delenv(var, raising=False)
    return tmp_path


def _model_folder(path):
    (path / "model").mkdir(parents=True)
    (path / "AU_predictors").mkdir()
    return path


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the XDG layout is Linux's")
def test_linux_keeps_the_folders_aubench_always_used(home, monkeypatch):
    assert models.state_file() == home / ".config" / "aubench" / "models_dir"
    assert models.default_download_dir() == home / ".cache" / "aubench" / "openface-2.2.0"
    assert cache.cache_dir() == home / ".cache" / "aubench"
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / "cfg"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(home / "cch"))
    assert models.state_file() == home / "cfg" / "aubench" / "models_dir"
    assert models.default_download_dir() == home / "cch" / "aubench" / "openface-2.2.0"
    assert cache.cache_dir() == home / "cch" / "aubench"
    monkeypatch.setenv("AUBENCH_CACHE_DIR", str(home / "mine"))
    assert cache.cache_dir() == home / "mine"  # the override still wins


def test_macos_and_windows_still_find_models_where_aubench_put_them_before(home, monkeypatch):
    monkeypatch.setattr(sys, "platform", "darwin")
    monkeypatch.setattr(models.platformdirs, "user_cache_path", lambda *a, **k: home / "Library" / "Caches" / "aubench")
    monkeypatch.setattr(models.platformdirs, "user_config_path",
                        lambda *a, **k: home / "Library" / "Application Support" / "aubench")
    with pytest.raises(models.AubenchError, match="Library/Caches/aubench/openface-2.2.0: no OpenFace models"):
        models.locate()
    old_download = _model_folder(home / ".cache" / "aubench" / "openface-2.2.0")
    assert models.locate() == old_download
    # an old `aubench models use` comes before the old download folder
    used = _model_folder(home / "elsewhere")
    old_state = home / ".config" / "aubench" / "models_dir"
    old_state.parent.mkdir(parents=True)
    old_state.write_text(f"{used}\n")
    assert models.locate() == used
    # what is remembered or downloaded in the new places comes first
    new = _model_folder(models.default_download_dir())
    assert models.locate() == new

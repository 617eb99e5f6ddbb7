"""The one place the shared data folder is found (aubench.harness.paths)."""

from __future__ import annotations

from aubench.harness import paths


def test_shared_dir_is_the_env_var_else_beside_the_checkout(monkeypatch, tmp_path):
    monkeypatch.setenv("AUBENCH_SHARED", str(tmp_path))
    assert paths.shared_dir() == tmp_path
    monkeypatch.setenv("AUBENCH_SHARED", "  ")
    assert paths.shared_dir() == paths.REPO.parent / "shared"
    monkeypatch.delenv("AUBENCH_SHARED")
    assert paths.shared_dir() == paths.REPO.parent / "shared"
    assert (paths.REPO / "aubench" / "harness" / "paths.py").is_file()

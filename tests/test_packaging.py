"""Packaging: one installed namespace, every package listed, and a wheel that installs only ``aubench``."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from .conftest import REPO

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

PYPROJECT = tomllib.loads((REPO / "pyproject.toml").read_text())
SETUPTOOLS = PYPROJECT["tool"]["setuptools"]


def _tree_packages() -> set[str]:
    """Every folder with an ``__init__.py`` under the installed roots, as its ``aubench.*`` name."""
    names = set()
    for prefix, folder in SETUPTOOLS["package-dir"].items():
        root = REPO / folder
        for init in root.rglob("__init__.py"):
            rel = init.parent.relative_to(root)
            if "__pycache__" in rel.parts:
                continue
            name = ".".join((prefix, *rel.parts))
            # a mapped subfolder is its own root (aubench.pipeline is pipeline/, not aubench/pipeline/)
            names.add(name)
    return names


def test_listed_packages_are_the_tree():
    listed = set(SETUPTOOLS["packages"])
    tree = _tree_packages()
    assert listed == tree, (f"pyproject.toml [tool.setuptools] packages differs from the tree: "
                            f"missing {sorted(tree - listed)}, not in the tree {sorted(listed - tree)}")


def test_every_package_is_under_aubench():
    assert all(name == "aubench" or name.startswith("aubench.") for name in SETUPTOOLS["packages"])


def test_import_aubench_stays_light():
    # the API is exported lazily: importing the package loads neither OpenCV nor Numba nor pandas
    code = ("import sys, aubench; heavy = [m for m in ('cv2', 'numba', 'pandas', 'numpy') if m in sys.modules]; "
            "print(','.join(heavy)); print(callable(aubench.extract), aubench.__version__)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split("\n")
    assert out[0] == "", f"import aubench loaded {out[0]}"
    assert out[1].startswith("True ")


@pytest.mark.slow
def test_wheel_installs_only_aubench(tmp_path: Path):
    """Build the wheel and read its file list: one top-level name, the presets and model manifest in it."""
    # from a copy of the sources: building in the checkout would leave a build/ folder there, whose
    # stale modules a later wheel could carry
    import shutil

    src = tmp_path / "src"
    shutil.copytree(REPO, src, ignore=shutil.ignore_patterns(
        ".git", ".venv*", "venv", "build", "dist", "out", ".numba_cache", "__pycache__", "*.egg-info"))
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w",
                    str(tmp_path), str(src)], check=True, capture_output=True)
    (wheel,) = tmp_path.glob("aubench-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    top = {n.split("/")[0] for n in names if not n.split("/")[0].endswith((".dist-info", ".data"))}
    assert top == {"aubench"}
    for needed in ("aubench/pipeline/extract.py", "aubench/variants/fhog/reference.py", "aubench/reports/render.py",
                   "aubench/presets/fast.toml", "aubench/pipeline/models/manifest.json", "aubench/cli.py"):
        assert needed in names, f"{needed} missing from the wheel"
    assert not any(n.startswith(("aubench/experiments/", "aubench/tests/")) for n in names)

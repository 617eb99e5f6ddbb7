"""aubench: OpenFace 2.2 Action Unit extraction in Python, faithful to the C++ and fast.

One namespace. The repository keeps the folders the project was asked for, and the
wheel installs them under ``aubench``:

=====================  ============================================================
``pipeline/``          ``aubench.pipeline``: detection, landmarks, AUs, models, I/O
``variants/``          ``aubench.variants``: the swappable implementations of every hot kernel
``reports/``           ``aubench.reports``: HTML/Markdown reports
``aubench/harness/``   ``aubench.harness``: profile, parity, A/B and gate (what the CLI runs)
``aubench/presets/``   the shipped TOML presets (``fast``, ``reference``, ...)
``experiments/``       not installed: research scripts, A/B specs and RESULTS.md
=====================  ============================================================

The Python API (:mod:`aubench.api`): :func:`extract` (a whole video, image or folder to a
DataFrame with the CSV's columns) and :class:`Stream` (one frame at a time, for live use);
their errors derive from :class:`AubenchError` and carry one message saying what to fix.
"""

from __future__ import annotations

import os as _os

__version__ = "0.2.0"

# In a source checkout that is not installed (``PYTHONPATH=<checkout>``, as ``aubench gate``
# runs a revision), the subpackages are the checkout's top-level folders: search them there.
# An installed wheel has them inside this folder, so nothing is added.
_here = _os.path.dirname(_os.path.abspath(__file__))
_root = _os.path.dirname(_here)
if not _os.path.isdir(_os.path.join(_here, "pipeline")) and all(
        _os.path.isfile(_os.path.join(_root, name, "__init__.py")) for name in ("pipeline", "variants", "reports")):
    __path__.append(_root)  # noqa: F821 (the package's own __path__)

__all__ = ["__version__", "extract", "Stream", "FrameResult", "AubenchError"]


def __getattr__(name: str):
    # the API loads the pipeline (OpenCV, Numba) only when used, so ``import aubench`` stays cheap
    if name in ("extract", "Stream", "FrameResult"):
        from aubench import api

        return getattr(api, name)
    if name == "AubenchError":
        from aubench.pipeline.errors import AubenchError

        return AubenchError
    raise AttributeError(f"module 'aubench' has no attribute {name!r}")

"""Fixtures shared by the whole suite: the ../shared folder beside the checkout.

Tests run on the real OpenFace models and the real media; a missing ../shared is
an error (CI always has it), never a skip.
"""

from __future__ import annotations

import os

# BLAS on one thread, as the CLI runs it (aubench/cli.py) and as the BLAS tolerances were measured
# (experiments/blas_spread.py), set before NumPy loads OpenBLAS. A threaded OpenBLAS also splits sums by
# core count, and with two xdist workers on two cores its threads mostly wait on each other: a whole
# clip's parity.compare takes 10 s with two threads per worker, 1.6 s with one. A value exported wins.
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import tempfile  # noqa: E402
from pathlib import Path  # noqa: E402

import pytest  # noqa: E402

from aubench.harness import paths  # noqa: E402

REPO = Path(__file__).resolve().parents[1]


def _checked_shared_dir() -> Path:
    path = paths.shared_dir()
    if not (path / "openface" / "model").is_dir():
        raise RuntimeError(
            f"{path}: the shared folder (OpenFace models, media, C++ reference) is missing; "
            "put it beside the checkout or set AUBENCH_SHARED"
        )
    return path


SHARED = _checked_shared_dir()
# derived-array cache (aubench.pipeline.cache): one fresh folder per test process, never the user's
os.environ["AUBENCH_CACHE_DIR"] = tempfile.mkdtemp(prefix="aubench-test-cache-")
MODELS = SHARED / "openface"
MEDIA = SHARED / "media"
REFERENCE = SHARED / "reference"
TRACE = REFERENCE / "trace"
# Kernels whose generated cases (Kernel.cases) take seconds to build: running_median replays 40 frames
# of the plain-NumPy median to reach its state (~2 s per test). Their registry rows run in the full suite only.
SLOW_CASE_KERNELS = frozenset({"running_median"})


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    return SHARED


@pytest.fixture(scope="session")
def models_dir() -> Path:
    return MODELS


@pytest.fixture(scope="session")
def media_dir() -> Path:
    return MEDIA


@pytest.fixture(scope="session")
def reference_dir() -> Path:
    return REFERENCE


@pytest.fixture(scope="session")
def trace_dir() -> Path:
    return TRACE


@pytest.fixture(autouse=True)
def _models_env(monkeypatch):
    """Stages locate models through AUBENCH_MODELS, as CI sets it."""
    monkeypatch.setenv("AUBENCH_MODELS", str(MODELS))

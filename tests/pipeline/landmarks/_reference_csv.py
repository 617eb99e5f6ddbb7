"""Load the C++ FeatureExtraction CSV (reference/<clip>/<clip>.csv) as named float64 columns."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import numpy as np

from tests.conftest import REFERENCE


@lru_cache(maxsize=4)
def load(clip: str) -> dict[str, np.ndarray]:
    path = Path(REFERENCE) / clip / f"{clip}.csv"
    with path.open() as fh:
        header = fh.readline().strip().split(",")
    data = np.loadtxt(path, delimiter=",", skiprows=1, ndmin=2)
    return {name: data[:, k] for k, name in enumerate(header)}


def block(columns: dict[str, np.ndarray], prefix: str, count: int) -> np.ndarray:
    """(frames, count) array of columns ``prefix0 .. prefix{count-1}``."""
    return np.stack([columns[f"{prefix}{k}"] for k in range(count)], axis=1)

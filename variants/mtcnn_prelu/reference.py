"""Reference PReLU: plain NumPy."""

from __future__ import annotations

import numpy as np


def prelu(maps: np.ndarray, slopes: np.ndarray) -> np.ndarray:
    """Plain NumPy ``where`` (contract: :class:`aubench.pipeline.contracts.MtcnnPrelu`)."""
    return np.where(maps >= 0, maps, maps * slopes).astype(np.float32)

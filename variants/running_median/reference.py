"""Plain NumPy histogram running median: add the descriptor, then rescan every histogram row (the reference variant)."""

from __future__ import annotations

import numpy as np

from aubench.pipeline.au.median_state import RunningMedianState


def running_median(state: RunningMedianState, descriptor: np.ndarray, update: bool) -> np.ndarray:
    """Plain NumPy, rescans the cumulative histogram of every row on each call (contract:
    :class:`aubench.pipeline.contracts.RunningMedian`).
    """
    if update:
        alpha, beta = state.bin_scale()
        position = np.asarray(descriptor, dtype=np.float64) * alpha + beta
        position = np.where(position > state.num_bins - 1, state.num_bins - 1, position)
        position = np.where(position < 0, 0, position)
        bins = position.astype(np.int64)
        state.histogram[np.arange(state.rows), bins] += 1
        state.hist_count += 1
        state.tracked = False  # incremental bookkeeping not maintained here

    if state.hist_count == 1:
        return np.array(descriptor, dtype=np.float64, copy=True)

    # first bin whose cumulative count reaches the cutoff, per row
    cutoff = (state.hist_count + 1) // 2
    cumulative = np.cumsum(state.histogram, axis=1)
    median_bins = np.argmax(cumulative >= cutoff, axis=1)
    return state.bin_centres(median_bins)

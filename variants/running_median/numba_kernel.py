"""Numba running median that moves each row's median bin incrementally instead of rescanning."""

from __future__ import annotations

import numpy as np

from aubench.pipeline.au.median_state import RunningMedianState
from aubench.variants._jit import jit


@jit
def _update(histogram, median_bin, below, descriptor, update, hist_count, tracked, alpha, beta):
    rows, num_bins = histogram.shape
    cutoff = (hist_count + 1) // 2
    top = num_bins - 1
    for i in range(rows):
        if update:
            position = descriptor[i] * alpha + beta
            if position > top:
                position = top
            if position < 0:
                position = 0.0
            b = int(position)
            histogram[i, b] += 1
            if tracked and b < median_bin[i]:
                below[i] += 1
        if not tracked:
            # full scan once: first bin whose cumulative count reaches the cutoff
            cumulative = 0
            j = 0
            while j < top and cumulative + histogram[i, j] < cutoff:
                cumulative += histogram[i, j]
                j += 1
            median_bin[i] = j
            below[i] = cumulative
        else:
            j = median_bin[i]
            b_count = below[i]
            # move up while the bin does not reach the cutoff
            while j < top and b_count + histogram[i, j] < cutoff:
                b_count += histogram[i, j]
                j += 1
            # move down while the bins below already reach it
            while j > 0 and b_count >= cutoff:
                j -= 1
                b_count -= histogram[i, j]
            median_bin[i] = j
            below[i] = b_count


def running_median(state: RunningMedianState, descriptor: np.ndarray, update: bool) -> np.ndarray:
    """Same contract; keeps each row's median bin and the count below it, so an update moves
    the median by a few bins instead of rescanning all of them."""
    descriptor = np.ascontiguousarray(descriptor, dtype=np.float64)
    alpha, beta = state.bin_scale()
    count = state.hist_count + (1 if update else 0)
    _update(state.histogram, state.median_bin, state.below, descriptor, bool(update), count,
            bool(state.tracked), alpha, beta)
    state.hist_count = count
    state.tracked = True
    if count == 1:
        return descriptor.copy()
    return state.bin_centres(state.median_bin)

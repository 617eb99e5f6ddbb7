"""Plain NumPy histogram running median: add the descriptor, then rescan every histogram row (the contract)."""

from __future__ import annotations

import numpy as np

from aubench.pipeline.au.median_state import RunningMedianState


def running_median(state: RunningMedianState, descriptor: np.ndarray, update: bool) -> np.ndarray:
    """Add one descriptor to the per-dimension histograms and return the approximate median.

    Reproduces ``FaceAnalyser.cpp::FaceAnalyser::UpdateRunningMedian`` (the person-specific
    neutral face of the dynamic AU models). ``state`` is updated in place.

    Parameters
    ----------
    state : :class:`aubench.pipeline.au.median_state.RunningMedianState` with ``rows`` dimensions.
    descriptor : (rows,) float64, the current frame's HOG or geometry descriptor.
    update : bool
        Add ``descriptor`` to the histograms (OpenFace: the frame was tracked successfully).
        The median is recomputed either way.

    Returns
    -------
    (rows,) float64 median: the descriptor itself while exactly one descriptor has been
    added (even when it is not the current one), otherwise per row the centre of the first
    bin whose cumulative count reaches ``(hist_count + 1) // 2``.

    Notes
    -----
    Quirks kept from OpenFace: the bin of a value is ``int(x * alpha + beta)`` with
    ``alpha = bins * (1/length)``, ``beta = -min * bins * (1/length)`` (OpenCV folds
    ``(x - min) * bins / length`` into one scale and shift), clipped to ``[0, bins - 1]``
    before truncation, so values outside the range land in the end bins; the median is a
    bin centre, not an interpolated value; with no descriptor added yet the cutoff is 0 and
    every row reports the first bin's centre. Exact: no tolerance (integer counts, the same
    double expressions as C++).
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

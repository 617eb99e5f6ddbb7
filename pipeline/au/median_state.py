"""The explicit state of one histogram running median (OpenFace keeps it inside FaceAnalyser)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass(eq=False)
class RunningMedianState:
    """Histograms of every descriptor dimension and what the median kernels keep between calls.

    One object per histogram OpenFace keeps: ``hog_desc_hist[view]`` with ``hog_hist_sum[view]``
    (1000 bins over [-0.005, 1]) and ``geom_desc_hist`` with ``geom_hist_sum`` (10000 bins over
    [-60, 60]). A variant updates it in place.

    Attributes
    ----------
    histogram : (rows, num_bins) int32
        Counts per dimension and bin.
    hist_count : int
        Number of descriptors added (every row of ``histogram`` sums to it).
    num_bins, min_val, max_val
        The histogram's binning, fixed for its life.
    median_bin, below : (rows,) int64
        Bookkeeping of incremental variants: the bin holding each row's median and the count
        in the bins below it; valid only while ``tracked`` is True. A variant that changes the
        histogram without maintaining them sets ``tracked`` to False.
    """

    rows: int
    num_bins: int
    min_val: float
    max_val: float
    histogram: np.ndarray = field(init=False)
    hist_count: int = 0
    median_bin: np.ndarray = field(init=False)
    below: np.ndarray = field(init=False)
    tracked: bool = False

    def __post_init__(self) -> None:
        self.histogram = np.zeros((self.rows, self.num_bins), dtype=np.int32)
        self.median_bin = np.zeros(self.rows, dtype=np.int64)
        self.below = np.zeros(self.rows, dtype=np.int64)

    @property
    def length(self) -> float:
        return abs(self.max_val - self.min_val)

    def bin_scale(self) -> tuple[float, float]:
        """``(alpha, beta)`` with bin position = descriptor * alpha + beta, as OpenCV evaluates
        ``(descriptor - min_val) * num_bins / length`` (one scale and one shift)."""
        alpha = float(self.num_bins) * (1.0 / self.length)
        beta = (-self.min_val * float(self.num_bins)) * (1.0 / self.length)
        return alpha, beta

    def bin_centres(self, bins: np.ndarray) -> np.ndarray:
        """Value reported for a median in bin j: ``min + j * (length / bins) + 0.5 * length / bins``."""
        j = np.asarray(bins, dtype=np.float64)
        return self.min_val + j * (self.length / self.num_bins) + (0.5 * self.length / self.num_bins)

    def copy(self) -> RunningMedianState:
        other = RunningMedianState(self.rows, self.num_bins, self.min_val, self.max_val)
        other.histogram[...] = self.histogram
        other.hist_count = self.hist_count
        other.median_bin[...] = self.median_bin
        other.below[...] = self.below
        other.tracked = self.tracked
        return other


def hog_median_state(rows: int = 4464) -> RunningMedianState:
    """OpenFace's HOG histogram: 1000 bins over [-0.005, 1] (``FaceAnalyser`` constructor)."""
    return RunningMedianState(rows, 1000, -0.005, 1.0)


def geom_median_state(rows: int = 238) -> RunningMedianState:
    """OpenFace's geometry histogram: 10000 bins over [-60, 60]."""
    return RunningMedianState(rows, 10000, -60.0, 60.0)

"""Person-specific calibration of the dynamic AU models: running medians of the HOG and
geometry descriptors (``FaceAnalyser::AddNextFrame``'s median part, ``UpdateRunningMedian``).

The dynamic models predict from ``descriptor - median``, the median standing in for the
person's neutral face. OpenFace's schedule, kept here:

* the medians are updated only on odd frame counts (frames 1, 3, 5, ... of the video,
  counting failed frames too: "a small speedup"), and only successful frames are added to
  the histograms; on an odd frame the median is recomputed even when nothing is added;
* the HOG has one histogram per head-orientation bin (only the frontal bin (0, 0, 0) in
  OpenFace 2.2) but a single median, which is the last one computed; its negative values
  are set to 0;
* the geometry has one histogram.

The histogram arithmetic is the ``running_median`` kernel
(:class:`aubench.pipeline.contracts.RunningMedian`), passed in with the resolved kernels.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from aubench.pipeline.au.median_state import RunningMedianState, geom_median_state, hog_median_state
from aubench.pipeline.registry import Kernels

FRONTAL = ((0.0, 0.0, 0.0),)


def updates_median(frames_tracking: int) -> bool:
    """True on the frame counts where OpenFace updates the medians (1-based, odd)."""
    return frames_tracking % 2 == 1


def view_id(orientation_bins: Sequence[Sequence[float]], rotation: Sequence[float]) -> int:
    """``GetViewId``: index of the orientation bin closest (Euclidean, radians) to ``rotation``;
    ties go to the first bin."""
    best, best_d = 0, -1.0
    r = np.asarray(rotation, dtype=np.float64).reshape(3)
    for i, centre in enumerate(orientation_bins):
        d = float(np.linalg.norm(r - np.asarray(centre, dtype=np.float64)))
        if i == 0 or d < best_d:
            best, best_d = i, d
    return best


class RunningMedians:
    """The histograms and current medians of one tracked person.

    Parameters
    ----------
    n_views : int
        Number of head-orientation bins (one HOG histogram each).
    hog_size, geom_size : int
        Descriptor lengths (4464 and 238 for OpenFace's models).
    """

    def __init__(self, n_views: int = 1, hog_size: int = 4464, geom_size: int = 238):
        self.n_views, self.hog_size, self.geom_size = n_views, hog_size, geom_size
        self.reset()

    def reset(self) -> None:
        """Forget the person (``FaceAnalyser::Reset``)."""
        self.hog_states: list[RunningMedianState] = [hog_median_state(self.hog_size) for _ in range(self.n_views)]
        self.geom_state: RunningMedianState = geom_median_state(self.geom_size)
        self.hog_median = np.zeros(self.hog_size)
        self.geom_median = np.zeros(self.geom_size)

    def update(self, kernels: Kernels, hog: np.ndarray, geom: np.ndarray, view: int, add: bool) -> None:
        """One ``UpdateRunningMedian`` of the HOG (histogram of ``view``) and of the geometry.

        ``add``: put the descriptors into the histograms (the frame was tracked); the medians
        are recomputed either way.
        """
        hog = np.asarray(hog, dtype=np.float64).reshape(-1)
        median = kernels.running_median(self.hog_states[view], hog, add)
        median[median < 0] = 0.0
        self.hog_median = median
        self.geom_median = kernels.running_median(self.geom_state, np.asarray(geom, dtype=np.float64).reshape(-1), add)

    @property
    def hog_counts(self) -> list[int]:
        """Descriptors added per view (``hog_hist_sum``)."""
        return [s.hist_count for s in self.hog_states]

    @property
    def geom_count(self) -> int:
        return self.geom_state.hist_count

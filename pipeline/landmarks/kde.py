"""The precomputed 0.1-cell KDE table of ``CLNF::NonVectorisedMeanShift_precalc_kde`` (an explicit cache)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

STEP = np.float32(0.1)


@dataclass(frozen=True)
class KdeTable:
    """Gaussian kernels centred on a 0.1-cell grid of one response window.

    ``table[gx * steps + gy]`` is the (w*w,) kernel ``exp(a*((gy*0.1 - i)^2 + (gx*0.1 - j)^2))``
    over the window's cells ``[i=row, j=col]``, float32, as OpenFace precomputes it.
    """

    window: int
    a: float
    steps: int
    table: np.ndarray


def build_kde_table(window: int, a: float) -> KdeTable:
    """Build the table in float32 arithmetic, in OpenFace's order (x outer, y inner)."""
    a32 = np.float32(a)
    bound = np.float32(window) / STEP  # loop bound, a float in C++
    n_grid = int(np.ceil(bound))  # x < bound
    grid = np.arange(n_grid, dtype=np.float32) * STEP
    cells = np.arange(window, dtype=np.float32)
    # vx = (dy - ii)^2 over rows, vy = (dx - jj)^2 over columns
    vx = (grid[:, None] - cells[None, :]) ** 2  # [gy, ii]
    vy = (grid[:, None] - cells[None, :]) ** 2  # [gx, jj]
    arg = a32 * (vx[None, :, :, None] + vy[:, None, None, :])  # [gx, gy, ii, jj]
    table = np.exp(arg.astype(np.float32)).astype(np.float32).reshape(n_grid * n_grid, window * window)
    steps = int(np.float32(window) / STEP + np.float32(0.5))
    return KdeTable(window, float(a), steps, table)


@dataclass
class KdeCache:
    """KDE tables by (window, a). OpenFace caches by window only; in its pipelines a
    window always goes with one sigma, so keying by both changes nothing but is safe."""

    tables: dict = field(default_factory=dict)

    def get(self, window: int, a: float) -> KdeTable:
        key = (int(window), float(np.float32(a)))
        if key not in self.tables:
            self.tables[key] = build_kde_table(window, a)
        return self.tables[key]

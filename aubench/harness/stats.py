"""Statistics for speed claims: robust summaries, bootstrap intervals, verdicts.

A change is called faster or slower only when it is *significant* (the
bootstrap confidence interval of the median ratio excludes 1) **and** larger
than a minimum effect (asv's ``step_detect`` and pyperf's ``compare`` both
refuse to call small or noisy differences). The bootstrap is
:func:`scipy.stats.bootstrap` (percentile method) with a fixed seed, so a report
is reproducible from its result files; Pearson's r is :func:`scipy.stats.pearsonr`.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

DEFAULT_MIN_EFFECT = 0.05
DEFAULT_CONFIDENCE = 0.95


@functools.cache
def _scipy_stats():
    """``scipy.stats``, imported on first use: it takes ~0.5-1.5 s, and every harness command imports this module.

    Also what this scipy's signatures take: ``rng`` (scipy >= 1.15, SPEC 7; older releases only take
    ``random_state``) and pearsonr's ``axis`` (scipy >= 1.13).
    """
    import scipy.stats

    rng_keyword = "rng" if "rng" in inspect.signature(scipy.stats.bootstrap).parameters else "random_state"
    pearson_takes_axis = "axis" in inspect.signature(scipy.stats.pearsonr).parameters
    return scipy.stats, rng_keyword, pearson_takes_axis


def summary(values: Sequence[float]) -> dict[str, float]:
    """median, mean, p5, p95, min, max, n of a sample (NaN-free; empty gives n=0 only)."""
    x = np.asarray(values, dtype=float)
    x = x[np.isfinite(x)]
    if x.size == 0:
        return {"n": 0}
    return {
        "n": int(x.size), "median": float(np.median(x)), "mean": float(x.mean()),
        "p5": float(np.percentile(x, 5)), "p95": float(np.percentile(x, 95)),
        "min": float(x.min()), "max": float(x.max()),
    }


def bootstrap_ci(values: Sequence[float], statistic: Callable[[np.ndarray], float] = np.median,
                 confidence: float = DEFAULT_CONFIDENCE, resamples: int = 4000,
                 seed: int = 0) -> tuple[float, float]:
    """Percentile-bootstrap confidence interval of ``statistic`` over ``values``.

    :func:`scipy.stats.bootstrap` with ``method="percentile"``, ``resamples`` resamples
    and a generator seeded with ``seed`` (the same values give the same interval). With
    one value the interval is that value (no evidence of spread, and the verdict logic
    then cannot call anything significant unless it is exactly beyond the effect
    threshold, which :func:`verdict` refuses for n < 3).
    """
    x = np.asarray(values, dtype=float)
    x = x[np.isfinite(x)]
    if x.size == 0:
        raise ValueError("bootstrap_ci needs at least one finite value")
    if x.size == 1:
        return float(x[0]), float(x[0])
    sps, rng_keyword, _ = _scipy_stats()
    result = sps.bootstrap((x,), statistic, n_resamples=resamples, confidence_level=confidence,
                           method="percentile", **{rng_keyword: np.random.default_rng(seed)})
    ci = result.confidence_interval
    return float(ci.low), float(ci.high)


@dataclass(frozen=True)
class Comparison:
    """B against A: ``ratio`` = time(B) / time(A) (below 1: B is faster)."""

    ratio: float
    ci_low: float
    ci_high: float
    n: int
    significant: bool
    verdict: str          # "faster", "slower" or "no change"
    min_effect: float
    confidence: float

    def as_dict(self) -> dict[str, float | int | str | bool]:
        return dict(self.__dict__)

    def describe(self, label_a: str = "A", label_b: str = "B") -> str:
        """One line naming both arms: the ratio with its interval and which arm the verdict favours."""
        speed = 1.0 / self.ratio if self.ratio > 0 else float("inf")
        return (f"B/A time ratio {self.ratio:.3f} [{self.ci_low:.3f}, {self.ci_high:.3f}] "
                f"({self.confidence:.0%} CI, n={self.n}), B ({label_b}) runs at {speed:.2f}x the speed of A "
                f"({label_a}): {self.verdict_text(label_a, label_b)}")

    def verdict_text(self, label_a: str = "A", label_b: str = "B") -> str:
        """The verdict in words that name the arm: "B (fast) is faster", or why there is none."""
        if self.verdict == "faster":
            return f"B ({label_b}) is faster"
        if self.verdict == "slower":
            return f"A ({label_a}) is faster"
        return "no change (" + ("not significant" if not self.significant
                                else f"within the minimum effect of {self.min_effect:.0%}") + ")"


def verdict(ratio: float, ci: tuple[float, float], n: int, min_effect: float = DEFAULT_MIN_EFFECT) -> tuple[bool, str]:
    """(significant, verdict) for a median time ratio and its interval."""
    low, high = ci
    significant = n >= 3 and (high < 1.0 or low > 1.0)
    if significant and high < 1.0 and ratio <= 1.0 - min_effect:
        return True, "faster"
    if significant and low > 1.0 and ratio >= 1.0 + min_effect:
        return True, "slower"
    return significant, "no change"


def compare_ratios(ratios: Sequence[float], min_effect: float = DEFAULT_MIN_EFFECT,
                   confidence: float = DEFAULT_CONFIDENCE, seed: int = 0) -> Comparison:
    """Median of per-pair time ratios B/A with its bootstrap interval and verdict.

    The median of ratios of interleaved pairs cancels slow drifts of the machine
    (each pair shares its moment); the log is not needed for the median.
    """
    r = np.asarray(ratios, dtype=float)
    r = r[np.isfinite(r) & (r > 0)]
    if r.size == 0:
        raise ValueError("no valid ratios to compare")
    med = float(np.median(r))
    ci = bootstrap_ci(r, confidence=confidence, seed=seed)
    significant, word = verdict(med, ci, int(r.size), min_effect)
    return Comparison(med, ci[0], ci[1], int(r.size), significant, word, min_effect, confidence)


def pearson_r(a: Sequence[float], b: Sequence[float]) -> float:
    """Pearson correlation (:func:`scipy.stats.pearsonr`); 1.0 for two identical constant series, NaN when
    only one is constant or fewer than two values are given (where scipy would warn and return NaN)."""
    x = np.asarray(a, dtype=float)
    y = np.asarray(b, dtype=float)
    if x.size < 2:
        return float("nan")
    x_constant, y_constant = bool(np.all(x == x[0])), bool(np.all(y == y[0]))
    if x_constant or y_constant:
        return 1.0 if (x_constant and y_constant and np.array_equal(x, y)) else float("nan")
    return float(_scipy_stats()[0].pearsonr(x, y).statistic)


def pearson_r_rows(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """:func:`pearson_r` of each row of ``a`` with the same row of ``b`` (2-D, equal shapes), in one scipy call.

    Per-frame HOG correlations of a whole clip: one vectorised :func:`scipy.stats.pearsonr` instead of
    one call per frame (~5 ms each, most of it scipy's per-call overhead).
    """
    x = np.atleast_2d(np.asarray(a, dtype=float))
    y = np.atleast_2d(np.asarray(b, dtype=float))
    if x.shape != y.shape:
        raise ValueError(f"pearson_r_rows: shapes {x.shape} and {y.shape} differ; expected two equal 2-D arrays")
    out = np.full(len(x), np.nan)
    if x.shape[1] < 2:
        return out
    x_constant, y_constant = np.all(x == x[:, :1], axis=1), np.all(y == y[:, :1], axis=1)
    both = x_constant & y_constant
    out[both] = [1.0 if np.array_equal(u, v) else np.nan for u, v in zip(x[both], y[both])]
    varying = ~x_constant & ~y_constant
    if varying.any():
        sps, _, takes_axis = _scipy_stats()
        if takes_axis:
            out[varying] = sps.pearsonr(x[varying], y[varying], axis=1).statistic
        else:  # scipy < 1.13
            out[varying] = [sps.pearsonr(u, v).statistic for u, v in zip(x[varying], y[varying])]
    return out

"""Property tests of the MTCNN kernels against obviously-correct loops (random shapes and values)."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from aubench.pipeline import registry

KERNELS = registry.kernels()


def _variants(name):
    return {v: k.load() for v, k in KERNELS[name].variants.items() if k.unavailable_reason() is None}


@st.composite
def conv_case(draw):
    n, c, k = draw(st.integers(1, 3)), draw(st.integers(1, 5)), draw(st.integers(1, 6))
    kh, kw = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    h, w = draw(st.integers(kh, kh + 6)), draw(st.integers(kw, kw + 6))
    rng = np.random.default_rng(draw(st.integers(0, 2**31)))
    return (rng.normal(0, 1, (n, h, w, c)).astype(np.float32), rng.normal(0, 1, (k, c, kh, kw)).astype(np.float32),
            rng.normal(0, 1, k).astype(np.float32))


@settings(max_examples=40, deadline=None)
@given(conv_case())
def test_conv_is_valid_cross_correlation(case):
    maps, weights, bias = case
    n, h, w, c = maps.shape
    k, _, kh, kw = weights.shape
    naive = np.zeros((n, h - kh + 1, w - kw + 1, k))
    for b in range(n):
        for y in range(h - kh + 1):
            for x in range(w - kw + 1):
                for o in range(k):
                    naive[b, y, x, o] = np.sum(maps[b, y:y + kh, x:x + kw, :].astype(np.float64)
                                               * weights[o].transpose(1, 2, 0)) + bias[o]
    for name, fn in _variants("mtcnn_conv").items():
        out = fn(maps, weights, bias)
        assert out.shape == naive.shape and out.dtype == np.float32
        np.testing.assert_allclose(out, naive, atol=1e-5 * (1 + np.abs(naive).max()), err_msg=name)


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 12), st.integers(1, 12), st.integers(1, 4), st.integers(1, 4), st.integers(1, 3),
       st.integers(1, 3), st.integers(0, 2**31))
def test_max_pool_windows(h, w, kx, ky, sx, sy, seed):
    from aubench.pipeline.detect.mtcnn import pooled_size

    maps = np.random.default_rng(seed).normal(0, 1, (2, h, w, 3)).astype(np.float32)
    ho, wo = max(pooled_size(h, ky, sy), 0), max(pooled_size(w, kx, sx), 0)
    expected = np.zeros((2, ho, wo, 3), np.float32)
    for i in range(ho):
        for j in range(wo):
            if i * sy < h and j * sx < w:
                expected[:, i, j] = maps[:, i * sy:i * sy + ky, j * sx:j * sx + kx].max(axis=(1, 2))
    for name, fn in _variants("mtcnn_max_pool").items():
        np.testing.assert_array_equal(fn(maps, (kx, ky), (sx, sy)), expected, err_msg=name)


def test_pooled_size_rounds_half_away_from_zero():
    from aubench.pipeline.detect.mtcnn import pooled_size

    assert pooled_size(11, 2, 2) == 6  # 4.5 -> 5 (C round), not banker's 4
    assert pooled_size(22, 3, 2) == 11  # 9.5 -> 10
    assert pooled_size(2, 3, 2) == 0  # round(-0.5) = -1: no cell
    assert pooled_size(2, 3, 3) == 1  # round(-1/3) = 0: one clipped window


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 50), st.integers(1, 20), st.integers(0, 2**31))
def test_prelu_and_fc(n, c, seed):
    rng = np.random.default_rng(seed)
    x = rng.normal(0, 1, (n, c)).astype(np.float32)
    x[0, 0] = 0.0
    slopes = rng.normal(0, 1, c).astype(np.float32)
    for name, fn in _variants("mtcnn_prelu").items():
        np.testing.assert_array_equal(fn(x, slopes), np.where(x >= 0, x, x * slopes), err_msg=name)
    weights = rng.normal(0, 1, (7, c)).astype(np.float32)
    bias = rng.normal(0, 1, 7).astype(np.float32)
    expected = x.astype(np.float64) @ weights.T.astype(np.float64) + bias
    for name, fn in _variants("mtcnn_fc").items():
        np.testing.assert_allclose(fn(x, weights, bias), expected, atol=1e-5 * (1 + np.abs(expected).max()), err_msg=name)


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 40), st.floats(0.1, 0.9), st.booleans(), st.integers(0, 2**31))
def test_nms_properties(n, threshold, minimum, seed):
    rng = np.random.default_rng(seed)
    xy = rng.uniform(0, 60, (n, 2))
    wh = rng.uniform(1, 40, (n, 2))
    boxes = np.hstack([xy, wh]).astype(np.float32)
    scores = np.round(rng.uniform(0, 1, n), 1).astype(np.float32)  # ties
    rects = np.rint(boxes).astype(np.int64)

    def overlap(a, b):
        ra, rb = rects[a], rects[b]
        iw = min(ra[0] + ra[2], rb[0] + rb[2]) - max(ra[0], rb[0])
        ih = min(ra[1] + ra[3], rb[1] + rb[3]) - max(ra[1], rb[1])
        inter = max(iw, 0) * max(ih, 0) if iw > 0 and ih > 0 else 0
        aa, ab = ra[2] * ra[3], rb[2] * rb[3]
        return np.float32(inter) / np.float32(min(aa, ab) if minimum else aa + ab - inter)

    results = {name: fn(boxes, scores, threshold, minimum) for name, fn in _variants("mtcnn_nms").items()}
    kept = results["reference"]
    for name, other in results.items():
        np.testing.assert_array_equal(other, kept, err_msg=name)
    assert len(set(kept.tolist())) == len(kept)
    assert all(scores[a] >= scores[b] for a, b in zip(kept, kept[1:]))
    for i, a in enumerate(kept):  # kept boxes never overlap an earlier kept box beyond the threshold
        assert all(not overlap(b, a) > np.float32(threshold) for b in kept[:i])
    for r in set(range(n)) - set(kept.tolist()):  # each removed box overlaps a kept box at least as confident
        assert any(overlap(k, r) > np.float32(threshold) and scores[k] >= scores[r] for k in kept)

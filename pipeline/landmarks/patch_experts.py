"""CCNF patch experts at work: view selection, Sigma, areas of interest, response maps.

Reproduces ``Patch_experts.cpp::Patch_experts`` for the CCNF experts of OpenFace 2.2
(``GetViewIdx``, ``Response``) and ``CCNF_patch_expert::ComputeSigmas``. The sampling of
the areas of interest and the response arithmetic are the ``warp_areas`` and
``patch_response`` kernels, and the similarity to the reference shape is ``align_shapes``:
callers pass the resolved kernels in.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from aubench.pipeline import cache
from aubench.pipeline.contracts import AlignShapes, PatchResponse, WarpAreas
from aubench.pipeline.models.ccnf import CCNFScale

_ALPHA_MIN = 1e-4  # neurons with alpha <= this are skipped by OpenFace


def view_index(centers: np.ndarray, params_global: np.ndarray) -> int:
    """Closest view centre to the head rotation (``Patch_experts::GetViewIdx``).

    Squared Euclidean distance over the three Euler angles; the first minimum wins.
    """
    rot = np.asarray(params_global, np.float32)[1:4]
    d = ((rot.astype(np.float64)[None, :] - centers).astype(np.float32) ** 2).sum(axis=1, dtype=np.float32)
    return int(np.argmin(d))


def compute_sigma(alphas: np.ndarray, betas: np.ndarray, sigma_components: np.ndarray, window: int) -> np.ndarray:
    """``CCNF_patch_expert::ComputeSigmas`` for one expert and one window size.

    ``Sigma = inv(2 * (sum(alpha) * I + sum_b beta_b * S_b))``, (w*w, w*w) float32.
    OpenFace inverts in float32 by Cholesky; inverting in float64 and rounding agrees
    with it to about 1e-6 relative.
    """
    size = window * window
    sum_alphas = np.float32(0)
    for a in alphas:
        sum_alphas = np.float32(sum_alphas + a)
    q = sum_alphas * np.eye(size, dtype=np.float32)
    q2 = np.zeros((size, size), np.float32)
    for b in range(len(sigma_components)):
        q2 = q2 + np.float32(betas[b]) * sigma_components[b]
    sigma_inv = (np.float32(2) * (q + q2)).astype(np.float64)
    if size >= 100:
        inverse = _spd_inverse(sigma_inv)
        if inverse is not None:
            return inverse.astype(np.float32)
    return np.linalg.inv(sigma_inv).astype(np.float32)


def _spd_inverse(a: np.ndarray) -> np.ndarray | None:
    """Inverse of a symmetric positive definite float64 matrix by Cholesky (LAPACK potrf/potri), or None.

    For the CCNF Sigma matrices of windows 11 and 15 (121 and 225 rows, the first frame's
    ~340 largest inversions) it is 1.8x faster than the LU inverse and, rounded to float32,
    equal to it on every one of the 2460 such matrices of the shipped CLNF models.
    """
    from scipy.linalg import lapack

    factor, info = lapack.dpotrf(a, lower=False, clean=False)
    if info != 0:
        return None
    upper, info = lapack.dpotri(factor, lower=False)
    if info != 0:
        return None
    return np.triu(upper) + np.triu(upper, 1).T


@dataclass
class SigmaCache:
    """Explicit cache of ``Sigma`` matrices, keyed by (scale, view, window).

    OpenFace keeps them inside each patch expert; here they are one stacked
    (n_points, w*w, w*w) array per (scale, view, window), plus the stacked weight
    matrices and alphas the ``patch_response`` kernel takes.
    """

    _sigmas: dict = field(default_factory=dict)
    _weights: dict = field(default_factory=dict)

    def sigmas(self, scale_idx: int, experts: CCNFScale, view: int, window: int) -> np.ndarray:
        key = (scale_idx, view, window)
        if key not in self._sigmas:
            size = window * window
            shape = (experts.n_points, size, size)
            # on disk (aubench.pipeline.cache) under the file's hash: the first frame needs ~1300 of these inversions
            disk_key = f"ccnf-sigma-v1-{experts.sha256[:32]}-view{view}-w{window}" if experts.sha256 else None
            out = cache.load_array(disk_key, shape, np.float32) if disk_key else None
            if out is None:
                comps = experts.sigma_components.get(window)
                out = np.zeros(shape, np.float32)
                for lm, ex in enumerate(experts.experts[view]):
                    if experts.visibilities[view, lm] and not ex.empty:
                        c = comps if comps is not None and len(comps) and len(ex.betas) else np.zeros((0, size, size), np.float32)
                        out[lm] = compute_sigma(ex.alphas, ex.betas, c, window)
                if disk_key:
                    cache.save_array(disk_key, out)
            self._sigmas[key] = out
        return self._sigmas[key]

    def visible_index(self, scale_idx: int, experts: CCNFScale, view: int) -> np.ndarray:
        """Indices of the landmarks visible in this view (cached)."""
        key = ("visible_index", scale_idx, view)
        if key not in self._sigmas:
            self._sigmas[key] = np.flatnonzero(experts.visibilities[view] != 0)
        return self._sigmas[key]

    def visible_stack(self, scale_idx: int, experts: CCNFScale, view: int, window: int):
        """(weight matrices, alphas, sigmas) of the visible landmarks only, contiguous (cached)."""
        key = ("visible", scale_idx, view, window)
        if key not in self._sigmas:
            visible = experts.visibilities[view] != 0
            wm, al = self.weights(scale_idx, experts, view)
            sig = self.sigmas(scale_idx, experts, view, window)
            self._sigmas[key] = (np.ascontiguousarray(wm[visible]), np.ascontiguousarray(al[visible]),
                                 np.ascontiguousarray(sig[visible]))
        return self._sigmas[key]

    def weights(self, scale_idx: int, experts: CCNFScale, view: int) -> tuple[np.ndarray, np.ndarray]:
        """(n, k, 1+s*s) float32 weight matrices and (n, k) float64 alphas (0 for skipped neurons)."""
        key = (scale_idx, view)
        if key not in self._weights:
            exs = experts.experts[view]
            k = max(len(e.alphas) for e in exs)
            s = exs[0].width
            wm = np.zeros((len(exs), k, 1 + s * s), np.float32)
            al = np.zeros((len(exs), k), np.float64)
            for lm, ex in enumerate(exs):
                if not ex.empty:
                    wm[lm, :len(ex.alphas)] = ex.weight_matrix()
                    al[lm, :len(ex.alphas)] = np.where(ex.alphas > _ALPHA_MIN, ex.alphas, 0.0)
            self._weights[key] = (wm, al)
        return self._weights[key]


def similarity_transforms(image_shape: np.ndarray, reference_shape: np.ndarray,
                          align: AlignShapes) -> tuple[np.ndarray, np.ndarray]:
    """(sim_ref_to_img, sim_img_to_ref), 2x2 float32 each, as ``Patch_experts::Response`` makes them.

    ``align``: the resolved ``align_shapes`` kernel (``kernels.align_shapes``).
    """
    sim_img_to_ref = align(image_shape, reference_shape)
    return invert_2x2(sim_img_to_ref), sim_img_to_ref


def invert_2x2(m: np.ndarray) -> np.ndarray:
    """``cv::Matx22f::inv(DECOMP_LU)``: OpenCV's closed form in float32 (d = 1/det, entries times d).

    The exact float32 rounding matters: the inverse feeds the warp of the areas of
    interest, where OpenCV quantises coordinates to 1/32 px.
    """
    m = np.asarray(m, np.float32)
    det = np.float32(m[0, 0] * m[1, 1]) - np.float32(m[0, 1] * m[1, 0])
    d = np.float32(1) / det
    return np.array([[m[1, 1] * d, -m[0, 1] * d], [-m[1, 0] * d, m[0, 0] * d]], np.float32)


def warp_matrix(point_xy, sim_ref_to_img: np.ndarray, area_size: int) -> np.ndarray:
    """The 2x3 dst->src map centring an ``area_size`` square on ``point_xy``, in float32 arithmetic."""
    a1 = np.float32(sim_ref_to_img[0, 0])
    b1 = np.float32(-sim_ref_to_img[0, 1])
    half = np.float32(area_size - 1.0) / np.float32(2)
    x, y = np.float32(point_xy[0]), np.float32(point_xy[1])
    # C++ evaluates a1 * (A - 1) / 2 as (a1 * (A - 1)) / 2
    ah = (a1 * np.float32(area_size - 1.0)) / np.float32(2)
    bh = (b1 * np.float32(area_size - 1.0)) / np.float32(2)
    del half
    return np.array([[a1, -b1, (x - ah) + bh], [b1, a1, (y - ah) - bh]], np.float32)


def sample_areas(gray: np.ndarray, landmarks: np.ndarray, indices: np.ndarray, sim_ref_to_img: np.ndarray,
                 area_size: int, warp_areas: WarpAreas) -> np.ndarray:
    """(len(indices), A, A) float32 areas of interest, ``cv2.warpAffine`` with
    ``WARP_INVERSE_MAP | INTER_LINEAR`` and a constant 0 border (as OpenFace samples them).

    The warp matrices are those of :func:`warp_matrix`, computed for all points at once
    with the same float32 operations; ``warp_areas`` is the resolved kernel (``kernels.warp_areas``).
    """
    a1 = np.float32(sim_ref_to_img[0, 0])
    b1 = np.float32(-sim_ref_to_img[0, 1])
    ah = (a1 * np.float32(area_size - 1.0)) / np.float32(2)
    bh = (b1 * np.float32(area_size - 1.0)) / np.float32(2)
    pts = np.asarray(landmarks, np.float32)[np.asarray(indices)]
    tx = ((pts[:, 0] - ah) + bh).astype(np.float64)
    ty = ((pts[:, 1] - ah) - bh).astype(np.float64)
    return warp_areas(gray, tx, ty, float(a1), float(b1), area_size)


def responses(gray: np.ndarray, experts: CCNFScale, scale_idx: int, view: int, landmarks: np.ndarray,
              sim_ref_to_img: np.ndarray, window: int, cache: SigmaCache, patch_response: PatchResponse,
              warp_areas: WarpAreas) -> np.ndarray:
    """Response maps of every landmark at one scale (``Patch_experts::Response``, CCNF branch).

    Parameters
    ----------
    gray : (H, W) float32 grey image.
    landmarks : (n, 2) float32 current landmarks (image px).
    sim_ref_to_img : 2x2 float32 from :func:`similarity_transforms`.
    patch_response, warp_areas : the resolved ``patch_response`` and ``warp_areas`` kernels.

    Returns
    -------
    (n, window, window) float32; invisible landmarks get all-zero maps.
    """
    n = experts.n_points
    visible = cache.visible_index(scale_idx, experts, view)
    size = experts.experts[view][visible[0]].width
    area_size = window + size - 1
    areas = sample_areas(gray, landmarks, visible, sim_ref_to_img, area_size, warp_areas)
    wm, al, sig = cache.visible_stack(scale_idx, experts, view, window)
    maps = patch_response(areas, wm, al, sig)
    if len(visible) == n:
        return maps
    out = np.zeros((n, window, window), np.float32)
    out[visible] = maps
    return out

"""CLNF landmark fitting as OpenFace 2.2 does it with the CLNF general model.

Reproduces ``LandmarkDetectorModel.cpp``: ``CLNF::NU_RLMS`` (regularised landmark
mean-shift, rigid then non-rigid), ``CLNF::Fit`` (over the patch-expert scales),
``CLNF::DetectLandmarks`` (main fit, hierarchical part models, merge and refit,
validation) and ``LandmarkDetectorFunc.cpp::DetectLandmarksInImageMultiHypBasic``
(the 11 rotation hypotheses of a (re)detection).

Improvements on the C++ structure, not on its numbers: results are returned instead
of written into the model; the KDE tables and CCNF Sigmas are explicit caches owned by
:class:`CLNF`; the iteration policy (``num_optimisation_iteration``,
``convergence_threshold``) comes from :class:`aubench.pipeline.config.LandmarkParameters`, so
reduced-iteration and early-stopping policies are configurations, not code
(presets ``aubench/presets/landmarks_reduced.toml``, ``aubench/presets/landmarks_early_stop.toml``).

Kernels (resolved by ``aubench.pipeline.registry`` and passed in): ``align_shapes``,
``warp_areas`` and ``patch_response`` (response maps), ``mean_shift`` (given to ``nu_rlms``),
``nu_rlms`` (the update loop), ``calc_params`` (part initialisation and the refit after
merging the parts) and ``validator_conv`` (the detection validator).
Convergence statistics go to ``timer.count``: ``landmarks.<model>.nu_rlms.updates``
(updates per NU-RLMS call) and ``landmarks.<model>.nu_rlms.converged`` (1 when the call
stopped on the convergence threshold), ``<model>`` = main, inner, left_eye_28, right_eye_28.
Work reused by the ``[reuse]`` options (:mod:`aubench.pipeline.landmarks.reuse`) is counted as
``landmarks.validator.reused``, ``landmarks.<part>.reused`` and ``landmarks.main.responses_reused``.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from aubench.pipeline.config import LandmarkParameters
from aubench.pipeline.errors import ConfigError
from aubench.pipeline.landmarks import patch_experts as pe
from aubench.pipeline.landmarks import pdm as pdm_ops
from aubench.pipeline.landmarks.kde import KdeCache
from aubench.pipeline.landmarks.reuse import ResponseMemo, ReuseCache
from aubench.pipeline.landmarks.validator import load_validator
from aubench.pipeline.models.ccnf import CCNFScale, read_ccnf_scale
from aubench.pipeline.models.clnf_model import CLNFModelFiles, read_main_model
from aubench.pipeline.models.pdm import PDMModel, read_pdm
from aubench.pipeline.registry import Kernels
from aubench.pipeline.timing import NULL_TIMER, StageTimer

# DetectLandmarksInImage's rotation hypotheses (Euler x, y, z in radians), in C++ order.
ROTATION_HYPOTHESES = (
    (0.0, 0.0, 0.0), (0.0, -0.5236, 0.0), (0.0, 0.5236, 0.0), (0.0, -0.96, 0.0), (0.0, 0.96, 0.0),
    (0.0, 0.0, 0.5236), (0.0, 0.0, -0.5236), (0.0, -1.57, 0.0), (0.0, 1.57, 0.0),
    (0.0, -1.22, 0.698), (0.0, 1.22, -0.698),
)


def part_parameters(name: str, main: LandmarkParameters) -> LandmarkParameters:
    """Parameters of a hierarchical part model (``CLNF::Read``'s per-part settings).

    Parts never refine parameters per scale, never recurse and are not validated.
    The iteration policy (iterations, convergence threshold) follows the main model's.
    """
    base = dataclasses.replace(main, refine_parameters=False, refine_hierarchical=False, validate_detections=False,
                               weight_factor=0.0)
    if name in ("left_eye_28", "right_eye_28"):
        return dataclasses.replace(base, window_sizes_init=(3, 5, 9), window_sizes_small=(3, 5, 9),
                                   reg_factor=0.5, sigma=1.0)
    if name in ("left_eye", "right_eye"):
        return dataclasses.replace(base, window_sizes_init=(5, 3), window_sizes_small=(5, 3), reg_factor=0.1, sigma=2.0)
    if name == "inner":
        return dataclasses.replace(base, window_sizes_init=(9,), window_sizes_small=(9,), reg_factor=2.5, sigma=1.75,
                                   weight_factor=2.5)
    if name == "mouth":
        return dataclasses.replace(base, window_sizes_init=(7, 7), window_sizes_small=(7, 7), reg_factor=1.0, sigma=2.0)
    if name == "brow":
        return dataclasses.replace(base, window_sizes_init=(11, 9), window_sizes_small=(11, 9), reg_factor=10.0,
                                   sigma=3.5)
    # OpenFace's FaceModelParameters defaults for an unnamed part (CE-CLM default model adjustments)
    return dataclasses.replace(base, sigma=float(np.float32(1.5) * np.float32(main.sigma)),
                               reg_factor=float(np.float32(0.9) * np.float32(main.reg_factor)))


@dataclass(frozen=True)
class ScaleSettings:
    """What one scale of ``CLNF::Fit`` runs with (the ``scaleK/info.txt`` of the trace)."""

    scale: int
    window: int
    view: int
    sigma: float
    reg_factor: float
    weight_factor: float


@dataclass
class NURLMSResult:
    params_global: np.ndarray  # (6,) float32
    params_local: np.ndarray  # (m,) float32
    updates: int
    converged: bool
    loglhood: float = 0.0
    landmark_likelihoods: np.ndarray | None = None
    trace: dict = field(default_factory=dict)


@dataclass
class FitResult:
    """Result of one ``CLNF::DetectLandmarks`` (or of the multi-hypothesis detection).

    Attributes
    ----------
    landmarks : (n, 2) float32, image px (after the part models' merge and refit).
    params_global : (6,) float32 ``[scale, rot_x, rot_y, rot_z, t_x, t_y]``.
    params_local : (m,) float32.
    likelihood : float, ``model_likelihood`` of the main fit (mean log-likelihood over visible points).
    landmark_likelihoods : (n,) float32.
    part_landmarks : dict name -> (n_part, 2) float32 (each part's own result).
    iterations : list of int, NU-RLMS updates per call (main, then parts), in call order.
    fit_success : bool, ``CLNF::Fit``'s return (False when the face is too small).
    detection_certainty : float, the validator's certainty (1 or 0 = fit success when not validating).
    detection_success : bool, certainty > validation_boundary (or fit_success without a validator).
    """

    landmarks: np.ndarray
    params_global: np.ndarray
    params_local: np.ndarray
    likelihood: float
    landmark_likelihoods: np.ndarray
    part_landmarks: dict
    iterations: list
    fit_success: bool = True
    detection_certainty: float = 1.0
    detection_success: bool = True
    part_params: dict = field(default_factory=dict)
    fit_landmarks: np.ndarray | None = None  # before the parts were merged
    hypotheses: list = field(default_factory=list)  # (likelihood, certainty, success, params_global) per hypothesis


def check_window_sizes(model: CLNFModel, params: LandmarkParameters, where: str) -> None:
    """Every non-zero window in ``window_sizes_init``/``_small`` must be one the model's CCNF patch experts
    hold Sigma components for (``CCNF_patch_expert::ComputeSigmas`` finds none otherwise and the response
    loses its spatial smoothing); raise :class:`ConfigError` naming the sizes each scale supports."""
    supported = [sorted(int(w) for w in scale.sigma_components) for scale in model.scales]
    for key in ("window_sizes_init", "window_sizes_small"):
        sizes = tuple(getattr(params, key))
        # entries past the model's scales are ignored, as OpenFace ignores them
        bad = [(i, w) for i, w in enumerate(sizes[:len(supported)]) if w != 0 and w not in supported[i]]
        if bad or not any(sizes[:len(supported)]):
            per_scale = "; ".join(f"scale {i} ({model.patch_scaling[i]:g}): {', '.join(map(str, ws))}"
                                  for i, ws in enumerate(supported))
            got = (f"window {bad[0][1]} at scale {bad[0][0]} is not a size {where} holds patch experts for" if bad
                   else f"no window within the model's {len(supported)} scales (nothing would be fitted)")
            raise ConfigError(f"[landmarks] {key} = [{', '.join(map(str, sizes))}]: {got}; expected 0 or a "
                              f"supported size per scale ({per_scale}); e.g. {list(getattr(LandmarkParameters(), key))}")


class CLNFModel:
    """One CLNF model: its PDM and its CCNF patch experts per scale (main or part)."""

    def __init__(self, files: CLNFModelFiles):
        self.files = files
        self.pdm: PDMModel = read_pdm(files.pdm)
        self.scales: list[CCNFScale] = [read_ccnf_scale(p) for p in files.ccnf_patches]
        self.patch_scaling = [s.patch_scaling for s in self.scales]
        self.sigmas = pe.SigmaCache()
        self.kde = KdeCache()
        self._nu_rlms_constants: dict = {}
        self._scale_settings: dict = {}

    @property
    def n_points(self) -> int:
        return self.pdm.n_points

    # -- NU-RLMS ------------------------------------------------------------------------------
    def weight_diagonal(self, scale: int, view: int, weight_factor: float) -> np.ndarray:
        """(2n,) diagonal of ``CLNF::GetWeightMatrix``: patch confidences times the factor, or ones."""
        n = self.n_points
        if weight_factor > 0:
            conf = np.array([np.float32(e.patch_confidence) for e in self.scales[scale].experts[view]], np.float32)
            diag = np.concatenate([conf, conf]).astype(np.float32)
            return (np.float32(weight_factor) * diag).astype(np.float32)
        return np.ones(2 * n, np.float32)

    def nu_rlms(self, params_global, params_local, responses, base_shape, sim_img_to_ref, sim_ref_to_img,
                settings: ScaleSettings, rigid: bool, compute_lhood: bool, params: LandmarkParameters,
                kernels: Kernels, trace: bool = False) -> NURLMSResult:
        """One ``CLNF::NU_RLMS`` call (rigid: 6 global parameters; else all 6+m).

        Each update: shape from the parameters; stop if it moved less than
        ``convergence_threshold`` (L2 over all 2n coordinates) since the last update;
        mean-shift of every visible landmark in its response map (the ``mean_shift``
        kernel), rotated into the image; Tikhonov-regularised Gauss-Newton step
        ``(J_w^T J + R) dp = J_w^T v - R p`` solved by Cholesky; parameter update and clamp.

        ``trace``: record the per-update intermediates in ``NURLMSResult.trace`` (the selected
        ``nu_rlms`` variant must support recording: the reference does, numba raises ValueError).
        """
        pdm = self.pdm
        key = (settings.scale, settings.view, settings.weight_factor, settings.reg_factor, rigid)
        constants = self._nu_rlms_constants.get(key)
        if constants is None:  # the same for every call with these settings: built once
            m = pdm.n_modes
            visible = self.scales[settings.scale].visibilities[settings.view] != 0
            if rigid:
                reg_diag = np.zeros(6, np.float32)
            else:
                reg_diag = np.zeros(6 + m, np.float32)
                reg_diag[6:] = (np.float64(np.float32(settings.reg_factor))
                                / pdm.eigen_values.astype(np.float64)).astype(np.float32)
            weights = self.weight_diagonal(settings.scale, settings.view, settings.weight_factor)
            constants = self._nu_rlms_constants[key] = (visible, reg_diag, weights)
        visible, reg_diag, weights = constants
        sigma32 = np.float32(settings.sigma)
        kde = self.kde.get(settings.window, float(np.float32(-0.5 / float(sigma32 * sigma32))))
        args = (pdm, responses, base_shape, sim_img_to_ref, sim_ref_to_img, visible, weights, reg_diag, kde,
                params_global, params_local, rigid, params.num_optimisation_iteration,
                params.convergence_threshold, kernels.mean_shift)
        if trace:
            record: dict[str, list] = {k: [] for k in ("dxdy", "ms_ref", "ms_img", "update", "params", "norm")}
            g, loc, updates, converged, dxs, dys = kernels.nu_rlms(*args, record=record)
        else:
            record = {}
            g, loc, updates, converged, dxs, dys = kernels.nu_rlms(*args)
        result = NURLMSResult(g, loc, updates, converged, trace=record)
        if compute_lhood and dxs is not None:
            result.landmark_likelihoods, result.loglhood = self.likelihood(responses, dxs, dys, visible, settings.sigma)
        return result

    @staticmethod
    def likelihood(responses, dxs, dys, visible, sigma) -> tuple[np.ndarray, float]:
        """Per-landmark KDE likelihood at the exact (dx, dy) and the mean log-likelihood (NU_RLMS's tail)."""
        n, w, _ = responses.shape
        lh = np.full(n, -1e8, np.float32)
        grid = np.arange(w, dtype=np.float32)
        sigma32 = np.float32(sigma)
        denom = float(sigma32 * sigma32)
        idx = np.flatnonzero(visible)
        vx = (np.asarray(dys, np.float32)[idx, None] - grid[None, :]) ** 2  # (k, rows)
        vy = (np.asarray(dxs, np.float32)[idx, None] - grid[None, :]) ** 2  # (k, cols)
        kern = np.exp(-0.5 * (vx[:, :, None] + vy[:, None, :]).astype(np.float64) / denom)
        sums = (responses[idx].astype(np.float64) * kern).sum(axis=(1, 2)).astype(np.float32)
        lh[idx] = sums
        total = np.float32(0)
        for v in np.log(sums.astype(np.float64) + 1e-8).astype(np.float32):
            total = np.float32(total + v)
        return lh, float(np.float32(total / np.float32(len(idx))))

    # -- Fit ----------------------------------------------------------------------------------
    def scale_settings(self, scale: int, window: int, view: int, params: LandmarkParameters) -> ScaleSettings:
        """The per-scale sigma / reg / weight of ``CLNF::Fit`` (adapted when refine_parameters is on)."""
        key = (scale, window, view, params)
        settings = self._scale_settings.get(key)
        if settings is None:
            settings = self._scale_settings[key] = self._make_scale_settings(scale, window, view, params)
        return settings

    def _make_scale_settings(self, scale: int, window: int, view: int, params: LandmarkParameters) -> ScaleSettings:
        sigma, reg, weight = params.sigma, params.reg_factor, params.weight_factor
        if params.refine_parameters:
            scale_max = min(scale, 2)
            lg = math.log(self.patch_scaling[scale_max] / 0.25) / math.log(2)
            reg = float(np.float32(np.float32(params.reg_factor) - 15 * lg))
            if reg <= 0:
                reg = float(np.float32(0.001))
            sigma = float(np.float32(np.float32(params.sigma) + 0.25 * lg))
            weight = float(np.float32(np.float32(params.weight_factor) + 2 * np.float32(params.weight_factor) * lg))
        return ScaleSettings(scale, window, view, float(np.float32(sigma)), float(np.float32(reg)),
                             float(np.float32(weight)))

    def fit(self, gray: np.ndarray, params_global, params_local, window_sizes, params: LandmarkParameters,
            kernels: Kernels, timer: StageTimer = NULL_TIMER, stage: str = "landmarks", trace: dict | None = None,
            likelihood: bool = True, reuse: ReuseCache | None = None):
        """``CLNF::Fit``: for every scale with a window, responses then rigid and non-rigid NU-RLMS.

        ``likelihood=False`` skips the KDE likelihood NU_RLMS computes after its last update
        (used only to rank detection hypotheses: parts and tracking frames never read it);
        the returned likelihood is then NaN and the landmark likelihoods zeros. A trace
        always computes it.

        ``reuse`` (a tracked frame with ``[reuse] response_reuse_px`` on): a scale whose shape
        moved less than that since the previous frame computed its responses fits on those
        responses (with their base shape and reference transforms) instead of computing them
        (counted as ``<stage>.responses_reused``).

        Returns (params_global, params_local, likelihood, landmark_likelihoods, fit_success, updates).
        """
        pdm = self.pdm
        g = np.asarray(params_global, np.float32).copy()
        loc = np.asarray(params_local, np.float32).copy()
        n_scales = len(self.scales)
        wants_likelihood = likelihood or trace is not None
        likelihood = -10.0 if wants_likelihood else math.nan
        lm_lh = np.zeros(self.n_points, np.float32)
        updates: list[int] = []
        for scale in range(n_scales):
            window = window_sizes[scale] if scale < len(window_sizes) else 0
            if window == 0:
                continue
            experts = self.scales[scale]
            view = pe.view_index(experts.centers, g)
            with timer(f"{stage}.scale{scale}.response"):
                shape_3d = pdm_ops.calc_shape_3d(pdm, loc)  # one non-rigid shape, two projections
                shape = pdm_ops.project_shape(shape_3d, g)
                memo = None if reuse is None else reuse.reusable_responses(scale, window, view, shape)
                if memo is not None:  # the face barely moved: last frame's responses, around last frame's shape
                    timer.count(f"{stage}.responses_reused", 1)
                    shape, responses = memo.start_shape, memo.responses
                    sim_r2i, sim_i2r = memo.sim_ref_to_img, memo.sim_img_to_ref
                else:
                    ref_global = np.array([self.patch_scaling[scale], 0, 0, 0, 0, 0], np.float32)
                    ref_shape = pdm_ops.project_shape(shape_3d, ref_global)
                    sim_r2i, sim_i2r = pe.similarity_transforms(shape, ref_shape, kernels.align_shapes)
                    responses = pe.responses(gray, experts, scale, view, shape, sim_r2i, window, self.sigmas,
                                             kernels.patch_response, kernels.warp_areas)
                    if reuse is not None:
                        reuse.responses_computed(scale, ResponseMemo(reuse.frame, window, view, shape, responses,
                                                                     sim_r2i, sim_i2r))
            settings = self.scale_settings(scale, window, view, params)
            last = scale == n_scales - 1 or (scale + 1 < len(window_sizes) and window_sizes[scale + 1] == 0) \
                or scale + 1 >= len(window_sizes)
            with timer(f"{stage}.scale{scale}.nu_rlms"):
                rig = self.nu_rlms(g, loc, responses, shape, sim_i2r, sim_r2i, settings, True, False, params,
                                   kernels, trace is not None)
                g, loc = rig.params_global, rig.params_local  # Clamp may touch local params even when rigid
                last = last or g[0] < 0.30
                non = self.nu_rlms(g, loc, responses, shape, sim_i2r, sim_r2i, settings, False,
                                   last and wants_likelihood, params, kernels, trace is not None)
                g, loc = non.params_global, non.params_local
            updates += [rig.updates, non.updates]
            timer.count(f"{stage}.nu_rlms.updates", rig.updates)
            timer.count(f"{stage}.nu_rlms.updates", non.updates)
            timer.count(f"{stage}.nu_rlms.converged", float(rig.converged))
            timer.count(f"{stage}.nu_rlms.converged", float(non.converged))
            if last and wants_likelihood:
                likelihood = non.loglhood
                lm_lh = non.landmark_likelihoods
            if trace is not None:
                trace[scale] = {"settings": settings, "responses": responses, "sim_ref_to_img": sim_r2i,
                                "sim_img_to_ref": sim_i2r, "landmarks_before": shape, "rigid": rig, "nonrigid": non}
            if g[0] < 0.25:
                return g, loc, likelihood, lm_lh, False, updates
        return g, loc, likelihood, lm_lh, True, updates


class CLNF:
    """The CLNF landmark detector with its hierarchical part models (``LandmarkDetector::CLNF``).

    Parameters
    ----------
    models_dir : OpenFace model folder (holding ``model/``).
    params : :class:`aubench.pipeline.config.LandmarkParameters` (``model_location`` relative to models_dir).
    kernels : resolved kernels (``align_shapes``, ``warp_areas``, ``patch_response``, ``mean_shift``,
        ``nu_rlms``, ``calc_params``, ``validator_conv``).
    """

    def __init__(self, models_dir: str | Path, params: LandmarkParameters, kernels: Kernels):
        self.params = params
        self.kernels = kernels
        spec = read_main_model(Path(models_dir) / params.model_location)
        self.spec = spec
        self.main = CLNFModel(spec.main)
        check_window_sizes(self.main, params, str(Path(models_dir) / params.model_location))
        self.parts = [(p.name, p.mapping, CLNFModel(p.files), part_parameters(p.name, params)) for p in spec.parts]
        # each part's (main index, part index) pairs as two index arrays, for copying landmarks both ways
        self._part_index = {p.name: (np.array([i for i, _ in p.mapping], np.intp),
                                     np.array([j for _, j in p.mapping], np.intp)) for p in spec.parts}
        self.validator = None
        if params.validate_detections and spec.validator is not None:
            self.validator = load_validator(spec.validator, self.kernels.validator_conv)

    # -- one DetectLandmarks -------------------------------------------------------------------
    def detect_landmarks(self, gray_f32: np.ndarray, params_global, params_local, window_sizes,
                         timer: StageTimer = NULL_TIMER, trace: dict | None = None,
                         likelihood: bool = True, reuse: ReuseCache | None = None) -> FitResult:
        """One ``CLNF::DetectLandmarks`` from the given parameters: fit, parts, merge/refit, validation.

        ``likelihood=False``: the main model's likelihood is not computed (NaN; see :meth:`CLNFModel.fit`).
        ``reuse``: the tracked face's :class:`aubench.pipeline.landmarks.reuse.ReuseCache` (a tracked
        frame with ``[reuse]`` options on); None does all the work, as OpenFace does.
        """
        gray = np.asarray(gray_f32, np.float32)
        main_trace = {} if trace is not None else None
        fit = self._fit_main(gray, params_global, params_local, window_sizes, timer, main_trace, likelihood, reuse)
        return self._complete(gray, fit, timer, trace, main_trace, reuse)

    def _fit_main(self, gray: np.ndarray, params_global, params_local, window_sizes, timer: StageTimer,
                  main_trace: dict | None, likelihood: bool, reuse: ReuseCache | None = None) -> FitResult:
        """The main model's ``CLNF::Fit`` alone: a FitResult without parts and not validated yet."""
        g, loc, lh, lm_lh, ok, updates = self.main.fit(gray, params_global, params_local, window_sizes, self.params,
                                                       self.kernels, timer, "landmarks.main", main_trace,
                                                       likelihood=likelihood, reuse=reuse)
        landmarks = pdm_ops.calc_shape_2d(self.main.pdm, g, loc)
        return FitResult(landmarks, g, loc, float(lh), lm_lh, {}, list(updates), ok, fit_landmarks=landmarks)

    def _complete(self, gray: np.ndarray, fit: FitResult, timer: StageTimer, trace: dict | None = None,
                  main_trace: dict | None = None, reuse: ReuseCache | None = None) -> FitResult:
        """The rest of ``CLNF::DetectLandmarks`` after the main fit: parts, merge and refit, validation.

        With ``reuse`` (``[reuse] parts_every`` / ``validator_every`` above 1): a part whose points of
        the main fit kept their shape takes its last fit moved with them (no calc_params, no fit;
        counted as ``landmarks.<part>.reused``), and a stable face keeps the last certainty when it
        passed with margin (no CNN; counted as ``landmarks.validator.reused``).
        """
        params = self.params
        g, loc, ok, landmarks = fit.params_global, fit.params_local, fit.fit_success, fit.fit_landmarks
        pdm = self.main.pdm
        part_landmarks, part_params = {}, {}
        iterations = list(fit.iterations)
        if params.refine_hierarchical and self.parts:
            parts_used = False
            merged = landmarks.copy()
            for name, _mapping, model, pparams in self.parts:
                main_idx, part_idx = self._part_index[name]
                fits = g[0] > 0.9 * model.patch_scaling[0]
                moved = None if reuse is None or not fits else reuse.moved_part(name, landmarks[main_idx])
                part_trace = {} if trace is not None else None
                if moved is not None:  # a stable face: the last fit, moved with the main model
                    parts_used = True
                    pg, pl = moved
                    timer.count(f"landmarks.{name}.reused", 1)
                else:
                    locs = np.zeros((model.n_points, 2), np.float32)
                    locs[part_idx] = landmarks[main_idx]
                    with timer(f"landmarks.{name}.calc_params"):
                        pg, pl = self.kernels.calc_params(model.pdm, locs)
                if fits and moved is None:
                    parts_used = True
                    pg, pl, _, _, _, pupd = model.fit(gray, pg, pl, pparams.window_sizes_init, pparams,
                                                      self.kernels, timer, f"landmarks.{name}", part_trace,
                                                      likelihood=False)
                    iterations += pupd
                    if reuse is not None:
                        reuse.part_fitted(name, pg, pl, landmarks[main_idx])
                if trace is not None:
                    trace[name] = part_trace
                plm = pdm_ops.calc_shape_2d(model.pdm, pg, pl)
                part_landmarks[name] = plm
                part_params[name] = (pg, pl)
            if parts_used:
                for name, _, _, _ in self.parts:  # in part order: a later part wins a shared point
                    main_idx, part_idx = self._part_index[name]
                    merged[main_idx] = part_landmarks[name][part_idx]
                with timer("landmarks.refit"):
                    g, loc = self.kernels.calc_params(pdm, merged)
                    landmarks = pdm_ops.calc_shape_2d(pdm, g, loc)
        if trace is not None:
            trace["main"] = main_trace
        # CLNF::DetectLandmarks: validate when asked and the fit succeeded, else certainty = fit success
        if params.validate_detections and ok and self.validator is not None:
            certainty = None if reuse is None else reuse.reusable_certainty(landmarks, params.validation_boundary)
            if certainty is None:
                with timer("landmarks.validator"):
                    certainty = float(self.validator.check(g[1:4], gray, landmarks))
                if reuse is not None:
                    reuse.validated(certainty, landmarks)
            else:
                timer.count("landmarks.validator.reused", 1)
            success = certainty > params.validation_boundary
        else:
            certainty, success = (1.0 if ok else 0.0), ok
        return FitResult(landmarks, g, loc, fit.likelihood, fit.landmark_likelihoods, part_landmarks, iterations, ok,
                         certainty, success, part_params, fit.fit_landmarks.copy())

    # -- detection from a face box ----------------------------------------------------------------
    def detect_from_box(self, gray_f32: np.ndarray, box_xywh, timer: StageTimer = NULL_TIMER,
                        multi_view: bool = True, hypotheses=None, complete_all: bool = False) -> FitResult:
        """``DetectLandmarksInImage`` from a face box (``DetectLandmarksInImageMultiHypBasic``).

        With ``multi_view`` (what FeatureExtraction sets during a video (re)detection) the
        11 rotation hypotheses are each fitted with the large windows and the most likely
        is kept (the first wins ties); without it (FaceLandmarkImg's default) only the
        frontal one is fitted. ``hypotheses`` overrides the list.

        The C++ runs the whole ``DetectLandmarks`` (part models, validation) on every
        hypothesis, but ranks them by the main fit's likelihood alone and keeps only the
        winner's parts and certainty; here only the winner is completed, which gives the
        same result for a tenth of that work. ``complete_all=True`` completes every
        hypothesis as the C++ does (to compare each one's certainty with a trace).
        ``FitResult.hypotheses`` holds (likelihood, certainty, success, params_global) per
        hypothesis; certainty and success are None for the hypotheses not completed, and
        params_global is then the main fit's.
        """
        if hypotheses is None:
            hypotheses = ROTATION_HYPOTHESES if multi_view else ROTATION_HYPOTHESES[:1]
        gray = np.asarray(gray_f32, np.float32)
        best, best_index = None, -1
        records = []
        m = self.main.pdm.n_modes
        for index, rotation in enumerate(hypotheses):
            g0 = pdm_ops.calc_params_from_box(self.main.pdm, box_xywh, np.asarray(rotation, np.float32),
                                              np.zeros(m, np.float32))
            if complete_all:
                res = self.detect_landmarks(gray, g0, np.zeros(m, np.float32), self.params.window_sizes_init, timer)
                records.append((res.likelihood, res.detection_certainty, res.detection_success, res.params_global))
            else:
                res = self._fit_main(gray, g0, np.zeros(m, np.float32), self.params.window_sizes_init, timer,
                                     None, True)
                records.append((res.likelihood, None, None, res.params_global))
            if best is None or best.likelihood < res.likelihood:
                best, best_index = res, index
        if not complete_all:
            best = self._complete(gray, best, timer)
            records[best_index] = (best.likelihood, best.detection_certainty, best.detection_success,
                                   best.params_global)
        best.hypotheses = records
        return best

"""The contract of every hot kernel, as code: one :class:`typing.Protocol` per kernel.

A kernel's Protocol owns its signature (parameter names, kinds, defaults, types) and its
docstring is the contract: shapes, dtypes, units, tolerance, and the C++ function it
reproduces. Every variant registered for the kernel (``variants/<kernel>/``) has exactly
this signature (``tests/variants/test_contracts.py`` checks it with :func:`inspect.signature`),
and :class:`aubench.pipeline.registry.Kernels` holds one attribute per kernel typed with its
Protocol, so ``kernels.fhog(...)`` type-checks and an editor shows the signature.

The Protocol is named after the kernel in CamelCase (kernel ``mean_shift``: :class:`MeanShift`).
A variant's own docstring says in one line how it differs; "Tolerance" below is how far a
variant may be from the ``reference`` variant (the kernel's ``check`` in
``variants/<kernel>/__init__.py`` enforces it).
"""

from __future__ import annotations

from typing import Any, Protocol

import numpy as np
from numpy.typing import ArrayLike, NDArray

from aubench.pipeline.au.median_state import RunningMedianState
from aubench.pipeline.au.predictor_bank import AUPredictorBank
from aubench.pipeline.landmarks.kde import KdeTable
from aubench.pipeline.models.pdm import PDMModel

# -- landmarks: CLNF --------------------------------------------------------------------------


class AlignShapes(Protocol):
    """Kernel ``align_shapes``: the scale-rotation taking one shape onto another.

    Reproduces ``RotationHelpers.h::AlignShapesWithScale`` (with ``AlignShapesKabsch2D``):
    Kabsch with scale, no reflection, in OpenFace's precisions. Each shape is centred on
    its mean (``cv::mean``, double sums) and divided by its RMS scale (float32); the float32
    2x2 cross-covariance goes through OpenCV's SVD; ``R = V diag(1, d) U^T`` in double with
    ``d`` the sign of ``det(V U^T)``; the result is R times the scale ratio.

    Parameters
    ----------
    src, dst : (n, 2) float32
        Corresponding points ``[x, y]`` (image px or PDM units).

    Returns
    -------
    (2, 2) float32 ``A`` with ``A @ (src[i] - mean(src)) ~ dst[i] - mean(dst)``.

    Notes
    -----
    Tolerance: exact (bit-identical to the reference; the SVD is OpenCV's own code).
    """

    def __call__(self, src: NDArray[np.float32], dst: NDArray[np.float32]) -> NDArray[np.float32]: ...


class CalcParams(Protocol):
    """Kernel ``calc_params``: PDM parameters fitted to 2D landmarks.

    Reproduces ``PDM.cpp::PDM::CalcParams(params_global, params_local, landmarks, rotation)``:
    damped Gauss-Newton on the global and local parameters from a box-based start, with
    OpenCV's solve and Rodrigues as the C++.

    Parameters
    ----------
    pdm : :class:`aubench.pipeline.models.pdm.PDMModel` (n points, m modes).
    landmarks : (n, 2) float32
        Image points (px); a point with x == 0 is missing and left out of the fit.
    rotation : (3,) float
        Initial Euler angles (radians).

    Returns
    -------
    (params_global (6,) float32 ``[scale, rot_x, rot_y, rot_z, t_x, t_y]``, params_local (m,) float32).

    Notes
    -----
    Tolerance: the landmarks of the fitted parameters (``PDM::CalcShape2D``) within 0.02 px
    of the reference's. The loop's stopping rule compares errors, so ulp-level differences
    can stop it one iteration apart.
    """

    def __call__(self, pdm: PDMModel, landmarks: NDArray[np.float32],
                 rotation: ArrayLike = (0.0, 0.0, 0.0)) -> tuple[NDArray[np.float32], NDArray[np.float32]]: ...


class WarpAreas(Protocol):
    """Kernel ``warp_areas``: square areas of interest around landmarks, in the reference frame.

    Reproduces the sampling of ``Patch_experts.cpp::Patch_experts::Response``:
    ``cv::warpAffine(gray, area, M, (A, A), WARP_INVERSE_MAP | INTER_LINEAR)`` with the
    dst->src map ``M_i = [[a1, -b1, tx_i], [b1, a1, ty_i]]`` and a constant 0 border.

    Parameters
    ----------
    gray : (H, W) float32 grey image of integer grey levels (a uint8 frame as float32): on those
        the bilinear sums are exact, so the result does not depend on how an OpenCV version orders them.
    tx, ty : (k,) float64
        Translations of the k maps (float32 values, see
        :func:`aubench.pipeline.landmarks.patch_experts.warp_matrix`), px.
    a1, b1 : float
        Scale-rotation of the map (float32 values).
    area_size : int
        Side A of each area (px).

    Returns
    -------
    (k, A, A) float32.

    Notes
    -----
    Tolerance: exact, bit-identical to OpenCV 4.6 (fixed-point 1/32 px coordinates, float
    bilinear weights) on integer grey levels, with every OpenCV 4.x measured (4.6-4.14); on
    fractional values 4.14 differs from 4.6-4.13 by up to 2 ulp (summation order). Maps that
    leave the image read the 0 border.
    """

    def __call__(self, gray: NDArray[np.float32], tx: NDArray[np.float64], ty: NDArray[np.float64],
                 a1: float, b1: float, area_size: int) -> NDArray[np.float32]: ...


class PatchResponse(Protocol):
    """Kernel ``patch_response``: CCNF patch-expert response maps of n landmarks.

    Reproduces ``CCNF_patch_expert.cpp::CCNF_patch_expert::ResponseOpenBlas`` for each
    landmark: contrast-normalised im2col with a bias column (``im2colContrastNormBias``), one
    linear layer of k neurons, the sum of sigmoids ``sum_k 2*alpha_k / (1 + exp(-z_k))``
    (neurons with ``alpha <= 1e-4`` skipped), transposed to ``[row=dy, col=dx]``, multiplied
    by the CCNF covariance ``Sigma`` of the window size, then shifted so that the minimum is >= 0.

    Parameters
    ----------
    areas_of_interest : (n, A, A) float32
        Image patches in the reference frame (``A = w + s - 1``), as the ``warp_areas``
        kernel samples them.
    weight_matrices : (n, k, 1 + s*s) float32
        Per landmark :meth:`aubench.pipeline.models.ccnf.CCNFPatchExpert.weight_matrix` (bias first).
    alphas : (n, k) float64
        Neuron alphas.
    sigmas : (n, w*w, w*w) float32
        Per landmark ``Sigma`` for window w (``CCNF_patch_expert::ComputeSigmas``).

    Returns
    -------
    (n, w, w) float32 response maps ``[landmark, dy, dx]``.

    Notes
    -----
    Tolerance: ``2e-5 + 1e-4 * max|reference|`` absolute (an absolute floor because the
    Sigma product cancels large terms). Float32 sums are ordered differently from OpenBLAS,
    so the reference agrees with the C++ trace to about 1e-5 of the map's maximum.
    """

    def __call__(self, areas_of_interest: NDArray[np.float32], weight_matrices: NDArray[np.float32],
                 alphas: NDArray[np.float64], sigmas: NDArray[np.float32]) -> NDArray[np.float32]: ...


class MeanShift(Protocol):
    """Kernel ``mean_shift``: regularised-landmark mean-shift of every landmark in its response map.

    Reproduces ``LandmarkDetectorModel.cpp::CLNF::NonVectorisedMeanShift_precalc_kde``: the
    position (dx, dy) of the landmark in its (w, w) response map is clamped to
    ``[0, w - 0.1]``, the kernel centred on the nearest 0.1-cell grid point is read from
    ``kde.table`` (not evaluated at the exact position), and the shift is the
    kernel-weighted mean of the cell coordinates minus the clamped position.

    Parameters
    ----------
    responses : (n, w, w) float32
        Response maps ``[landmark, dy, dx]``.
    dxs, dys : (n,) float32
        Positions in response-map cells.
    visible : (n,) bool
        Invisible landmarks get a zero shift.
    kde : :class:`aubench.pipeline.landmarks.kde.KdeTable`
        The precomputed kernels for window w and ``a = -0.5 / sigma^2`` (an explicit cache).

    Returns
    -------
    (n, 2) float32 mean-shifts ``[msx, msy]`` in response-map cells.

    Notes
    -----
    Tolerance: 1e-4 cells absolute. OpenFace accumulates in float32 sequentially; other
    summation orders (NumPy's pairwise sums) differ by a few ulp of the sums.
    """

    def __call__(self, responses: NDArray[np.float32], dxs: NDArray[np.float32], dys: NDArray[np.float32],
                 visible: NDArray[np.bool_], kde: KdeTable) -> NDArray[np.float32]: ...


class NuRlms(Protocol):
    """Kernel ``nu_rlms``: the update loop of one ``LandmarkDetectorModel.cpp::CLNF::NU_RLMS`` call.

    Each update: the 2D shape of the current parameters (``PDM::CalcShape2D``); stop when it
    moved less than ``convergence_threshold`` (L2 over all 2n coordinates) since the previous
    update; the landmark positions in the response maps
    ``dx, dy = (shape - base_shape) @ sim_img_to_ref^T + (w-1)/2``; the KDE mean-shift
    (the ``mean_shift`` kernel) rotated into the image (``@ sim_ref_to_img^T``), zero for
    invisible points; the Gauss-Newton step ``(J_w^T J + R) dp = J_w^T v - R p`` (rigid: 6
    global parameters, J from ``PDM::ComputeRigidJacobian``; else 6+m), solved by Cholesky;
    ``PDM::UpdateModelParameters`` and ``PDM::Clamp``.

    Parameters
    ----------
    pdm : :class:`aubench.pipeline.models.pdm.PDMModel` (n points, m modes).
    responses : (n, w, w) float32 response maps.
    base_shape : (n, 2) float32
        Landmarks the maps are centred on (image px).
    sim_img_to_ref, sim_ref_to_img : (2, 2) float32
    visible : (n,) bool
    weights : (2n,) float32
        Diagonal of the NU-RLMS weight matrix (ones = unweighted).
    reg_diag : (6,) or (6+m,) float32
        Diagonal of the regularisation (0 for the global parameters).
    kde : :class:`aubench.pipeline.landmarks.kde.KdeTable` for w and ``a = -0.5/sigma^2``.
    params_global : (6,) float32
    params_local : (m,) float32
    rigid : bool
    max_iterations : int
    convergence_threshold : float (px)
    mean_shift : the resolved ``mean_shift`` kernel (a variant may fuse its own instead).
    record : dict of lists, optional
        When given, per-update intermediates are appended (``dxdy``, ``ms_ref``, ``ms_img``,
        ``update``, ``params``, ``norm``) for trace checks. A variant that cannot record
        raises ValueError (resolve the ``reference`` variant for traces).

    Returns
    -------
    (params_global (6,) float32, params_local (m,) float32, updates int, converged bool,
    dxs (n,) float32, dys (n,) float32) -- dxs/dys of the last performed update (the
    likelihood is evaluated there), None when no update ran.

    Notes
    -----
    Tolerance: the same number of updates and convergence flag as the reference, and the
    landmarks of the parameters within 0.25 px (a float-level difference can move a landmark
    across a 0.1-cell KDE grid boundary, shifting later updates by a fraction of a pixel).
    The reference's parameters are within 2e-4 of the C++ trace after 5 updates.
    """

    def __call__(self, pdm: PDMModel, responses: NDArray[np.float32], base_shape: NDArray[np.float32],
                 sim_img_to_ref: NDArray[np.float32], sim_ref_to_img: NDArray[np.float32],
                 visible: NDArray[np.bool_], weights: NDArray[np.float32], reg_diag: NDArray[np.float32],
                 kde: KdeTable, params_global: NDArray[np.float32], params_local: NDArray[np.float32],
                 rigid: bool, max_iterations: int, convergence_threshold: float, mean_shift: MeanShift,
                 record: dict[str, list[Any]] | None = None,
                 ) -> tuple[NDArray[np.float32], NDArray[np.float32], int, bool,
                            NDArray[np.float32] | None, NDArray[np.float32] | None]: ...


class ValidatorConv(Protocol):
    """Kernel ``validator_conv``: a convolution layer of OpenFace's CNN detection validator.

    Reproduces ``CNN_utils.cpp::convolution_direct_blas`` as
    ``LandmarkDetectionValidator.cpp::DetectionValidator::CheckCNN`` runs it: valid
    cross-correlation of every input map, summed over the maps, plus a bias per kernel (the
    C++ builds an im2col matrix with one row per output position and multiplies it by the
    weight matrix with ``sgemm``).

    Parameters
    ----------
    maps : (n_in, h, w) float32
    w_mat : (n_in*kw*kh + 1, n_kernels) float32
        ``DetectionValidator::Read``'s matrix: rows are the taps of each input map, kx outer
        and ky inner (column-major kernels), bias last.
    kh, kw : int
        Kernel height and width.

    Returns
    -------
    (n_kernels, h - kh + 1, w - kw + 1) float32

    Notes
    -----
    Tolerance: ``2e-5 + 2e-5 * max|reference|`` absolute (float32 sums in another order).
    """

    def __call__(self, maps: NDArray[np.float32], w_mat: NDArray[np.float32], kh: int,
                 kw: int) -> NDArray[np.float32]: ...


# -- face detection: MTCNN --------------------------------------------------------------------


class MtcnnConv(Protocol):
    """Kernel ``mtcnn_conv``: valid 2-D cross-correlation of a batch of multi-channel maps, plus a bias per kernel.

    Reproduces ``CNN_utils.cpp::convolution_direct_blas`` (im2col of every input map, one
    OpenBLAS ``sgemm`` against the kernels with the bias as an extra column), as
    ``FaceDetectorMTCNN.cpp::CNN::Inference`` runs it for PNet, RNet and ONet. A 1x1 kernel is
    how the detector runs PNet's per-pixel fully connected layer.

    Parameters
    ----------
    maps : (N, H, W, C) float32
        Channel-last; the first layer's channels are R, G, B (``Inference`` flips OpenCV's BGR).
    weights : (K, C, kh, kw) float32
        ``out[k] = sum_c corr(maps[..., c], weights[k, c])``.
    bias : (K,) float32

    Returns
    -------
    (N, H - kh + 1, W - kw + 1, K) float32.

    Notes
    -----
    Tolerance: ``1e-5 * (1 + max|reference|)`` absolute. The C++ sums in float32 in
    OpenBLAS's order; the reference sums in float64 and rounds once.
    """

    def __call__(self, maps: NDArray[np.float32], weights: NDArray[np.float32],
                 bias: NDArray[np.float32]) -> NDArray[np.float32]: ...


class MtcnnPrelu(Protocol):
    """Kernel ``mtcnn_prelu``: parametric ReLU with one negative slope per channel (the last axis).

    Reproduces ``CNN_utils.cpp::PReLU``: ``x >= 0 ? x : x * slope``.

    Parameters
    ----------
    maps : (..., C) float32
        Channel-last maps ``(N, H, W, C)`` or flat features ``(N, C)``.
    slopes : (C,) float32

    Returns
    -------
    Same shape, float32, a new array.

    Notes
    -----
    Tolerance: exact (one float32 multiply per negative value).
    """

    def __call__(self, maps: NDArray[np.float32], slopes: NDArray[np.float32]) -> NDArray[np.float32]: ...


class MtcnnMaxPool(Protocol):
    """Kernel ``mtcnn_max_pool``: max-pooling with OpenFace's output size and windows clipped at the map's edge.

    Reproduces ``CNN_utils.cpp::max_pooling``: the output has
    :func:`aubench.pipeline.detect.mtcnn.pooled_size` cells per axis,
    ``round((size - kernel) / stride) + 1`` (so a partial window at the right/bottom edge is
    kept when the division rounds up); the window of cell ``i`` starts at ``i * stride`` and
    is clipped to the map; a cell whose window would start outside the map stays 0.

    Parameters
    ----------
    maps : (N, H, W, C) float32
    kernel : (kx, ky)
    stride : (sx, sy)
        OpenFace's order: x first.

    Returns
    -------
    (N, Ho, Wo, C) float32.

    Notes
    -----
    Tolerance: exact.
    """

    def __call__(self, maps: NDArray[np.float32], kernel: tuple[int, int],
                 stride: tuple[int, int]) -> NDArray[np.float32]: ...


class MtcnnFc(Protocol):
    """Kernel ``mtcnn_fc``: ``weights @ x + bias`` for every sample of a batch.

    Reproduces ``CNN_utils.cpp::fully_connected`` on flattened input (RNet's and ONet's last
    layers). The caller flattens maps in OpenFace's order (map by map, each map column by
    column: ``maps.transpose(0, 3, 2, 1).reshape(N, -1)`` for (N, H, W, C)).

    Parameters
    ----------
    features : (N, F) float32
    weights : (O, F) float32
        As ``CNN::Read`` keeps them (transposed from the file).
    bias : (O,) float32

    Returns
    -------
    (N, O) float32.

    Notes
    -----
    Tolerance: ``1e-5 * (1 + max|reference|)`` absolute. The C++ (OpenCV ``gemm``) sums in
    float32; the reference sums in float64.
    """

    def __call__(self, features: NDArray[np.float32], weights: NDArray[np.float32],
                 bias: NDArray[np.float32]) -> NDArray[np.float32]: ...


class MtcnnNms(Protocol):
    """Kernel ``mtcnn_nms``: greedy non-maximum suppression; the kept indices, most confident first.

    Reproduces ``FaceDetectorMTCNN.cpp::non_maximum_supression``: boxes are visited by
    descending score (among equal scores the later index first: OpenFace pops the last entry
    of a ``std::multimap``); each kept box removes the remaining boxes whose overlap with it
    exceeds ``threshold``. The overlap is computed on the boxes converted to integer
    ``cv::Rect`` (each coordinate rounded, ties to even): intersection area over the union
    area, or over the smaller area when ``minimum``; in float32.

    Parameters
    ----------
    boxes : (n, 4) float32
        ``[x, y, w, h]`` px.
    scores : (n,) float32
    threshold : float
        Compared in float32, as the C++ ``float`` parameter.
    minimum : bool
        Overlap over the smaller area instead of the union.

    Returns
    -------
    (m,) int64 indices into ``boxes``.

    Notes
    -----
    Tolerance: exact (the same indices in the same order).
    """

    def __call__(self, boxes: NDArray[np.float32], scores: NDArray[np.float32], threshold: float,
                 minimum: bool) -> NDArray[np.int64]: ...


# -- action units -----------------------------------------------------------------------------


class FaceMask(Protocol):
    """Kernel ``face_mask``: the pixel mask of a triangulated face.

    Reproduces the pixel mask of ``PAW.cpp::PAW::PAW(shape, triangulation, 0, 0, w - 1, h - 1)``
    as ``Face_utils.cpp::AlignFaceMask`` builds it on the aligned landmarks. A pixel
    ``(x, y)`` is inside a triangle when, for each edge, it lies on the same side as the
    opposite vertex (``PAW::sameSide``: float32 cross products whose float32 product is
    ``>= 0``, so points on an edge count as inside); a triangle is tested only where its
    bounding box holds the point. ``PAW::findTriangle`` first retries the previous pixel's
    triangle without the bounding-box test; that shortcut changes the mask only for a
    degenerate (zero-area) triangle, whose side tests pass everywhere, and is not reproduced.

    Parameters
    ----------
    points : (n, 2) float32
        Landmark positions in the output image (px, pixel centres at integers).
    triangulation : (t, 3) int
        Vertex indices into ``points``.
    width, height : int
        Output size (px).

    Returns
    -------
    (height, width) uint8 of 0/1: 1 where the pixel centre lies in a triangle of the mesh.

    Notes
    -----
    Tolerance: exact (every variant returns the same mask).
    """

    def __call__(self, points: NDArray[np.float32], triangulation: NDArray[np.integer], width: int,
                 height: int) -> NDArray[np.uint8]: ...


class Fhog(Protocol):
    """Kernel ``fhog``: Felzenszwalb HOG of an image, bit for bit as dlib computes it.

    Reproduces ``dlib/image_transforms/fhog.h::extract_fhog_features`` (dlib 19.24, into an
    ``array2d<matrix<float,31,1>>``, filter padding 1) as OpenFace calls it in
    ``Face_utils.cpp::Extract_FHOG_descriptor`` on the 112x112 aligned face. The reference
    variant's docstring walks dlib's stages.

    Parameters
    ----------
    image : (H, W, 3) uint8 BGR or (H, W) uint8 grey
        Colour images are read as ``dlib::bgr_pixel``; grey as the intensity.
    cell_size : int, default 8
        Cell side in pixels (>= 2).

    Returns
    -------
    (cells_nr - 2, cells_nc - 2, 31) float32
        ``cells = int(float(n) / cell_size + 0.5)``; (12, 12, 31) for 112x112 at cell 8;
        (0, 0, 31) when either side has fewer than 3 cells. Features per cell: 18 signed
        orientation bins, 9 unsigned bins, 4 texture (gradient energy) features. All are
        >= 0; each of the 4 normalisations of a bin is at most 0.1 (the truncation), so the
        27 orientation features are <= 0.4 and the texture features <= 0.4714 * 18 * 0.1.
        A flat image gives all zeros. OpenFace's 4464-vector is ``result.reshape(-1)``
        (rows, then columns, then features).

    Raises
    ------
    aubench.pipeline.errors.InputError
        For another dtype or shape, or ``cell_size < 2``.

    Notes
    -----
    Tolerance: 1e-5 absolute (only the float32 rounding order may differ). The reference is
    bit-identical to dlib 19.24 built as the C++ reference was (g++ -O3, SSE2: the lane sums
    are ``(l0 + l2) + (l1 + l3)``) on the three traced faces and on 150 generated images of
    other sizes and cell sizes (``python -m experiments.dlib_fhog.compare``).
    """

    def __call__(self, image: NDArray[np.uint8], cell_size: int = 8) -> NDArray[np.float32]: ...


class RunningMedian(Protocol):
    """Kernel ``running_median``: add one descriptor to per-dimension histograms and return the approximate median.

    Reproduces ``FaceAnalyser.cpp::FaceAnalyser::UpdateRunningMedian`` (the person-specific
    neutral face of the dynamic AU models). ``state`` is updated in place. Quirks kept from
    OpenFace: the bin of a value is ``int(x * alpha + beta)`` with
    ``alpha = bins * (1/length)``, ``beta = -min * bins * (1/length)`` (OpenCV folds
    ``(x - min) * bins / length`` into one scale and shift), clipped to ``[0, bins - 1]``
    before truncation, so values outside the range land in the end bins; the median is a
    bin centre, not an interpolated value; with no descriptor added yet the cutoff is 0 and
    every row reports the first bin's centre.

    Parameters
    ----------
    state : :class:`aubench.pipeline.au.median_state.RunningMedianState` with ``rows`` dimensions
        The histograms (an explicit state object).
    descriptor : (rows,) float64
        The current frame's HOG or geometry descriptor.
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
    Tolerance: exact (integer counts, the same double expressions as the C++).
    """

    def __call__(self, state: RunningMedianState, descriptor: NDArray[np.float64],
                 update: bool) -> NDArray[np.float64]: ...


class AuPredict(Protocol):
    """Kernel ``au_predict``: decision values of every linear AU model for one frame.

    Reproduces ``SVR_static_lin_regressors.cpp::SVR_static_lin_regressors::Predict``,
    ``SVR_dynamic_lin_regressors.cpp::SVR_dynamic_lin_regressors::Predict``,
    ``SVM_static_lin.cpp::SVM_static_lin::Predict`` and ``SVM_dynamic_lin.cpp::SVM_dynamic_lin::Predict``
    (called from ``FaceAnalyser::PredictCurrentAUs`` and ``PredictCurrentAUsClass``): a static
    model computes ``(x - means) . w + b``, a dynamic one ``(x - means - median) . w + b``.

    Parameters
    ----------
    bank : :class:`aubench.pipeline.au.predictor_bank.AUPredictorBank`
        The models of one file, laid out once (an explicit cache).
    features : (D,) float64
        ``[HOG (4464), geometry (238)]`` of the frame.
    median : (D,) float64
        ``[HOG running median, geometry running median]`` (person calibration; only the
        dynamic models read it).

    Returns
    -------
    (K,) float64 raw decision values in ``bank.names`` order: SVR intensities (not clipped)
    then SVM margins (the caller maps ``> 0`` to the model's positive class value).

    Notes
    -----
    Tolerance: 1e-9 absolute. OpenCV subtracts the means and the median element-wise first
    and then takes the dot product with its own GEMM; other summation orders agree to about 1e-12.
    """

    def __call__(self, bank: AUPredictorBank, features: NDArray[np.float64],
                 median: NDArray[np.float64]) -> NDArray[np.float64]: ...

"""Work reused across the frames of a video: the cached kind of variant (issue 19).

OpenFace does all of a frame's landmark work on every frame. The options of
:class:`aubench.pipeline.config.ReuseParameters` (``[reuse]`` in a config, every default off)
skip some of it on a tracked frame when the face is stable, and reuse what an earlier frame
computed. What each reuses lives in one explicit object, :class:`ReuseCache`, one per
tracked face, owned by :class:`aubench.pipeline.landmarks.tracker.TrackerState` and handed
to :meth:`aubench.pipeline.landmarks.clnf.CLNF.detect_landmarks`; it is emptied by every
(re)detection and every failure, so those frames always do the full work.

Stability is the main model's landmarks' change of *shape*: :func:`shape_change`, the RMS
distance left after a least-squares similarity alignment. The validator looks at a face
warped to a reference frame and a part model moves with the main model, so translation,
in-plane rotation and scale do not matter to either; a blink or an opening mouth does.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from aubench.pipeline.config import ReuseParameters
from aubench.pipeline.landmarks import pdm as pdm_ops

F32 = np.float32


def similarity(src: np.ndarray, dst: np.ndarray) -> tuple[complex, complex, complex]:
    """Least-squares 2D similarity taking ``src`` (n, 2) onto ``dst`` (n, 2).

    Returns ``(c, src_mean, dst_mean)`` as complex numbers: a point ``z`` maps to
    ``c * (z - src_mean) + dst_mean`` (``|c|`` the scale, ``arg c`` the rotation, image axes).
    """
    zs = np.asarray(src, np.float64) @ np.array([1, 1j])
    zd = np.asarray(dst, np.float64) @ np.array([1, 1j])
    ms, md = zs.mean(), zd.mean()
    zs, zd = zs - ms, zd - md
    denom = float(np.vdot(zs, zs).real)
    c = complex(np.vdot(zs, zd) / denom) if denom > 0 else 1.0 + 0j
    return c, complex(ms), complex(md)


def shape_change(before: np.ndarray, after: np.ndarray) -> float:
    """RMS distance (px) between ``after`` and ``before`` (n, 2) once ``before`` is
    similarity-aligned onto ``after``: how much the shape changed, not where it went."""
    c, ms, md = similarity(before, after)
    zb = np.asarray(before, np.float64) @ np.array([1, 1j])
    za = np.asarray(after, np.float64) @ np.array([1, 1j])
    residual = za - (c * (zb - ms) + md)
    return float(np.sqrt(np.mean(np.abs(residual) ** 2)))


def move_params_global(params_global: np.ndarray, c: complex, src_mean: complex, dst_mean: complex) -> np.ndarray:
    """``params_global`` [s, rx, ry, rz, tx, ty] of a PDM after the image similarity
    ``z -> c (z - src_mean) + dst_mean``.

    The weak-perspective projection is ``s (R X)[:2] + t``; a similarity with rotation
    ``theta`` and scale ``|c|`` turns it into ``|c| s (Rz(theta) R X)[:2] + t'``, so the
    moved parameters are exact, not a first-order update: scale times ``|c|``, rotation
    ``Rz(theta) R``, translation the moved ``t``.
    """
    g = np.asarray(params_global, np.float64)
    theta = float(np.angle(c))
    ct, st = np.cos(theta), np.sin(theta)
    rz = np.array([[ct, -st, 0.0], [st, ct, 0.0], [0.0, 0.0, 1.0]])
    rot = rz @ pdm_ops.euler_to_rotation(g[1:4]).astype(np.float64)
    t = c * (complex(g[4], g[5]) - src_mean) + dst_mean
    euler = pdm_ops.rotation_to_euler(rot)
    return np.array([g[0] * abs(c), euler[0], euler[1], euler[2], t.real, t.imag], F32)


@dataclass
class ValidatorMemo:
    """The last validation that ran: its certainty and the landmarks it saw."""

    certainty: float
    landmarks: np.ndarray
    age: int = 0  # tracked frames since it ran


@dataclass
class PartMemo:
    """A part model's last fit: its parameters and the main fit's landmarks it started from."""

    params_global: np.ndarray
    params_local: np.ndarray
    main_landmarks: np.ndarray  # the main model's fit at the part's points, (k, 2)
    age: int = 0


@dataclass
class ResponseMemo:
    """One scale's patch responses as :meth:`CLNFModel.fit` computed them on frame ``frame``."""

    frame: int
    window: int
    view: int
    start_shape: np.ndarray  # the shape they were computed around (NU-RLMS's base shape)
    responses: np.ndarray
    sim_ref_to_img: np.ndarray
    sim_img_to_ref: np.ndarray


@dataclass
class ReuseCache:
    """What one tracked face's frames may reuse (see the module docstring).

    ``frame`` counts the tracked frames; :meth:`invalidate` forgets everything (a detection,
    a failure, a new video).
    """

    params: ReuseParameters
    frame: int = 0
    validator: ValidatorMemo | None = None
    parts: dict[str, PartMemo] = field(default_factory=dict)
    responses: dict[int, ResponseMemo] = field(default_factory=dict)
    previous_globals: list = field(default_factory=list)  # params_global of the last successful tracked frames

    def invalidate(self) -> None:
        self.validator = None
        self.parts.clear()
        self.responses.clear()
        self.previous_globals.clear()

    def next_frame(self) -> None:
        """A tracked frame starts: every memo is one frame older."""
        self.frame += 1
        if self.validator is not None:
            self.validator.age += 1
        for memo in self.parts.values():
            memo.age += 1

    # -- 1. the validator --------------------------------------------------------------------
    def reusable_certainty(self, landmarks: np.ndarray, validation_boundary: float) -> float | None:
        """The last certainty when it may stand for this frame's (else None)."""
        p, memo = self.params, self.validator
        if p.validator_every <= 1 or memo is None or memo.age >= p.validator_every:
            return None
        if memo.certainty <= validation_boundary + p.validator_margin:
            return None
        if shape_change(memo.landmarks, landmarks) >= p.validator_stable_shape_px:
            return None
        return memo.certainty

    def validated(self, certainty: float, landmarks: np.ndarray) -> None:
        if self.params.validator_every > 1:
            self.validator = ValidatorMemo(float(certainty), np.asarray(landmarks, F32).copy())

    # -- 2. the part models ------------------------------------------------------------------
    def moved_part(self, name: str, main_landmarks: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
        """The part's last fit moved with the main model (params_global, params_local), or None
        when it must be fitted again (none yet, too old, or the main model's points of this part
        changed shape)."""
        p, memo = self.params, self.parts.get(name)
        if p.parts_every <= 1 or memo is None or memo.age >= p.parts_every:
            return None
        if shape_change(memo.main_landmarks, main_landmarks) >= p.parts_stable_shape_px:
            return None
        c, src, dst = similarity(memo.main_landmarks, main_landmarks)
        return move_params_global(memo.params_global, c, src, dst), memo.params_local.copy()

    def part_fitted(self, name: str, params_global, params_local, main_landmarks: np.ndarray) -> None:
        if self.params.parts_every > 1:
            self.parts[name] = PartMemo(np.asarray(params_global, F32).copy(), np.asarray(params_local, F32).copy(),
                                        np.asarray(main_landmarks, F32).copy())

    # -- 3. the patch responses --------------------------------------------------------------
    def reusable_responses(self, scale: int, window: int, view: int, shape: np.ndarray) -> ResponseMemo | None:
        """The previous frame's responses of this scale when the face barely moved since they were
        computed (largest landmark move below ``response_reuse_px``), else None. Responses reused
        once are computed afresh on the next frame (a memo is only reused the frame after it was made)."""
        memo = self.responses.get(scale)
        if self.params.response_reuse_px <= 0 or memo is None or memo.frame != self.frame - 1:
            return None
        if memo.window != window or memo.view != view:
            return None
        move = float(np.sqrt(((np.asarray(shape, np.float64) - memo.start_shape) ** 2).sum(axis=1)).max())
        return memo if move < self.params.response_reuse_px else None

    def responses_computed(self, scale: int, memo: ResponseMemo) -> None:
        if self.params.response_reuse_px > 0:
            self.responses[scale] = memo

    # -- 5. motion prediction ----------------------------------------------------------------
    def predicted_start(self, params_global: np.ndarray) -> np.ndarray:
        """Constant-velocity start: ``g1 + gain (g1 - g0)`` from the last two successful tracked frames
        (``params_global`` itself when there are fewer, or the option is off)."""
        if self.params.motion_prediction_gain <= 0 or len(self.previous_globals) < 2:
            return params_global
        g0, g1 = self.previous_globals[-2], self.previous_globals[-1]
        if not np.array_equal(g1, params_global):  # the state moved on without us (a rollback)
            return params_global
        gain = self.params.motion_prediction_gain
        g = (g1.astype(np.float64) + gain * (g1.astype(np.float64) - g0)).astype(F32)
        g[0] = max(float(g[0]), 0.5 * float(g1[0]))  # never shrink a face by half in one frame
        return g

    def tracked(self, params_global: np.ndarray) -> None:
        """A tracked frame succeeded with ``params_global``."""
        if self.params.motion_prediction_gain > 0:
            self.previous_globals.append(np.asarray(params_global, F32).copy())
            del self.previous_globals[:-2]

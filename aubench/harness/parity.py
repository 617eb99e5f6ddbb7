"""Parity figures: our OpenFace-format outputs against C++ OpenFace's.

:func:`compare` reads two FeatureExtraction CSVs (and, when both exist, the
``.hog`` files and ``_aligned/`` images beside them) and returns every figure
the project's issues name, per stage:

- landmarks: per-frame mean point error over the 68 points (px), median, p95
  and the series over frames; success agreement;
- pose: head rotation error (deg, the angle of the relative rotation);
- gaze: angle between our and C++'s gaze vectors (deg, mean of both eyes);
- AUs: per-AU Pearson r and MAE of ``AUxx_r``; agreement of ``AUxx_c``;
- HOG: per-frame correlation (min, median) and max abs difference;
- aligned faces: mean absolute grey-level difference;
- detection (separate: :func:`compare_detections`): IoU and confidence.

Frames are matched on the ``frame`` column; landmark, pose, gaze and AU
figures use the frames both runs mark successful. :func:`checks` turns
figures into pass/fail lines against :class:`aubench.pipeline.config.ParityThresholds`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from aubench.harness.paths import shared_dir
from aubench.harness.stats import pearson_r, pearson_r_rows, summary
from aubench.pipeline.config import ParityThresholds
from aubench.pipeline.errors import InputError

N_LANDMARKS = 68


# --------------------------------------------------------------------------- readers

@dataclass
class OpenFaceCsv:
    """The columns of an OpenFace CSV by name, as the comparisons use them."""

    path: Path
    columns: dict[str, np.ndarray]

    def __len__(self) -> int:
        return len(next(iter(self.columns.values()))) if self.columns else 0

    def has(self, *names: str) -> bool:
        return all(n in self.columns for n in names)

    def get(self, name: str) -> np.ndarray:
        return self.columns[name]

    def block(self, names: list[str]) -> np.ndarray:
        return np.stack([self.columns[n] for n in names], axis=1)

    def au_names(self, suffix: str) -> list[str]:
        return [c[:-len(suffix)] for c in self.columns if c.startswith("AU") and c.endswith(suffix)]


def read_openface_csv(path: str | Path) -> OpenFaceCsv:
    """Read a FeatureExtraction / FaceLandmarkImg CSV (:func:`aubench.pipeline.io.openface_csv.read_openface_csv`)."""
    from aubench.pipeline.io.openface_csv import read_openface_csv as read_table

    table = read_table(path)
    return OpenFaceCsv(table.path, table.columns)


def read_hog(path: str | Path) -> tuple[np.ndarray, np.ndarray]:
    """An OpenFace ``.hog`` file (:func:`aubench.pipeline.io.hog_file.read_hog`): good-frame flags (n,), descriptors (n, d)."""
    from aubench.pipeline.io.hog_file import read_hog as read_frames

    frames = read_frames(path)
    return frames.good.astype(np.float32), frames.descriptors.reshape(len(frames), -1)


# --------------------------------------------------------------------------- geometry

def euler_xyz_to_matrix(r: np.ndarray) -> np.ndarray:
    """OpenFace's Euler convention (``RotationHelpers.h::Euler2RotationMatrix``): R = Rx Ry Rz."""
    rx, ry, rz = r[..., 0], r[..., 1], r[..., 2]
    cx, sx, cy, sy, cz, sz = np.cos(rx), np.sin(rx), np.cos(ry), np.sin(ry), np.cos(rz), np.sin(rz)
    m = np.empty(r.shape[:-1] + (3, 3))
    m[..., 0, 0] = cy * cz
    m[..., 0, 1] = -cy * sz
    m[..., 0, 2] = sy
    m[..., 1, 0] = cx * sz + cz * sx * sy
    m[..., 1, 1] = cx * cz - sx * sy * sz
    m[..., 1, 2] = -cy * sx
    m[..., 2, 0] = sx * sz - cx * cz * sy
    m[..., 2, 1] = cz * sx + cx * sy * sz
    m[..., 2, 2] = cx * cy
    return m


def rotation_error_deg(ours: np.ndarray, ref: np.ndarray) -> np.ndarray:
    """Angle (deg) of ``R_ref^T R_ours`` per row of Euler XYZ angles (rad)."""
    rel = np.einsum("nji,njk->nik", euler_xyz_to_matrix(ref), euler_xyz_to_matrix(ours))
    cos = np.clip((np.trace(rel, axis1=1, axis2=2) - 1.0) / 2.0, -1.0, 1.0)
    return np.degrees(np.arccos(cos))


def vector_angle_deg(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    na = np.linalg.norm(a, axis=1)
    nb = np.linalg.norm(b, axis=1)
    cos = np.einsum("ij,ij->i", a, b) / np.maximum(na * nb, 1e-12)
    return np.degrees(np.arccos(np.clip(cos, -1.0, 1.0)))


def iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """IoU of (x, y, w, h) boxes, row by row."""
    ax2, ay2 = a[:, 0] + a[:, 2], a[:, 1] + a[:, 3]
    bx2, by2 = b[:, 0] + b[:, 2], b[:, 1] + b[:, 3]
    iw = np.clip(np.minimum(ax2, bx2) - np.maximum(a[:, 0], b[:, 0]), 0, None)
    ih = np.clip(np.minimum(ay2, by2) - np.maximum(a[:, 1], b[:, 1]), 0, None)
    inter = iw * ih
    union = a[:, 2] * a[:, 3] + b[:, 2] * b[:, 3] - inter
    return np.where(union > 0, inter / np.maximum(union, 1e-12), 0.0)


# --------------------------------------------------------------------------- figures

def _match_frames(ours: OpenFaceCsv, ref: OpenFaceCsv) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Row indices of the frames both CSVs hold (face 0), and the frame numbers."""
    key = next((k for k in ("frame", "face") if ours.has(k) and ref.has(k)), None)
    if key is None:
        def kind(csv: OpenFaceCsv) -> str:
            return ("a FeatureExtraction CSV (one row per frame)" if csv.has("frame") else
                    "a FaceLandmarkImg CSV (one row per face)" if csv.has("face") else "no frame or face column")

        raise InputError(f"{ref.path} is {kind(ref)} but {ours.path} is {kind(ours)}; expected two CSVs of the same "
                         "kind: give --reference the C++ FeatureExtraction CSV of this input (`aubench run` writes one "
                         "row per frame, images too)")

    def rows(csv: OpenFaceCsv) -> dict[int, int]:
        frames = csv.get(key).astype(int)
        faces = csv.get("face_id").astype(int) if csv.has("face_id") else np.zeros(len(frames), int)
        return {int(f): i for i, (f, face) in reversed(list(enumerate(zip(frames, faces)))) if face == 0}

    ro, rr = rows(ours), rows(ref)
    common = sorted(set(ro) & set(rr))
    return (np.array([ro[f] for f in common], dtype=int), np.array([rr[f] for f in common], dtype=int),
            np.array(common, dtype=int))


def _success(csv: OpenFaceCsv, idx: np.ndarray) -> np.ndarray:
    return csv.get("success")[idx] > 0.5 if csv.has("success") else np.ones(len(idx), bool)


def compare(ours_csv: str | Path, ref_csv: str | Path, series: bool = True) -> dict[str, Any]:
    """Every parity figure of ``ours_csv`` against ``ref_csv`` (see the module docstring).

    Returns a plain dict: ``{"frames": {...}, "landmarks": {...}, "pose": {...},
    "gaze": {...}, "au": {...}, "hog": {...}, "aligned": {...}, "series": {...}}``;
    a section is absent when either file lacks its columns.
    """
    ours, ref = read_openface_csv(ours_csv), read_openface_csv(ref_csv)
    io, ir, frames = _match_frames(ours, ref)
    if len(frames) == 0:
        raise InputError(f"{ours.path}: no frame in common with {ref.path}; compare outputs of the same clip")
    so, sr = _success(ours, io), _success(ref, ir)
    both = so & sr
    out: dict[str, Any] = {
        "ours": str(ours.path), "reference": str(ref.path),
        "frames": {"compared": int(len(frames)), "ours_rows": len(ours), "reference_rows": len(ref),
                   "both_successful": int(both.sum()), "first": int(frames[0]), "last": int(frames[-1])},
        "success_agreement": float(np.mean(so == sr)),
    }
    ser: dict[str, Any] = {"frame": frames.tolist()}
    bo, br = io[both], ir[both]

    xs = [f"x_{i}" for i in range(N_LANDMARKS)]
    ys = [f"y_{i}" for i in range(N_LANDMARKS)]
    if ours.has(*xs, *ys) and ref.has(*xs, *ys):
        d = np.hypot(ours.block(xs)[io] - ref.block(xs)[ir], ours.block(ys)[io] - ref.block(ys)[ir]).mean(axis=1)
        d = np.where(both, d, np.nan)
        s = summary(d)
        out["landmarks"] = {"error_median_px": s.get("median", math.nan), "error_p95_px": s.get("p95", math.nan),
                            "error_max_px": s.get("max", math.nan), "error_mean_px": s.get("mean", math.nan)}
        ser["landmark_error_px"] = d.tolist()
        fine = _unrounded_error(ours, ref, bo, br)
        if fine is not None:
            out["landmarks"]["unrounded_error_median_px"] = float(np.median(fine))
            out["landmarks"]["unrounded_error_p95_px"] = float(np.percentile(fine, 95))

    rot = ["pose_Rx", "pose_Ry", "pose_Rz"]
    if ours.has(*rot) and ref.has(*rot) and both.any():
        e = rotation_error_deg(ours.block(rot)[bo], ref.block(rot)[br])
        out["pose"] = {"rotation_error_median_deg": float(np.median(e)), "rotation_error_p95_deg": float(np.percentile(e, 95))}
        tr = ["pose_Tx", "pose_Ty", "pose_Tz"]
        if ours.has(*tr) and ref.has(*tr):
            out["pose"]["translation_error_median_mm"] = float(np.median(
                np.linalg.norm(ours.block(tr)[bo] - ref.block(tr)[br], axis=1)))

    g0, g1 = ["gaze_0_x", "gaze_0_y", "gaze_0_z"], ["gaze_1_x", "gaze_1_y", "gaze_1_z"]
    if ours.has(*g0, *g1) and ref.has(*g0, *g1) and both.any():
        e = 0.5 * (vector_angle_deg(ours.block(g0)[bo], ref.block(g0)[br])
                   + vector_angle_deg(ours.block(g1)[bo], ref.block(g1)[br]))
        out["gaze"] = {"error_median_deg": float(np.median(e)), "error_p95_deg": float(np.percentile(e, 95))}
        ga = ["gaze_angle_x", "gaze_angle_y"]
        if ours.has(*ga) and ref.has(*ga):
            out["gaze"]["angle_error_median_deg"] = float(np.median(np.degrees(
                np.linalg.norm(ours.block(ga)[bo] - ref.block(ga)[br], axis=1))))

    aus_r = [a for a in ref.au_names("_r") if ours.has(f"{a}_r")]
    aus_c = [a for a in ref.au_names("_c") if ours.has(f"{a}_c")]
    if aus_r or aus_c:
        au: dict[str, Any] = {"intensity": {}, "occurrence": {}}
        ser["au_ours"], ser["au_ref"] = {}, {}
        for a in aus_r:
            o, r = ours.get(f"{a}_r")[bo], ref.get(f"{a}_r")[br]
            au["intensity"][a] = {"r": pearson_r(o, r), "mae": float(np.mean(np.abs(o - r))) if len(o) else math.nan,
                                  # how much of the reference sits at exactly 0 (see near_constant_notes)
                                  "reference_zero_share": float(np.mean(r == 0)) if len(r) else math.nan,
                                  "reference_max": float(np.max(r)) if len(r) else math.nan}
            ser["au_ours"][a], ser["au_ref"][a] = o.tolist(), r.tolist()
        for a in aus_c:
            o, r = ours.get(f"{a}_c")[bo], ref.get(f"{a}_c")[br]
            au["occurrence"][a] = {"agreement": float(np.mean((o > 0.5) == (r > 0.5))) if len(o) else math.nan}
        rs = [v["r"] for v in au["intensity"].values() if math.isfinite(v["r"])]
        au["intensity_r_min"] = min(rs) if rs else math.nan
        au["intensity_mae_max"] = max((v["mae"] for v in au["intensity"].values()), default=math.nan)
        au["occurrence_agreement_min"] = min((v["agreement"] for v in au["occurrence"].values()), default=math.nan)
        out["au"] = au

    hog = _compare_hog(ours.path.with_suffix(".hog"), ref.path.with_suffix(".hog"), io, ir, both)
    if hog:
        out["hog"] = hog
    aligned = _compare_aligned(ours.path.parent / f"{ours.path.stem}_aligned",
                               ref.path.parent / f"{ref.path.stem}_aligned", frames[both])
    if aligned:
        out["aligned"] = aligned
    if series:
        out["series"] = ser
    return out


def _unrounded_error(ours, ref, rows_ours: np.ndarray, rows_ref: np.ndarray) -> np.ndarray | None:
    """Per-frame mean landmark error (px) between the two CSVs' unrounded shapes.

    Both CSVs round landmarks to 0.1 px, which alone puts two identical fits up to 0.05 px
    apart per coordinate; the PDM parameters and 3D landmarks beside them recover each
    shape to ~0.005 px (:mod:`aubench.pipeline.landmarks.recorded`). None when a CSV lacks those
    columns or the models are not found.
    """
    from aubench.pipeline.errors import AubenchError
    from aubench.pipeline.landmarks.recorded import landmark_pdm, unround_all

    if len(rows_ours) == 0:
        return None
    try:
        pdm = landmark_pdm()
    except AubenchError:
        return None
    n = pdm.n_points
    names_2d = [f"x_{i}" for i in range(n)] + [f"y_{i}" for i in range(n)]
    names_3d = [f"{a}_{i}" for a in "XYZ" for i in range(n)]
    names_global = ["p_scale", "p_rx", "p_ry", "p_rz", "p_tx", "p_ty"]
    names_local = [f"p_{i}" for i in range(pdm.n_modes)]
    shapes = []
    for table, rows in ((ours, rows_ours), (ref, rows_ref)):
        if not table.has(*names_2d, *names_3d, *names_global, *names_local):
            return None
        lm = table.block(names_2d)[rows].reshape(-1, 2, n).transpose(0, 2, 1)
        pts = table.block(names_3d)[rows].reshape(-1, 3, n).transpose(0, 2, 1)
        shapes.append(unround_all(pdm, lm, table.block(names_global)[rows], table.block(names_local)[rows], pts)[0])
    return np.linalg.norm(shapes[0] - shapes[1], axis=2).mean(axis=1)


def _compare_hog(ours: Path, ref: Path, io: np.ndarray, ir: np.ndarray, both: np.ndarray) -> dict[str, Any] | None:
    if not (ours.is_file() and ref.is_file()):
        return None
    go, ho = read_hog(ours)
    gr, hr = read_hog(ref)
    ok = both & (io < len(ho)) & (ir < len(hr))
    if not ok.any():
        return None
    a, b = ho[io[ok]].astype(np.float64), hr[ir[ok]].astype(np.float64)
    corr = pearson_r_rows(a, b)
    return {"frames": int(ok.sum()), "correlation_min": float(np.nanmin(corr)),
            "correlation_median": float(np.nanmedian(corr)), "frames_below_0.999": int(np.sum(corr < 0.999)),
            "max_abs_diff": float(np.abs(a - b).max())}


def _compare_aligned(ours: Path, ref: Path, frames: np.ndarray) -> dict[str, Any] | None:
    if not (ours.is_dir() and ref.is_dir()):
        return None
    import cv2

    diffs = []
    for f in frames:
        name = f"frame_det_00_{int(f):06d}.bmp"
        po, pr = ours / name, ref / name
        if po.is_file() and pr.is_file():
            a, b = cv2.imread(str(po)), cv2.imread(str(pr))
            if a is not None and b is not None and a.shape == b.shape:
                diffs.append(float(np.mean(np.abs(a.astype(np.int16) - b.astype(np.int16)))))
    if not diffs:
        return None
    return {"frames": len(diffs), "mean_abs_diff_max": max(diffs), "mean_abs_diff_median": float(np.median(diffs))}


def compare_detections(ours_csv: str | Path, ref_csv: str | Path) -> dict[str, Any]:
    """Match every C++ detection (``reference/detections/*.csv`` columns) with ours by best IoU per frame."""
    ours, ref = read_detections(ours_csv), read_detections(ref_csv)
    ious, dconf, missed, extra = [], [], 0, 0
    for frame in sorted(set(ref) | set(ours)):
        r, o = ref.get(frame, np.zeros((0, 5))), ours.get(frame, np.zeros((0, 5)))
        used: set[int] = set()
        for box in r:
            if len(o) == 0:
                missed += 1
                continue
            scores = iou(np.repeat(box[None, :4], len(o), 0), o[:, :4])
            j = int(np.argmax(scores))
            if j in used or scores[j] <= 0:
                missed += 1
                continue
            used.add(j)
            ious.append(float(scores[j]))
            dconf.append(abs(float(o[j, 4] - box[4])))
        extra += len(o) - len(used)
    return {"reference_detections": int(sum(len(v) for v in ref.values())), "matched": len(ious),
            "missed": missed, "extra": extra,
            "iou_min": min(ious) if ious else math.nan,
            "iou_median": float(np.median(ious)) if ious else math.nan,
            "confidence_max_diff": max(dconf) if dconf else math.nan}


def read_detections(path: str | Path) -> dict[int, np.ndarray]:
    """frame -> (k, 5) array of x, y, w, h, confidence (frames with face_idx -1 map to no rows)."""
    csv = read_openface_csv(path)
    if not csv.has("frame", "face_idx", "x", "y", "w", "h", "confidence"):
        raise InputError(f"{path}: expected detection columns frame,face_idx,x,y,w,h,confidence "
                         "(as reference/detections/*.csv and `aubench detect` write)")
    out: dict[int, list] = {}
    for i in range(len(csv)):
        frame = int(csv.get("frame")[i])
        out.setdefault(frame, [])
        if csv.get("face_idx")[i] >= 0:
            out[frame].append([csv.get(k)[i] for k in ("x", "y", "w", "h", "confidence")])
    return {f: np.array(v, dtype=float).reshape(-1, 5) for f, v in out.items()}


# --------------------------------------------------------------------------- checks

@dataclass(frozen=True)
class Check:
    """One figure against one threshold.

    ``spread`` is the same figure of C++ OpenFace on another CPU against the
    reference (``aubench parity --spread``); ``threshold`` is then derived from it
    (:func:`spread_threshold`), otherwise it is the config's.
    """

    name: str
    value: float
    threshold: float
    op: str           # ">=" or "<="
    passed: bool
    spread: float | None = None

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def _check(name: str, value: float, threshold: float, op: str, spread: float | None = None) -> Check:
    if value is None or not math.isfinite(value):
        return Check(name, math.nan, threshold, op, False, spread)
    ok = value >= threshold if op == ">=" else value <= threshold
    return Check(name, float(value), float(threshold), op, bool(ok), spread)


# Figures the spread rule judges: name -> (slack field of ParityThresholds, op). A ">=" figure's
# distance from the reference is 1 - value (r, agreement), a "<=" figure's is the value itself.
SPREAD_SLACK = {"success agreement": "spread_slack_success",
                "landmark error median (px)": "spread_slack_px", "landmark error p95 (px)": "spread_slack_px",
                "rotation error median (deg)": "spread_slack_deg", "gaze error median (deg)": "spread_slack_deg",
                " r": "spread_slack_r", " MAE": "spread_slack_mae", " agreement": "spread_slack_occurrence"}


def _slack_field(name: str) -> str | None:
    if name in SPREAD_SLACK:
        return SPREAD_SLACK[name]
    if name.startswith("AU"):
        return SPREAD_SLACK.get(name[4:])
    return None


def spread_threshold(name: str, op: str, spread_value: float, t: ParityThresholds) -> float:
    """The bound on our figure given C++-on-another-CPU's: no farther from the reference than
    ``spread_factor`` times C++'s own distance plus the figure's slack.

    For ">=" figures (r, agreement) the distance is ``1 - value``, for "<=" figures the value.
    """
    slack = getattr(t, _slack_field(name))
    if op == ">=":
        return 1.0 - (t.spread_factor * max(1.0 - spread_value, 0.0) + slack)
    return t.spread_factor * max(spread_value, 0.0) + slack


def _judged(name: str, value: float, threshold: float, op: str, t: ParityThresholds,
            spread: dict[str, float] | None) -> Check:
    """A figure against the config's threshold, or against the spread rule when C++'s spread figure exists."""
    s = None if spread is None else spread.get(name)
    if s is not None and math.isfinite(s) and _slack_field(name) is not None:
        return _check(name, value, spread_threshold(name, op, s, t), op, s)
    return _check(name, value, threshold, op)


def checks(figures: dict[str, Any], t: ParityThresholds, spread_figures: dict[str, Any] | None = None) -> list[Check]:
    """Pass/fail of every figure present against the config's thresholds.

    An AU whose r is undefined (one side constant over the compared frames) is
    judged on its MAE alone: r says nothing about a series that does not move.

    ``spread_figures`` (:func:`compare` of a second C++ run against the same
    reference) switches the landmark, pose, gaze, success and AU figures to the
    spread rule (:func:`spread_threshold`). HOG and aligned faces are then left
    out: C++'s second run wrote neither, so there is no spread to judge them by,
    and the fixed thresholds (made for CSV-driven runs, where both sides share the
    landmarks) do not apply to whole runs (:func:`unjudged_notes` reports them).
    Detection keeps the config's thresholds.
    """
    spread = None
    if spread_figures is not None:
        spread = {c.name: c.value for c in checks(spread_figures, t)}
    out: list[Check] = []

    def add(name, value, threshold, op):
        out.append(_judged(name, value, threshold, op, t, spread))

    if "success_agreement" in figures:
        add("success agreement", figures["success_agreement"], t.success_agreement_min, ">=")
    if "landmarks" in figures:
        lm = figures["landmarks"]
        add("landmark error median (px)", lm["error_median_px"], t.landmark_error_median_px, "<=")
        add("landmark error p95 (px)", lm["error_p95_px"], t.landmark_error_p95_px, "<=")
    if "pose" in figures:
        add("rotation error median (deg)", figures["pose"]["rotation_error_median_deg"], t.rotation_error_median_deg, "<=")
    if "gaze" in figures:
        add("gaze error median (deg)", figures["gaze"]["error_median_deg"], t.gaze_error_median_deg, "<=")
    if "aligned" in figures and spread is None:
        add("aligned face mean abs diff (grey levels)", figures["aligned"]["mean_abs_diff_max"],
            t.aligned_mean_abs_diff_max, "<=")
    if "hog" in figures and spread is None:
        add("HOG correlation min", figures["hog"]["correlation_min"], t.hog_correlation_min, ">=")
    if "au" in figures:
        for a, v in figures["au"]["intensity"].items():
            if v["r"] is not None and math.isfinite(v["r"]):
                add(f"{a} r", v["r"], t.au_intensity_r_min, ">=")
            add(f"{a} MAE", v["mae"], t.au_intensity_mae_max, "<=")
        for a, v in figures["au"]["occurrence"].items():
            add(f"{a} agreement", v["agreement"], t.au_occurrence_agreement_min, ">=")
    if "detection" in figures:
        d = figures["detection"]
        add("detection IoU min", d["iou_min"], t.detection_iou_min, ">=")
        add("detection IoU median", d["iou_median"], t.detection_iou_median_min, ">=")
        add("detection confidence max diff", d["confidence_max_diff"], t.detection_confidence_max_diff, "<=")
        add("detections missed + extra", d["missed"] + d["extra"], 0, "<=")
    return out


def format_checks(rows: list[Check]) -> str:
    """A plain-text table: figure, value, threshold, PASS/FAIL; AU checks folded into one line per AU.

    When the checks were judged by the spread rule, C++-on-another-CPU's figure
    stands beside ours ("C++ spread") and the threshold is the bound derived from it.
    """
    if not rows:
        return "no parity figure could be computed (no common columns)"

    def fmt(v: float | None) -> str:
        return "-" if v is None else "n/a" if not math.isfinite(v) else f"{v:.4g}"

    with_spread = any(c.spread is not None for c in rows)
    plain = [c for c in rows if not c.name.startswith("AU")]
    aus: dict[str, list[Check]] = {}
    for c in rows:
        if c.name.startswith("AU"):
            aus.setdefault(c.name[:4], []).append(c)
    width = max([len(c.name) for c in plain] + [20])
    lines = [f"{'figure':<{width}}  {'ours':>10}" + (f"  {'C++ spread':>10}" if with_spread else "")
             + f"  {'threshold':>12}  result"]
    for c in plain:
        lines.append(f"{c.name:<{width}}  {fmt(c.value):>10}" + (f"  {fmt(c.spread):>10}" if with_spread else "")
                     + f"  {c.op + ' ' + format(c.threshold, '.4g'):>12}  {'PASS' if c.passed else 'FAIL'}")
    if aus:
        lines.append("")
        if with_spread:
            lines.append(f"{'AU':<6}{'r':>9}{'C++ r':>9}{'MAE':>9}{'C++ MAE':>9}{'agree':>9}{'C++ agr':>9}  result"
                         "   (ours, and C++ on another CPU, each against the reference)")
        else:
            thresholds = {}
            for cs in aus.values():
                for c in cs:
                    thresholds.setdefault(c.name[5:], f"{c.op} {c.threshold:.4g}")
            lines.append(f"{'AU':<6}{'r':>10}{'MAE':>10}{'c agree':>10}  result   (r {thresholds.get('r', '')}, "
                         f"MAE {thresholds.get('MAE', '')}, agreement {thresholds.get('agreement', '')})")
        for au, cs in aus.items():
            by = {c.name[5:]: c for c in cs}
            bad = [f"{k} {by[k].op} {by[k].threshold:.4g}" if with_spread else k for k, c in by.items() if not c.passed]
            verdict = "PASS" if not bad else "FAIL (" + ", ".join(bad) + ")"
            if with_spread:
                cells = []
                for k in ("r", "MAE", "agreement"):
                    cells += [fmt(by[k].value), fmt(by[k].spread)] if k in by else ["-", "-"]
                lines.append(f"{au:<6}" + "".join(f" {v:>8}" for v in cells) + f"  {verdict}")
            else:
                cells = [fmt(by[k].value) if k in by else "-" for k in ("r", "MAE", "agreement")]
                lines.append(f"{au:<6}{cells[0]:>10}{cells[1]:>10}{cells[2]:>10}  {verdict}")
    failed = sum(not c.passed for c in rows)
    lines.append(f"{len(rows) - failed}/{len(rows)} checks pass" + (f"; {failed} FAIL" if failed else ""))
    return "\n".join(lines)


def unjudged_notes(figures: dict[str, Any], spread_figures: dict[str, Any] | None) -> list[str]:
    """With the spread rule: the figures shown but not judged (no C++ spread of them exists)."""
    if spread_figures is None:
        return []
    notes = []
    if "hog" in figures:
        h = figures["hog"]
        notes.append(f"not judged (C++'s spread run wrote no .hog): HOG correlation min {h['correlation_min']:.4f}, "
                     f"median {h['correlation_median']:.5f}, {h['frames_below_0.999']} of {h['frames']} frames below 0.999")
    if "aligned" in figures:
        a = figures["aligned"]
        notes.append(f"not judged (C++'s spread run wrote no aligned faces): aligned face mean abs diff max "
                     f"{a['mean_abs_diff_max']:.3f}, median {a['mean_abs_diff_median']:.3f} grey levels")
    return notes


NEAR_CONSTANT_ZERO_SHARE = 0.8


def near_constant_notes(figures: dict[str, Any], rows: list[Check]) -> list[str]:
    """One line per intensity AU that missed its r threshold on a reference that is 0 in most frames.

    r on such a series rests on its few non-zero frames, and two implementations that differ
    only in float rounding already disagree there (``experiments.noise_floor`` measures the
    spread: for AU06 of 2015-10-15-15-14, 0.975-0.991 between such runs); MAE is the figure to read.
    """
    failed_r = {c.name[:4] for c in rows if c.name.endswith(" r") and c.name.startswith("AU") and not c.passed}
    notes = []
    for a, v in figures.get("au", {}).get("intensity", {}).items():
        share = v.get("reference_zero_share", math.nan)
        if a in failed_r and math.isfinite(share) and share >= NEAR_CONSTANT_ZERO_SHARE:
            notes.append(f"note: {a} is 0 in {share:.0%} of the reference's frames (max {v['reference_max']:.2f}); "
                         f"r on so nearly constant a series moves with float-level tracker noise (MAE {v['mae']:.4f}); "
                         "python -m experiments.noise_floor CLIP measures its spread")
    return notes


def find_reference(input_path: str | Path) -> Path | None:
    """The C++ reference CSV of a shared sample input (``reference/<stem>/<stem>.csv``), if there is one."""
    stem = Path(input_path).stem
    for candidate in (shared_dir() / "reference" / stem / f"{stem}.csv",
                      shared_dir() / "reference" / "images" / f"{stem}.csv"):
        if candidate.is_file():
            return candidate
    return None


def parity_section(ours_csv: str | Path, ref_csv: str | Path, thresholds: ParityThresholds,
                   series: bool = True, spread_csv: str | Path | None = None) -> dict[str, Any]:
    """The ``parity`` section of a result: figures, checks and the overall verdict.

    With ``spread_csv`` (C++ OpenFace on another CPU, same clip) the figures are
    judged by the spread rule (:func:`checks`), and the spread's own figures are kept
    under ``spread`` so reports can show both distances side by side; not for a configuration
    whose ``[parity] judge_by_spread`` is false (an approximate one: its thresholds state how far).
    """
    figures = compare(ours_csv, ref_csv, series=series)
    spread = None
    if not thresholds.judge_by_spread:  # an approximate configuration: judged by its own stated thresholds
        spread_csv = None
    if spread_csv is not None:
        # the spread run's figures over the whole clip: C++'s stated spread, also for a partial run of ours
        spread = compare(spread_csv, ref_csv, series=False)
    rows = checks(figures, thresholds, spread)
    out = {"figures": figures, "checks": [c.as_dict() for c in rows], "passed": all(c.passed for c in rows)}
    if spread is not None:
        out["spread"] = {"csv": str(spread_csv), "figures": spread,
                         "rule": {"factor": thresholds.spread_factor,
                                  **{f: getattr(thresholds, f) for f in sorted(set(SPREAD_SLACK.values()))}}}
    return out


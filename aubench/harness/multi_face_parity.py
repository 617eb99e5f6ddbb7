"""Multi-face parity: our FaceLandmarkVidMulti CSV against C++ OpenFace's.

Rows are matched on ``(frame, face_id)``: the C++ tracker is deterministic, so the same
faces should be tracked in the same slots on the same frames. Figures:

- rows: matched, only in the reference, only in ours, and the frames whose set of face
  ids differs (with the first such frame: where the control flows parted);
- landmarks, per matched row: mean distance over the 68 points (px); median, p95, max
  over the matched rows (and the median over rows both mark successful). The C++ CSV
  writes landmarks with 1 decimal, so about 0.03 px is the floor;
- success agreement and confidence (``detection_certainty``) difference per matched row;
- AUs (static models, no post-processing): per-AU MAE of ``AUxx_r`` (mean and max over
  AUs) and agreement of ``AUxx_c`` (mean and min over AUs), over all matched rows.

The command: ``python -m experiments.multi_face_parity``.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np

from aubench.harness.parity import N_LANDMARKS, read_openface_csv
from aubench.harness.paths import shared_dir
from aubench.pipeline.errors import InputError


def reference_csv() -> Path:
    """C++ FaceLandmarkVidMulti's CSV of ``media/multi_face.avi``."""
    return shared_dir() / "reference" / "multi_face" / "FaceLandmarkVidMulti" / "multi_face.csv"


def _keys(csv) -> dict[tuple[int, int], int]:
    frames = np.rint(csv.get("frame")).astype(int)
    ids = np.rint(csv.get("face_id")).astype(int)
    return {(int(f), int(i)): row for row, (f, i) in enumerate(zip(frames, ids))}


def _pct(values: np.ndarray, q: float) -> float:
    return float(np.percentile(values, q)) if len(values) else math.nan


def compare_multi(ours_csv: str | Path, ref_csv: str | Path | None = None, *,
                  frames: int | None = None) -> dict[str, Any]:
    """Every multi-face parity figure of ``ours_csv`` against ``ref_csv`` (default: :func:`reference_csv`).

    ``frames``: compare only frames ``1..frames`` of both (a run of the first N frames).
    Returns a plain dict (see the module docstring for the figures).
    """
    ours, ref = read_openface_csv(ours_csv), read_openface_csv(ref_csv or reference_csv())
    ko, kr = _keys(ours), _keys(ref)
    if frames is not None:
        ko = {k: v for k, v in ko.items() if k[0] <= frames}
        kr = {k: v for k, v in kr.items() if k[0] <= frames}
    matched = sorted(set(ko) & set(kr))
    if not matched:
        raise InputError(f"{ours.path}: no (frame, face_id) row in common with {ref.path}; "
                         "compare FaceLandmarkVidMulti outputs of the same clip")
    io = np.array([ko[k] for k in matched])
    ir = np.array([kr[k] for k in matched])

    def ids_per_frame(keys) -> dict[int, set[int]]:
        out: dict[int, set[int]] = {}
        for f, i in keys:
            out.setdefault(f, set()).add(i)
        return out

    po, pr = ids_per_frame(ko), ids_per_frame(kr)
    all_frames = sorted(set(po) | set(pr))
    differing = [f for f in all_frames if po.get(f, set()) != pr.get(f, set())]
    out: dict[str, Any] = {
        "ours": str(ours.path), "reference": str(ref.path),
        "rows": {"matched": len(matched), "only_reference": len(set(kr) - set(ko)), "only_ours": len(set(ko) - set(kr)),
                 "ours": len(ko), "reference": len(kr)},
        "frames": {"with_rows": len(all_frames), "face_ids_differ": len(differing),
                   "first_differing": differing[0] if differing else None},
    }
    so = ours.get("success")[io] > 0.5
    sr = ref.get("success")[ir] > 0.5
    out["success_agreement"] = float(np.mean(so == sr))
    out["confidence_abs_diff_max"] = float(np.max(np.abs(ours.get("confidence")[io] - ref.get("confidence")[ir])))

    xs = [f"x_{i}" for i in range(N_LANDMARKS)]
    ys = [f"y_{i}" for i in range(N_LANDMARKS)]
    d = np.hypot(ours.block(xs)[io] - ref.block(xs)[ir], ours.block(ys)[io] - ref.block(ys)[ir]).mean(axis=1)
    both = so & sr
    out["landmarks"] = {"error_median_px": float(np.median(d)), "error_p95_px": _pct(d, 95),
                        "error_max_px": float(np.max(d)),
                        "error_median_both_successful_px": float(np.median(d[both])) if both.any() else math.nan,
                        "worst_row": list(matched[int(np.argmax(d))])}

    aus_r = [a for a in ref.au_names("_r") if ours.has(f"{a}_r")]
    aus_c = [a for a in ref.au_names("_c") if ours.has(f"{a}_c")]
    if aus_r or aus_c:
        mae = {a: float(np.mean(np.abs(ours.get(f"{a}_r")[io] - ref.get(f"{a}_r")[ir]))) for a in aus_r}
        agree = {a: float(np.mean((ours.get(f"{a}_c")[io] > 0.5) == (ref.get(f"{a}_c")[ir] > 0.5))) for a in aus_c}
        out["au"] = {"intensity_mae": mae, "occurrence_agreement": agree,
                     "intensity_mae_mean": float(np.mean(list(mae.values()))) if mae else math.nan,
                     "intensity_mae_max": max(mae.values(), default=math.nan),
                     "occurrence_agreement_mean": float(np.mean(list(agree.values()))) if agree else math.nan,
                     "occurrence_agreement_min": min(agree.values(), default=math.nan)}
    return out


def format_table(figures: dict[str, Any]) -> str:
    """The figures as a short text table."""
    r, f, lm = figures["rows"], figures["frames"], figures["landmarks"]
    lines = [
        f"ours:      {figures['ours']}",
        f"reference: {figures['reference']}",
        f"rows (frame, face_id): {r['matched']} matched, {r['only_reference']} only in C++, "
        f"{r['only_ours']} only in ours ({r['ours']} ours, {r['reference']} C++)",
        f"frames whose face ids differ: {f['face_ids_differ']} of {f['with_rows']}"
        + (f" (first: frame {f['first_differing']})" if f["first_differing"] is not None else ""),
        f"landmarks per row (px): median {lm['error_median_px']:.4f}, p95 {lm['error_p95_px']:.4f}, "
        f"max {lm['error_max_px']:.4f} (frame {lm['worst_row'][0]}, face {lm['worst_row'][1]}); "
        f"median over rows both successful {lm['error_median_both_successful_px']:.4f}",
        f"success agreement: {figures['success_agreement'] * 100:.2f} %; "
        f"confidence |diff| max {figures['confidence_abs_diff_max']:.2f}",
    ]
    au = figures.get("au")
    if au:
        worst_r = max(au["intensity_mae"], key=au["intensity_mae"].get)
        worst_c = min(au["occurrence_agreement"], key=au["occurrence_agreement"].get)
        lines.append(f"AU intensity MAE: mean {au['intensity_mae_mean']:.4f}, max {au['intensity_mae_max']:.4f} "
                     f"({worst_r})")
        lines.append(f"AU occurrence agreement: mean {au['occurrence_agreement_mean'] * 100:.2f} %, "
                     f"min {au['occurrence_agreement_min'] * 100:.2f} % ({worst_c})")
    return "\n".join(lines)

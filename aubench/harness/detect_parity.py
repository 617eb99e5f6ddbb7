"""Parity and speed of the MTCNN detector against C++ OpenFace's detections.

:func:`parity` runs :class:`aubench.pipeline.detect.mtcnn.MTCNNDetector` per variant selection
(``reference``: every kernel's NumPy reference; ``fast``: every kernel's fast variant) on the
frames of ``reference/detections/<name>.csv`` (default, 2015-10-15-15-14, multi_face frames
1..60 and sample1..6) and reports, as the issue asks: every C++ detection matched by one of
ours (greedy, best IoU first) with IoU >= 0.95 and median IoU >= 0.99, confidence within
0.01, no extra detections; and the largest box difference (px) between the fast and the
reference selections. :func:`bench` times each selection on default.wmv frames 1..N (the
first frame, with Numba compilation or cache loading, reported apart), median ms/frame;
C++ (TIMING.md, ``mtcnn_fullframe``, single thread): median 26.23 ms.

The command: ``python -m experiments.detect_parity [NAME ...] [--bench]``.
``aubench parity CLIP --detections reference/detections/CLIP.csv`` checks one clip's
detections with the config's own selection.
"""

from __future__ import annotations

import csv
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

SELECTIONS = {
    "reference": {},
    "fast": {"mtcnn_conv": "im2col", "mtcnn_prelu": "numba", "mtcnn_max_pool": "numba", "mtcnn_fc": "blas",
             "mtcnn_nms": "numba"},
}
CPP_SINGLE_THREAD_MS = 26.23  # reference/TIMING.md, mtcnn_fullframe_ms, single thread, median
IOU_MIN, IOU_MEDIAN_MIN, CONFIDENCE_MAX_DIFF = 0.95, 0.99, 0.01


def media_for(name: str, media_dir: Path) -> Path:
    for ext in (".wmv", ".avi", ".jpg"):
        if (media_dir / f"{name}{ext}").is_file():
            return media_dir / f"{name}{ext}"
    raise FileNotFoundError(f"{media_dir}: no media file for reference detections {name!r}")


def read_reference(path: Path) -> dict[int, list[tuple[float, float, float, float, float]]]:
    """``reference/detections/<name>.csv`` as {frame: [(x, y, w, h, confidence), ...]} (empty list: no face)."""
    out: dict[int, list] = {}
    with open(path, newline="") as f:
        for row in csv.DictReader(f):
            frame = int(row["frame"])
            out.setdefault(frame, [])
            if int(row["face_idx"]) >= 0:
                out[frame].append(tuple(float(row[k]) for k in ("x", "y", "w", "h", "confidence")))
    return out


def iou(a, b) -> float:
    ax2, ay2, bx2, by2 = a[0] + a[2], a[1] + a[3], b[0] + b[2], b[1] + b[3]
    iw, ih = min(ax2, bx2) - max(a[0], b[0]), min(ay2, by2) - max(a[1], b[1])
    inter = max(iw, 0.0) * max(ih, 0.0)
    union = a[2] * a[3] + b[2] * b[3] - inter
    return inter / union if union > 0 else 0.0


@dataclass
class Comparison:
    """Per-detection figures of one run against the C++ detections."""

    total: int = 0
    matched: int = 0
    extra: int = 0
    ious: list[float] = field(default_factory=list)
    confidence_diffs: list[float] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)

    def add(self, other: Comparison) -> None:
        self.total += other.total
        self.matched += other.matched
        self.extra += other.extra
        self.ious += other.ious
        self.confidence_diffs += other.confidence_diffs
        self.failures += other.failures

    @property
    def ok(self) -> bool:
        return (self.matched == self.total and self.extra == 0
                and (not self.ious or float(np.median(self.ious)) >= IOU_MEDIAN_MIN)
                and max(self.confidence_diffs, default=0.0) <= CONFIDENCE_MAX_DIFF)

    def summary(self) -> dict:
        return {"matched": self.matched, "total": self.total, "extra": self.extra,
                "iou_min": min(self.ious, default=float("nan")),
                "iou_median": float(np.median(self.ious)) if self.ious else float("nan"),
                "confidence_max_diff": max(self.confidence_diffs, default=0.0), "ok": self.ok,
                "failures": self.failures[:20]}


def compare(reference: dict, ours: dict, where: str = "") -> Comparison:
    """Match every C++ detection to one of ours (greedy by IoU); IoU >= 0.95 counts as matched."""
    c = Comparison()
    for frame, ref_faces in sorted(reference.items()):
        mine = [(d.x, d.y, d.w, d.h, d.confidence) for d in ours.get(frame, [])]
        c.total += len(ref_faces)
        pairs = sorted(((iou(r, m), i, j) for i, r in enumerate(ref_faces) for j, m in enumerate(mine)), reverse=True)
        used_r, used_m = set(), set()
        for value, i, j in pairs:
            if i in used_r or j in used_m or value < IOU_MIN:
                continue
            used_r.add(i)
            used_m.add(j)
            c.matched += 1
            c.ious.append(value)
            c.confidence_diffs.append(abs(ref_faces[i][4] - mine[j][4]))
        for i in set(range(len(ref_faces))) - used_r:
            c.failures.append(f"{where} frame {frame}: C++ face {i} {ref_faces[i][:4]} unmatched")
        extra = len(mine) - len(used_m)
        c.extra += extra
        if extra:
            c.failures.append(f"{where} frame {frame}: {extra} extra detections")
    return c


def run_detector(detector, media: Path, frames: int, timer=None, cpu_ms: list | None = None) -> tuple[dict, list[float]]:
    """{frame: [Detection]} for the first ``frames`` frames, and the wall ms each frame took.

    ``cpu_ms``, when given, receives each frame's process CPU time (ms): on a loaded shared
    machine that is steadier than wall time for a single-threaded run.
    """
    from aubench.pipeline.io.frames import open_input
    from aubench.pipeline.timing import NULL_TIMER

    out, times = {}, []
    with open_input(media) as src:
        for frame in src:
            if frame.number > frames:
                break
            start, cpu_start = time.perf_counter(), time.process_time()
            out[frame.number] = detector.detect(frame.bgr, timer or NULL_TIMER)
            times.append((time.perf_counter() - start) * 1000.0)
            if cpu_ms is not None:
                cpu_ms.append((time.process_time() - cpu_start) * 1000.0)
            if timer is not None:
                timer.next_frame()
    return out, times


def make_detector(selection: str, models_dir: Path):
    from aubench.pipeline import registry
    from aubench.pipeline.config import DetectorParameters
    from aubench.pipeline.detect.mtcnn import MTCNNDetector

    return MTCNNDetector(models_dir, DetectorParameters(), registry.resolve(SELECTIONS[selection]))


def parity(names: list[str], selections: list[str], frames: int, shared: Path) -> dict:
    models_dir, media_dir, ref_dir = shared / "openface", shared / "media", shared / "reference" / "detections"
    doc: dict = {"selections": {}, "fast_vs_reference_max_px": None}
    runs: dict[str, dict[str, dict]] = {}
    for sel in selections:
        det = make_detector(sel, models_dir)
        total = Comparison()
        per_name = {}
        for name in names:
            ref = read_reference(ref_dir / f"{name}.csv")
            n = min(frames, max(ref))
            ref = {k: v for k, v in ref.items() if k <= n}
            ours, _ = run_detector(det, media_for(name, media_dir), n)
            runs.setdefault(sel, {})[name] = ours
            c = compare(ref, ours, name)
            per_name[name] = c.summary()
            total.add(c)
            print(f"{sel:9s} {name:18s} {c.matched}/{c.total} matched, extra {c.extra}, "
                  f"IoU min {per_name[name]['iou_min']:.6f} median {per_name[name]['iou_median']:.6f}, "
                  f"max |conf diff| {per_name[name]['confidence_max_diff']:.2e}", flush=True)
        doc["selections"][sel] = {"total": total.summary(), "per_input": per_name}
    if "reference" in runs and "fast" in runs:
        worst = 0.0
        for name, ours in runs["reference"].items():
            for frame, dets in ours.items():
                other = runs["fast"][name].get(frame, [])
                if len(other) != len(dets):
                    worst = float("inf")
                    continue
                for a, b in zip(dets, other):
                    worst = max(worst, abs(a.x - b.x), abs(a.y - b.y), abs(a.w - b.w), abs(a.h - b.h))
        doc["fast_vs_reference_max_px"] = worst
    return doc


def bench(selections: list[str], frames: int, shared: Path) -> dict:
    import os

    out = {"threads": {k: os.environ.get(k, "") for k in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "NUMBA_NUM_THREADS")},
           "cpp_single_thread_ms": CPP_SINGLE_THREAD_MS, "selections": {}}
    media = shared / "media" / "default.wmv"
    for sel in selections:
        det = make_detector(sel, shared / "openface")
        from aubench.pipeline.timing import StageTimer

        timer = StageTimer()
        cpu: list[float] = []
        _, times = run_detector(det, media, frames, timer, cpu)
        stages = {k: float(np.median(v[1:])) for k, v in timer.per_frame().items()}
        med = float(np.median(times[1:]))
        out["selections"][sel] = {"first_frame_ms": times[0], "median_ms": med,
                                  "median_cpu_ms": float(np.median(cpu[1:])), "first_frame_cpu_ms": cpu[0],
                                  "p90_ms": float(np.percentile(times[1:], 90)), "frames": len(times),
                                  "ratio_vs_cpp": med / CPP_SINGLE_THREAD_MS, "stages_median_ms": stages}
        print(f"{sel:9s} first frame {times[0]:8.1f} ms, then median {med:6.2f} ms/frame "
              f"(p90 {out['selections'][sel]['p90_ms']:.2f}) over frames 2..{len(times)}; "
              f"{med / CPP_SINGLE_THREAD_MS:.2f}x C++ ({CPP_SINGLE_THREAD_MS} ms); CPU median "
              f"{out['selections'][sel]['median_cpu_ms']:.2f} ms "
              f"({out['selections'][sel]['median_cpu_ms'] / CPP_SINGLE_THREAD_MS:.2f}x); stages "
              + ", ".join(f"{k} {v:.2f}" for k, v in sorted(stages.items())), flush=True)
    return out

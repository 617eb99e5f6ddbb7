"""Min-of-N time of one tracked ``DetectLandmarks`` and of the kernels inside it.

    python -m experiments.detect_landmarks_bench [--config fast] [--video CLIP] [--frame 50] [--reps 300]
                                                 [--profile] [--models DIR]

Tracks the clip up to ``--frame``, then runs the same ``CLNF.detect_landmarks`` (the
tracker's parameters of that frame, its small windows, no likelihood: exactly what a
tracked frame does) ``--reps`` times on that frame's image. The minimum over the reps is
the figure that survives a noisy machine; the kernels' own minima (each selected variant
wrapped with a timer) and the rest ("glue": Python, NumPy calls between kernels, the
validator's NumPy layers) are printed beside it. ``--profile`` adds a cProfile of 200 more
calls, sorted by own time. Interleave runs of two checkouts in one job to compare them.
"""

from __future__ import annotations

import argparse
import collections
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from aubench.harness.paths import shared_dir

TIMED_KERNELS = ("patch_response", "warp_areas", "nu_rlms", "calc_params", "align_shapes", "mean_shift")

DEFAULT_VIDEO = shared_dir() / "media" / "default.wmv"


def measure(config_spec: str, video: Path, frame: int, reps: int, models: str | None) -> dict[str, Any]:
    """``{"total_ms": [...], "kernels_ms": {name: [...]}, "landmarks": (68, 2)}`` of ``reps`` calls."""
    import cv2

    from aubench.pipeline import registry
    from aubench.pipeline.config import load_any
    from aubench.pipeline.errors import InputError
    from aubench.pipeline.extract import load_tracker
    from aubench.pipeline.models import locate

    config = load_any(config_spec)
    kernels = registry.resolve(config.variant_selection, where="config [variants]")
    spent: collections.Counter = collections.Counter()

    def timed(name, fn):
        def call(*args, **kwargs):
            t = time.perf_counter()
            out = fn(*args, **kwargs)
            spent[name] += time.perf_counter() - t
            return out
        return call

    kernels = kernels.replace(**{name: timed(name, getattr(kernels, name)) for name in TIMED_KERNELS})
    tracker = load_tracker(locate(models), config, kernels)
    cap = cv2.VideoCapture(str(video))
    image = None
    for _ in range(frame):
        ok, image = cap.read()
        if not ok:
            raise InputError(f"{video}: fewer than {frame} frames; give a smaller --frame")
        tracker.track(image)
    cap.release()
    if not tracker.state.tracking_initialised:
        raise InputError(f"{video}: no face tracked at frame {frame}; give a frame with a tracked face")
    gray = np.asarray(cv2.cvtColor(image, cv2.COLOR_BGR2GRAY), np.float32)
    g, loc = tracker.state.params_global.copy(), tracker.state.params_local.copy()
    windows = tracker.params.window_sizes_small
    totals: list[float] = []
    per_kernel: dict[str, list[float]] = collections.defaultdict(list)
    result = None
    for _ in range(reps):
        spent.clear()
        t = time.perf_counter()
        result = tracker.clnf.detect_landmarks(gray, g, loc, windows, likelihood=False)
        totals.append((time.perf_counter() - t) * 1e3)
        for name, v in spent.items():
            per_kernel[name].append(v * 1e3)
    return {"total_ms": totals, "kernels_ms": dict(per_kernel), "landmarks": result.landmarks,
            "call": (tracker.clnf, gray, g, loc, windows)}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m experiments.detect_landmarks_bench", description=__doc__.split("\n\n")[0])
    p.add_argument("--config", default="fast", help="TOML config or preset name (default: fast)")
    p.add_argument("--video", default=str(DEFAULT_VIDEO), help="clip to track (default: default.wmv)")
    p.add_argument("--frame", type=int, default=50, help="the tracked frame to time (default 50)")
    p.add_argument("--reps", type=int, default=300, help="timed calls (default 300)")
    p.add_argument("--profile", action="store_true", help="cProfile 200 more calls")
    p.add_argument("--models", help="OpenFace model folder (default: AUBENCH_MODELS)")
    args = p.parse_args(argv)
    from aubench.pipeline.errors import AubenchError

    if args.frame < 1 or args.reps < 1:
        print("detect_landmarks_bench: --frame and --reps must be positive", file=sys.stderr)
        return 2
    try:
        r = measure(args.config, Path(args.video), args.frame, args.reps, args.models)
    except AubenchError as exc:
        print(f"detect_landmarks_bench: {exc}", file=sys.stderr)
        return 2
    total = min(r["total_ms"])
    print(f"DetectLandmarks of frame {args.frame} ({args.config}): min {total:.3f} ms, "
          f"median {np.median(r['total_ms']):.3f} ms over {args.reps} calls")
    kernel_sum = 0.0
    for name, values in sorted(r["kernels_ms"].items()):
        print(f"  {name:16s} min {min(values):.3f} ms")
        kernel_sum += min(values)
    print(f"  {'glue':16s} {total - kernel_sum:.3f} ms (min total - sum of kernel minima)")
    if args.profile:
        import cProfile
        import pstats

        clnf, gray, g, loc, windows = r["call"]
        prof = cProfile.Profile()
        prof.enable()
        for _ in range(200):
            clnf.detect_landmarks(gray, g, loc, windows, likelihood=False)
        prof.disable()
        pstats.Stats(prof).sort_stats("tottime").print_stats(40)
    return 0


if __name__ == "__main__":
    sys.exit(main())

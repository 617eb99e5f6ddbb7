"""Memory over a long clip: run the same video twice (or ``--passes`` times) in one process and compare peak RSS.

    python -m experiments.memory_check [VIDEO] [--config fast] [--frames N] [--passes 2] [--max-growth-mib 16]

The models are loaded once; the tracker and AU analyser are reset between the two passes,
as a batch worker does between videos. A leak (caches that keep every frame, growing lists)
shows as a higher peak in the second pass; the check fails (exit 1) when the peak grows by
more than ``--max-growth-mib``. Current RSS (``VmRSS``) after each pass is printed too.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from aubench.harness.paths import shared_dir
from aubench.pipeline.run_result import peak_rss_mb
from aubench.pipeline.video_task import VideoWorker

DEFAULT_VIDEO = shared_dir() / "media" / "2015-10-15-15-14.avi"


def current_rss_mb() -> float:
    """This process's resident set size now, in MiB (``/proc/self/status`` ``VmRSS``)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024.0
    return float("nan")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m experiments.memory_check", description=__doc__.split("\n\n")[0])
    p.add_argument("video", nargs="?", default=str(DEFAULT_VIDEO), help="clip to run twice (default: the 842-frame one)")
    p.add_argument("--config", default="fast", help="TOML config or preset name (default: fast)")
    p.add_argument("--frames", type=int, help="only the first N frames of each pass")
    p.add_argument("--models", help="OpenFace model folder (default: AUBENCH_MODELS)")
    p.add_argument("--max-growth-mib", type=float, default=16.0,
                   help="largest peak-RSS growth from the next-to-last pass to the last that passes (default 16 MiB)")
    p.add_argument("--passes", type=int, default=2,
                   help="passes over the clip (default 2; 3 shows whether a growth from pass 1 to 2 goes on)")
    args = p.parse_args(argv)

    from aubench.pipeline.config import load_any

    config = load_any(args.config)
    rows = [("start (imports)", peak_rss_mb(), current_rss_mb())]
    worker = VideoWorker(config, args.models)
    if worker.error:
        print(f"memory_check: {worker.error}", file=sys.stderr)
        return 2
    rows.append(("models loaded", peak_rss_mb(), current_rss_mb()))
    frames = []
    with tempfile.TemporaryDirectory() as tmp:
        for k in range(1, max(args.passes, 2) + 1):
            outcome = worker.run(Path(args.video), Path(tmp) / f"pass{k}", args.frames, None, 0)
            if outcome.error:
                print(f"memory_check: pass {k}: {outcome.error}", file=sys.stderr)
                return 2
            frames.append(outcome.frames)
            rows.append((f"after pass {k} ({outcome.frames} frames, {outcome.frames / outcome.wall_s:.1f} fps)",
                         peak_rss_mb(), current_rss_mb()))
    print(f"memory check of {config.name} on {Path(args.video).name}")
    print(f"{'point':<45} {'peak RSS MiB':>12} {'RSS now MiB':>12}")
    for name, peak, now in rows:
        print(f"{name:<45} {peak:>12.1f} {now:>12.1f}")
    passes = max(args.passes, 2)
    for k in range(2, passes + 1):  # rows: start, models, then one per pass
        peak, now = rows[k + 1][1] - rows[k][1], rows[k + 1][2] - rows[k][2]
        print(f"peak RSS growth pass {k - 1} -> pass {k}: {peak:+.1f} MiB (RSS now {now:+.1f} MiB)")
    growth = rows[-1][1] - rows[-2][1]
    ok = growth <= args.max_growth_mib
    print(f"last growth {growth:+.1f} MiB; limit {args.max_growth_mib:.0f} MiB: {'OK' if ok else 'GROWS'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

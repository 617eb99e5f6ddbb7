"""Memory over a long clip: run the same video twice in one process and compare peak RSS.

    python -m experiments.memory_check [VIDEO] [--config fast] [--frames N] [--max-growth-mib 16]

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

from pipeline.batch import _Worker, peak_rss_mb

DEFAULT_VIDEO = Path(__file__).resolve().parents[2] / "shared" / "media" / "2015-10-15-15-14.avi"


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
                   help="largest peak-RSS growth from pass 1 to pass 2 that passes (default 16 MiB)")
    args = p.parse_args(argv)

    from pipeline.config import load_any

    config = load_any(args.config)
    rows = [("start (imports)", peak_rss_mb(), current_rss_mb())]
    worker = _Worker(config, args.models)
    if worker.error:
        print(f"memory_check: {worker.error}", file=sys.stderr)
        return 2
    rows.append(("models loaded", peak_rss_mb(), current_rss_mb()))
    frames = []
    with tempfile.TemporaryDirectory() as tmp:
        for k in (1, 2):
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
    growth = rows[-1][1] - rows[-2][1]
    now_growth = rows[-1][2] - rows[-2][2]
    ok = growth <= args.max_growth_mib
    print(f"peak RSS growth pass 1 -> pass 2: {growth:+.1f} MiB (RSS now {now_growth:+.1f} MiB); "
          f"limit {args.max_growth_mib:.0f} MiB: {'OK' if ok else 'GROWS'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

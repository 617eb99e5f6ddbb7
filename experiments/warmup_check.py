"""Numba warm-up: JIT compile on a first run against loading the cache on a second run.

    python -m experiments.warmup_check [VIDEO] [--config fast] [--cache-dir DIR] [--limit-s 2]

Runs two fresh processes one after the other with the same ``NUMBA_CACHE_DIR`` (a new empty
folder unless ``--cache-dir`` is given): the first compiles every Numba kernel the preset uses
and writes the cache, the second loads it. In each process the models are loaded (timed
apart), then the first frame is run twice with the stages reset in between; the warm-up is
the first pass's time minus the second's (JIT compile or cache load, nothing else). The check
fails (exit 1) when the second process's warm-up exceeds ``--limit-s``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from aubench.harness.paths import shared_dir  # cheap: loads no pipeline module, so _child's import time stays its own

DEFAULT_VIDEO = shared_dir() / "media" / "default.wmv"


def _child(video: str, config_spec: str, models: str | None) -> dict:
    t0 = time.perf_counter()
    from aubench.pipeline.config import load_any
    from aubench.pipeline.video_task import VideoWorker

    config = load_any(config_spec)
    import_s = time.perf_counter() - t0
    worker = VideoWorker(config, models)
    if worker.error:
        raise SystemExit(f"warmup_check: {worker.error}")
    passes = []
    with tempfile.TemporaryDirectory() as tmp:
        for k in (1, 2):
            t = time.perf_counter()
            outcome = worker.run(Path(video), Path(tmp) / str(k), 1, None, 0)
            if outcome.error:
                raise SystemExit(f"warmup_check: {outcome.error}")
            passes.append(time.perf_counter() - t)
    return {"import_s": import_s, "load_s": worker.load_s, "first_frame_s": passes[0], "again_s": passes[1],
            "warmup_s": passes[0] - passes[1]}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m experiments.warmup_check", description=__doc__.split("\n\n")[0])
    p.add_argument("video", nargs="?", default=str(DEFAULT_VIDEO))
    p.add_argument("--config", default="fast", help="TOML config or preset name (default: fast)")
    p.add_argument("--models", help="OpenFace model folder (default: AUBENCH_MODELS)")
    p.add_argument("--cache-dir", help="NUMBA_CACHE_DIR to use (default: a new empty folder, so run 1 compiles)")
    p.add_argument("--limit-s", type=float, default=2.0, help="largest second-run warm-up that passes (default 2 s)")
    p.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.child:
        print(json.dumps(_child(args.video, args.config, args.models)))
        return 0

    with tempfile.TemporaryDirectory(prefix="numba-cache-") as fresh:
        env = {**os.environ, "NUMBA_CACHE_DIR": args.cache_dir or fresh}
        cmd = [sys.executable, "-m", "experiments.warmup_check", args.video, "--config", args.config, "--child"]
        if args.models:
            cmd += ["--models", args.models]
        runs = []
        for _ in (1, 2):
            out = subprocess.run(cmd, env=env, capture_output=True, text=True, cwd=Path(__file__).resolve().parents[1])
            if out.returncode != 0:
                print(out.stderr.strip().splitlines()[-1] if out.stderr.strip() else "child failed", file=sys.stderr)
                return 2
            runs.append(json.loads(out.stdout.strip().splitlines()[-1]))
    print(f"Numba warm-up of {args.config} on {Path(args.video).name} (NUMBA_CACHE_DIR "
          f"{'given' if args.cache_dir else 'fresh'})")
    print(f"{'run':<22} {'imports s':>9} {'models s':>9} {'frame 1 s':>9} {'again s':>9} {'warm-up s':>9}")
    for name, r in zip(("1 (compile)", "2 (cached)"), runs):
        print(f"{name:<22} {r['import_s']:>9.2f} {r['load_s']:>9.2f} {r['first_frame_s']:>9.2f} "
              f"{r['again_s']:>9.2f} {r['warmup_s']:>9.2f}")
    ok = runs[1]["warmup_s"] <= args.limit_s
    print(f"second-run warm-up {runs[1]['warmup_s']:.2f} s, limit {args.limit_s:.1f} s: {'OK' if ok else 'TOO SLOW'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

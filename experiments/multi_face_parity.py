"""Multi-face parity: our FaceLandmarkVidMulti on multi_face.avi against C++'s CSV.

    python -m experiments.multi_face_parity [--config fast] [--frames N] [--out DIR] [--csv OURS] [--against CSV]
                                            [--json OUT]

Runs :func:`aubench.pipeline.multi_face.run_multi_face` on ``media/multi_face.avi`` into
``--out`` (default ``out/multi_face``), or takes an existing CSV with ``--csv``, and prints
the table of :func:`aubench.harness.multi_face_parity.compare_multi` against the C++
reference (or against ``--against``: another run's CSV, e.g. one under another
``OPENBLAS_CORETYPE``, to measure our own spread).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from aubench.harness.multi_face_parity import compare_multi, format_table, reference_csv
from aubench.harness.paths import shared_dir
from aubench.pipeline import config as config_module
from aubench.pipeline.errors import AubenchError


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m experiments.multi_face_parity",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--config", default="fast", help="preset name or TOML file (default: fast)")
    parser.add_argument("--frames", type=int, default=None, help="only the first N frames (run and compare)")
    parser.add_argument("--out", type=Path, default=Path("out/multi_face"), help="output folder of the run")
    parser.add_argument("--csv", type=Path, default=None, help="compare this CSV instead of running")
    parser.add_argument("--against", type=Path, default=None, help="compare with this CSV (default: C++'s)")
    parser.add_argument("--json", type=Path, help="also write the figures to this JSON file")
    args = parser.parse_args(argv)
    try:
        ours = args.csv
        if ours is None:
            from aubench.pipeline.multi_face import run_multi_face

            t0 = time.perf_counter()
            result = run_multi_face(shared_dir() / "media" / "multi_face.avi", args.out,
                                    config_module.load_any(args.config), frames=args.frames, progress=False)
            print(result.summary())
            print(f"run: {time.perf_counter() - t0:.1f} s")
            ours = result.csv
        figures = compare_multi(ours, args.against or reference_csv(), frames=args.frames)
    except AubenchError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    print(format_table(figures))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(figures, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())

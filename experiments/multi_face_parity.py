"""Multi-face parity: our FaceLandmarkVidMulti on multi_face.avi against C++'s CSV.

    python -m experiments.multi_face_parity [--config fast] [--frames N] [--out DIR] [--csv OURS] [--against CSV]
                                            [--json OUT]

Runs :func:`aubench.pipeline.multi_face.run_multi_face` on ``media/multi_face.avi`` into
``--out`` (default ``out/multi_face``), or takes an existing CSV with ``--csv``, and prints
the table of :func:`aubench.harness.multi_face_parity.compare_multi` against the C++
reference (or against ``--against``: another run's CSV, e.g. one under another
``OPENBLAS_CORETYPE``, to measure our own spread).

Measured 2026-12-03 (AMD EPYC, AVX-512, 2 cores; fast preset; each run its own process with
``OPENBLAS_NUM_THREADS=1``), whole clip against the reference CSV. "C++" rows are FaceLandmarkVidMulti
built from the reference sources (that build reproduces the reference byte for byte with
``OPENBLAS_CORETYPE=Zen``) under other OpenBLAS kernels: C++'s own spread on this clip.

| run | rows only C++ / ours | frames, ids differ (first) | landmarks med / p95 / max px | success | AU MAE mean / max | AU occ. |
|---|---|---|---|---|---|---|
| ours, auto (SkylakeX) | 0 / 3 | 3 (496) | 0.0074 / 0.089 / 7.7 | 99.91 % | 0.0155 / 0.036 | 98.93 % |
| ours, Haswell (= Zen) | 8 / 27 | 28 (496) | 0.0074 / 0.099 / 365 | 99.48 % | 0.0188 / 0.039 | 98.69 % |
| ours, Sandybridge | 16 / 24 | 35 (401) | 0.0074 / 0.097 / 365 | 99.52 % | 0.0183 / 0.040 | 98.76 % |
| ours, reference preset (auto) | 15 / 19 | 21 (464) | 0.0074 / 0.110 / 137 | 99.00 % | 0.0188 / 0.039 | 98.70 % |
| C++, SkylakeX | 4 / 0 | 4 (476) | 0.0074 / 0.072 / 6.2 | 99.91 % | 0.0148 / 0.035 | 99.05 % |
| C++, Sandybridge | 17 / 16 | 20 (464) | 0.0074 / 0.081 / 136 | 99.43 % | 0.0162 / 0.037 | 98.91 % |

First 60 frames: all 180 rows matched in every run, success agreement 100 %, landmark median <= 0.006 px,
max <= 0.11 px. Every divergence starts on a small face whose tracking is failing (``p_scale`` near
the 0.25-0.30 limits of ``CLNF::Fit``): a validator verdict flips (ours, frame 492, face 3: C++ 0.02,
ours 0.98), the success resets the failure count, the slot is kept 3 frames longer, and a later
detection may go to another slot (a max of 365 px is such a swap).

Speed, same day, whole clip (702 frames, 2122 rows), ``taskset -c 1``, interleaved 3x with C++ (the
build above, ``OPENBLAS_CORETYPE=Zen``), medians, on a 2-core VM shared with other jobs (load ~4):
ours (fast preset) process wall 38.5 s, CPU 22.8 s, JIT 0.5 s (cache load; 34 s when compiling);
C++ process wall 77.2 s, CPU 39.7 s. Ours / C++: 0.50 wall, 0.57 CPU.
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

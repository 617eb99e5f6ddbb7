"""Parity and speed of the MTCNN detector against C++ OpenFace's detections, for every variant selection.

    python -m experiments.detect_parity [NAME ...] [--frames N] [--selection reference|fast ...] [--json PATH]
    python -m experiments.detect_parity --bench [--frames N]

NAME is a file of ``reference/detections/`` without ``.csv`` (default: all of them). Prints
each selection's matches, IoU and confidence figures and PASS/FAIL
(:func:`aubench.harness.detect_parity.parity`); exit 1 when a selection fails. ``--bench``
times the selections on default.wmv instead; single thread: ``OMP_NUM_THREADS=1
OPENBLAS_NUM_THREADS=1 NUMBA_NUM_THREADS=1 taskset -c 0 python -m experiments.detect_parity --bench``.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from aubench.harness.detect_parity import SELECTIONS, bench, parity
from aubench.harness.paths import shared_dir


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m experiments.detect_parity", description=__doc__.split("\n\n")[0])
    ap.add_argument("names", nargs="*", help="reference detection files (without .csv); default: all")
    ap.add_argument("--frames", type=int, default=60, help="frames per video (default 60: all the reference has)")
    ap.add_argument("--selection", action="append", choices=sorted(SELECTIONS), help="default: reference and fast")
    ap.add_argument("--bench", action="store_true", help="time the selections on default.wmv instead")
    ap.add_argument("--json", metavar="PATH", help="write the figures as JSON")
    args = ap.parse_args(argv)
    shared = shared_dir()
    selections = args.selection or ["reference", "fast"]
    if args.bench:
        doc = bench(selections, args.frames, shared)
    else:
        names = args.names or sorted(p.stem for p in (shared / "reference" / "detections").glob("*.csv"))
        doc = parity(names, selections, args.frames, shared)
        for sel, d in doc["selections"].items():
            t = d["total"]
            print(f"{sel}: {t['matched']}/{t['total']} matched, extra {t['extra']}, IoU min {t['iou_min']:.6f} "
                  f"median {t['iou_median']:.6f}, max |conf diff| {t['confidence_max_diff']:.2e}, "
                  f"{'PASS' if t['ok'] else 'FAIL'}")
            for f in t["failures"]:
                print("   ", f)
        if doc["fast_vs_reference_max_px"] is not None:
            print(f"fast vs reference boxes: max |diff| {doc['fast_vs_reference_max_px']:.4g} px")
    if args.json:
        Path(args.json).write_text(json.dumps(doc, indent=1, default=float))
    ok = args.bench or all(d["total"]["ok"] for d in doc["selections"].values())
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

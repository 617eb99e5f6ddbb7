"""AU-stage parity against C++ OpenFace, driven by the C++ landmarks of a reference clip.

    python -m experiments.au_parity CLIP [--frames N] [--hog-from-reference] [--raw-landmarks] [--config fast]
    python -m experiments.au_parity CLIP --roundtrip [--frames N]     # the floor of any CSV-driven check
    python -m experiments.au_parity --images [--hog-from-reference]   # static models on sample1-6
    python -m experiments.au_parity --online                          # default.wmv's C++ HOG and geometry replayed
    python -m experiments.au_parity --bench                           # medians and predictions, ms per frame

Each mode is one function of :mod:`aubench.harness.au_parity` (its docstring has the measured
figures). Single-thread timing for ``--bench``: ``OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1
taskset -c 0``. ``aubench parity CLIP --landmarks-from reference/CLIP/CLIP.csv`` is the
product's CSV-driven check of the whole AU stage (without these modes).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

from aubench.harness.au_parity import CLIPS, bench, clip_parity, image_parity, online_replay, roundtrip_floor
from aubench.pipeline import config as config_module
from aubench.pipeline import registry
from aubench.pipeline.errors import AubenchError


def _print_clip(result: dict) -> None:
    print(f"{result['clip']}: {result['frames']} frames ({result['successful']} successful) against C++, "
          f"hog_from_reference={result['hog_from_reference']}, AU stage {result['au_stage_ms_per_frame']:.2f} ms/frame "
          + " ".join(f"{k}={v:.2f}" for k, v in result["stage_ms_per_frame"].items()))
    print(f"{'AU':6} {'r':>8} {'MAE':>7} {'max':>6} {'occ agree':>10}")
    names = sorted({k[:-2] for k in result["au"]})
    for name in names:
        r = result["au"].get(f"{name}_r")
        c = result["au"].get(f"{name}_c")
        rs = f"{r['r']:8.4f} {r['mae']:7.4f} {r['max_abs']:6.2f}" if r else " " * 23
        cs = f"{100 * c['agreement']:9.2f}%" if c else ""
        print(f"{name:6} {rs} {cs}")
    rvals = [v["r"] for k, v in result["au"].items() if k.endswith("_r")]
    maes = [v["mae"] for k, v in result["au"].items() if k.endswith("_r")]
    agree = [v["agreement"] for k, v in result["au"].items() if k.endswith("_c")]
    print(f"min r {np.nanmin(rvals):.4f}, max MAE {max(maes):.4f}, min occurrence agreement {100 * min(agree):.2f}%")
    for key in ("hog", "aligned"):
        if key in result:
            print(key, json.dumps(result[key]))


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m experiments.au_parity", description=__doc__.split("\n\n")[0])
    p.add_argument("clip", nargs="?", help=f"reference clip ({', '.join(CLIPS)})")
    p.add_argument("--online", action="store_true", help="replay default.wmv's C++ HOG and geometry (trace/au)")
    p.add_argument("--images", action="store_true", help="static models on sample1-6 (CSV landmarks)")
    p.add_argument("--bench", action="store_true", help="time medians and predictions per variant")
    p.add_argument("--hog-from-reference", action="store_true", help="use the C++ .hog instead of align + FHOG")
    p.add_argument("--frames", type=int, default=None, help="only the first N frames")
    p.add_argument("--roundtrip", action="store_true",
                   help="the check's floor: our tracked run against its own replay through the CSV")
    p.add_argument("--raw-landmarks", action="store_true",
                   help="the CSV's 0.1-px landmarks as written (default: unrounded with the PDM and the p_* columns)")
    p.add_argument("--config", default="fast",
                   help="config preset or TOML whose [variants] to use (default: fast; reference for plain NumPy)")
    p.add_argument("--variant", action="append", default=[], metavar="KERNEL=VARIANT")
    p.add_argument("--json", type=Path, default=None, help="also write the figures to this file")
    args = p.parse_args(argv)
    try:
        selection = dict(config_module.load_any(args.config).variant_selection)
        for item in args.variant:
            k, _, v = item.partition("=")
            selection[k] = v
        registry.validate_selection(selection, "--variant")
        if args.bench:
            sels = [{}, {"au_predict": "stacked"}, {"running_median": "numba"},
                    {"au_predict": "stacked", "running_median": "numba"}]
            result = bench(sels)
            for row in result:
                print(json.dumps(row))
        elif args.images:
            result = image_parity(selection, hog_from_reference=args.hog_from_reference,
                                  unround=not args.raw_landmarks)
            print(json.dumps(result, indent=1))
        elif args.online:
            result = online_replay(selection)
            print(json.dumps(result, indent=1))
        elif args.clip:
            if args.roundtrip:
                result = roundtrip_floor(args.clip, args.config, frames=args.frames)
                print(json.dumps(result, indent=1))
            else:
                result = clip_parity(args.clip, selection, args.hog_from_reference, args.frames,
                                     unround=not args.raw_landmarks)
                _print_clip(result)
        else:
            p.error("give a CLIP, --online, --images or --bench")
        if args.json:
            args.json.write_text(json.dumps(result, indent=1))
    except AubenchError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())

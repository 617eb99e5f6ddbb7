"""Parity of the AU appearance features alone: face alignment and FHOG against C++ OpenFace.

    python -m experiments.au_features_parity [CLIP ...] [--frames N] [--fhog VARIANT] [--face-mask VARIANT]
        [--trace] [--json PATH]
    python -m experiments.au_features_parity --bench [--repeats 300]

Without CLIP: all three reference clips. Figures: :mod:`aubench.harness.au_features_parity`.
``--bench`` times the ``fhog`` and ``face_mask`` variants and the warp instead; single
thread: ``OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 NUMBA_NUM_THREADS=1 taskset -c 0``.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from aubench.harness.au_features_parity import CLIPS, bench, clip_parity, trace_parity
from aubench.pipeline import registry
from aubench.pipeline.errors import AubenchError
from aubench.pipeline.models import locate


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m experiments.au_features_parity",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("clips", nargs="*", default=list(CLIPS), help=f"reference clips (default: {' '.join(CLIPS)})")
    parser.add_argument("--frames", type=int, default=None, help="stop after this many frames per clip")
    parser.add_argument("--fhog", default="numba_tables", help="fhog variant (default numba_tables)")
    parser.add_argument("--face-mask", default="numba", help="face_mask variant (default numba)")
    parser.add_argument("--trace", action="store_true", help="also the exact-input checks of trace/")
    parser.add_argument("--json", type=Path, default=None, help="write the figures to this JSON file")
    parser.add_argument("--bench", action="store_true", help="time the fhog and face_mask variants instead")
    parser.add_argument("--repeats", type=int, default=300, help="timed calls per variant with --bench")
    args = parser.parse_args(argv)
    try:
        models = locate(None)
        if args.bench:
            timings = bench(models, args.repeats)
            for name, t in timings.items():
                print(f"{name:45s} median {t['median_ms']:8.4f} ms  p90 {t['p90_ms']:8.4f} ms  "
                      f"first call {t['first_call_ms']:9.1f} ms", flush=True)
            if args.json:
                args.json.write_text(json.dumps({"bench": timings}, indent=1))
            return 0
        kernels = registry.resolve({"fhog": args.fhog, "face_mask": args.face_mask}, where="command line")
        results = {"variants": kernels.selection, "clips": []}
        if args.trace:
            results["trace"] = trace_parity(models, kernels)
            print(json.dumps(results["trace"], indent=1), flush=True)
        for clip in args.clips:
            start = time.perf_counter()
            r = clip_parity(clip, models, kernels, args.frames)
            r["seconds"] = round(time.perf_counter() - start, 1)
            results["clips"].append(r)
            a, h = r["aligned_vs_cpp_bmp"], r["hog_vs_cpp"]
            print(f"{clip}: frames {r['frames']} (successful {r['successful']}); aligned MAD mean "
                  f"{a['mean_abs_diff'].get('mean', float('nan')):.4f} max {a['mean_abs_diff'].get('max', float('nan')):.4f} "
                  f"(max pixel diff {a['max_pixel_diff'].get('max', float('nan')):.0f}); HOG corr min "
                  f"{h['correlation'].get('min', float('nan')):.6f} median {h['correlation'].get('median', float('nan')):.6f} "
                  f"(>= 0.999 on {100 * h['share_correlation_at_least_0.999']:.0f}% of frames), "
                  f"max abs diff {h['max_abs_diff'].get('max', float('nan')):.4g}; FHOG(C++ BMP) vs .hog max "
                  f"{r['hog_of_cpp_bmp_vs_cpp_hog_max_abs_diff'].get('max', float('nan')):.3g}; "
                  f"failed-frame nonzero HOG values {r['failed_frames_nonzero_hog_values']}", flush=True)
        if args.json:
            args.json.write_text(json.dumps(results, indent=1))
    except AubenchError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())

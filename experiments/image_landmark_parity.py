"""Still-image landmark parity: our MTCNN + CLNF on sample*.jpg against C++ FaceLandmarkImg.

    python -m experiments.image_landmark_parity [--config fast] [--shared DIR] [--json OUT]

Prints each C++ face's mean landmark error against our nearest face and the median,
p95 and max over all of them (:func:`aubench.harness.image_landmark_parity.run`).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from aubench.harness.image_landmark_parity import run
from aubench.harness.paths import shared_dir
from aubench.pipeline import config as config_module
from aubench.pipeline.errors import AubenchError


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m experiments.image_landmark_parity",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--config", default="fast",
                        help="preset name or TOML file (default: fast; reference for the plain NumPy kernels)")
    parser.add_argument("--shared", type=Path, default=None,
                        help="the shared folder (media/ and reference/images/; default: AUBENCH_SHARED or ../shared)")
    parser.add_argument("--json", type=Path, help="also write the figures to this JSON file")
    args = parser.parse_args(argv)
    try:
        result = run(args.shared or shared_dir(), config_module.load_any(args.config))
    except AubenchError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    for row in result["per_face"]:
        print(f"{row['image']:<12} face {row['face']:>2}  {row['error_px']:.3f} px")
    print(f"{result['faces']} faces: median {result['median_px']:.3f} px, p95 {result['p95_px']:.3f}, "
          f"max {result['max_px']:.3f}")
    if args.json:
        args.json.write_text(json.dumps(result, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())

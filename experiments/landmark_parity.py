"""Landmark-stage parity against C++ OpenFace on a whole reference clip (issue 4's figures).

    python -m experiments.landmark_parity CLIP [--frames N] [--detector reference|mtcnn] [--config fast] [--json OUT]

Runs the landmark tracker alone on ``media/CLIP.*`` and prints every figure of
:func:`aubench.harness.landmark_parity.clip_parity` as JSON: landmark error, head pose,
gaze, success and confidence agreement, NU-RLMS updates per call, ms per frame.
``--detector reference`` (default) takes the C++ MTCNN boxes (frames 1-60), isolating
the CLNF/tracking path from the detector. ``aubench parity CLIP`` judges the whole
pipeline's CSV instead.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from aubench.harness.landmark_parity import clip_parity
from aubench.pipeline import config as config_module
from aubench.pipeline.errors import AubenchError


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m experiments.landmark_parity", description=__doc__.split("\n\n")[0])
    parser.add_argument("clip", help="reference clip name, e.g. default or 2015-10-15-15-14")
    parser.add_argument("--frames", type=int, help="only the first N frames")
    parser.add_argument("--detector", choices=("reference", "mtcnn"), default="reference",
                        help="C++'s MTCNN boxes (default; frames 1-60 only) or our MTCNN")
    parser.add_argument("--config", default="fast",
                        help="preset name or TOML file (default: fast; reference for the plain NumPy kernels)")
    parser.add_argument("--json", type=Path, help="also write the figures to this JSON file")
    args = parser.parse_args(argv)
    try:
        result = clip_parity(args.clip, args.frames, args.detector, config_module.load_any(args.config))
    except AubenchError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    text = json.dumps(result, indent=1)
    print(text)
    if args.json:
        args.json.write_text(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())

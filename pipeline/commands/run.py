"""``aubench run INPUT -o OUTDIR``: FeatureExtraction on a video, an image or a folder."""

from __future__ import annotations

from pathlib import Path

from pipeline.commands._common import add_config_arguments, load_config
from pipeline.errors import InputError


def register(sub) -> None:
    p = sub.add_parser("run", help="extract landmarks, pose, gaze and AUs into an OpenFace-format CSV")
    p.add_argument("input", help="video file, image, or folder of images")
    p.add_argument("-o", "--out-dir", required=True, help="output folder (OUTDIR/<input stem>.csv)")
    add_config_arguments(p)
    p.set_defaults(func=_run)


def _run(args) -> int:
    cfg = load_config(args)
    src = Path(args.input)
    if not src.exists():
        raise InputError(f"{src}: no such file or folder; give a video, an image or a folder of images")
    print(f"config {cfg.name}: no pipeline stages are implemented yet; nothing ran")
    return 0

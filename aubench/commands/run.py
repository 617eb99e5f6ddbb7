"""``aubench run INPUT -o OUTDIR``: FeatureExtraction on a video, an image or a folder."""

from __future__ import annotations

import sys
from pathlib import Path

from aubench.commands._common import add_config_arguments, load_config


def register(sub) -> None:
    p = sub.add_parser("run", help="extract landmarks, pose, gaze and AUs into an OpenFace-format CSV",
                       description="Writes OUTDIR/<input stem>.csv in OpenFace FeatureExtraction's format "
                                   "(plus <stem>.hog and <stem>_aligned/ when asked). Flags override the "
                                   "config file's [output] section.")
    p.add_argument("input", help="video file, image, folder of images, folder of videos, or a .txt list of "
                                 "videos (one path per line)")
    p.add_argument("-o", "--out-dir", required=True, help="output folder (OUTDIR/<input stem>.csv)")
    add_config_arguments(p)
    p.add_argument("--landmarks-from", metavar="CSV",
                   help="replay landmarks, success, pose and gaze from this OpenFace CSV instead of tracking "
                        "(runs the AU stage alone)")
    p.add_argument("--raw-landmarks", action="store_true",
                   help="with --landmarks-from: give the AU stage the CSV's 0.1-px landmarks as written, instead of "
                        "the PDM shape that explains them and the CSV's PDM parameters (closer to C++'s)")
    p.add_argument("--hogalign", action="store_true", default=None,
                   help="also write OUTDIR/<stem>.hog (FHOG of each aligned face; OpenFace's -hogalign)")
    p.add_argument("--simalign", action="store_true", default=None,
                   help="also write OUTDIR/<stem>_aligned/ (aligned faces; OpenFace's -simalign)")
    p.add_argument("--frames", type=int, metavar="N", help="process only the first N frames")
    p.add_argument("--quiet", action="store_true", help="no progress on stderr")
    p.add_argument("--workers", type=int, metavar="N",
                   help="processes for a folder or list of videos (0 = all cores; default: config "
                        "[runtime] workers); each loads the models once and runs whole videos")
    p.set_defaults(func=_run)


def _run(args) -> int:
    # The config first: a bad --config is reported before anything else is looked at.
    cfg = load_config(args, output={"hogalign": args.hogalign, "simalign": args.simalign})
    src = Path(args.input)
    from aubench.pipeline.batch import plan_inputs, run_many

    videos = plan_inputs(src, args.landmarks_from)
    if videos is not None:
        workers = cfg.runtime.workers if args.workers is None else args.workers
        batch = run_many(videos, Path(args.out_dir), cfg, workers=workers, frames=args.frames,
                         models_dir=args.models, progress=not args.quiet)
        print(batch.summary())
        return 1 if batch.failed else 3 if batch.damaged else 0  # 3: all written, some inputs damaged (as below)
    from aubench.pipeline.extract import run

    result = run(src, Path(args.out_dir), cfg, frames=args.frames, landmarks_from=args.landmarks_from,
                 unround_landmarks=not args.raw_landmarks, progress=not args.quiet, models_dir=args.models)
    print(result.summary())
    if result.input_notice:
        # Exit 3: the CSV is written and usable, but the input was truncated or damaged; a batch script
        # finds such files by the code (0 = clean, 1 = failures, 2 = nothing usable).
        print(f"aubench run: {result.input_notice}", file=sys.stderr)
        return 3
    return 0

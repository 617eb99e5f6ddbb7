"""``aubench run INPUT... -o OUTDIR``: OpenFace's three executables behind one command.

Videos go through FeatureExtraction (``--multi-face``: FaceLandmarkVidMulti), photos and folders of
photos through FaceLandmarkImg, a folder given with ``--sequence`` (or OpenFace's ``-fdir``) is one
video of its images (:mod:`aubench.pipeline.inputs`). OpenFace's single-dash flags are taken here
too (:mod:`aubench.commands.openface`).
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path

from aubench.commands._common import add_config_arguments, load_config
from aubench.pipeline.errors import ConfigError, InputError


def register(sub) -> None:
    p = sub.add_parser("run", help="extract landmarks, pose, gaze and AUs into OpenFace-format CSVs",
                       description="Videos: OUTDIR/<stem>.csv in OpenFace FeatureExtraction's format (with "
                                   "--multi-face, FaceLandmarkVidMulti's: up to 4 faces per frame). Images and "
                                   "folders of images: OUTDIR/<stem>.csv per image in FaceLandmarkImg's format, "
                                   "every face. OpenFace's flags (-2Dfp -aus -au_static -fx ... -fdir -of, see the "
                                   "README) are accepted as well; flags override the config file's sections.",
                       allow_abbrev=False)
    p.add_argument("input", nargs="*", type=Path,
                   help="videos, images, folders of videos or of images, or .txt lists of them (one path per line)")
    p.add_argument("-o", "--out-dir", type=Path, help="output folder (OUTDIR/<input stem>.csv); OpenFace: -out_dir")
    add_config_arguments(p)
    p.add_argument("--multi-face", action="store_true",
                   help="videos as FaceLandmarkVidMulti does them: up to 4 tracked faces, static AU models")
    p.add_argument("--sequence", action="store_true",
                   help="a folder of images is one video (FeatureExtraction's -fdir), not separate photos")
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
    p.add_argument("--tracked", action="store_true", default=None,
                   help="also write the annotated video OUTDIR/<stem>.avi (an image: <stem>.jpg) with landmarks, "
                        "gaze, head-pose box and AU bars (OpenFace's -tracked)")
    p.add_argument("--frames", type=int, metavar="N", help="process only the first N frames of each video")
    p.add_argument("--quiet", action="store_true", help="no progress on stderr")
    p.add_argument("--pipeline", action="store_true", default=None,
                   help="one video on two cores: decoding and the AU stage/writing on threads beside the tracker; "
                        "the same output as one core (config [runtime] pipeline)")
    p.add_argument("--workers", type=int, metavar="N",
                   help="processes for several videos (0 = all cores; default: config [runtime] workers); each "
                        "loads the models once and runs whole videos")
    p.add_argument("--engine", choices=("local", "dask"), default="local",
                   help="several videos: a process pool here (local), or Dask distributed (dask: a LocalCluster, "
                        "or --scheduler's cluster); needs pip install 'aubench[cluster]'")
    p.add_argument("--scheduler", metavar="ADDRESS", help="with --engine dask: the cluster's scheduler (tcp://HOST:PORT)")
    p.add_argument("--resume", action="store_true",
                   help="skip videos whose complete outputs in OUTDIR came from the same input and config")
    p.add_argument("--table", type=Path, metavar="OUT.parquet",
                   help="also gather every video's CSV into one Parquet file with a source column")
    p.set_defaults(func=_run, openface=[])


@dataclass
class RunRequest:
    """What to run, whichever command line said it."""

    inputs: list[Path]
    out_dir: Path
    sequence_inputs: list[Path] = field(default_factory=list)  # -fdir of FeatureExtraction / FaceLandmarkVidMulti
    out_name: str | None = None  # -of
    multi_face: bool = False
    sequence_dirs: bool = False
    images_only: bool = False
    video_only: bool = False
    frames: int | None = None
    landmarks_from: str | None = None
    raw_landmarks: bool = False
    workers: int | None = None
    quiet: bool = False
    program: str = "run"


def _run(args) -> int:
    from aubench.commands.openface import config_sections, notice_ignored, parse_openface_args

    of = parse_openface_args(args.openface, "FeatureExtraction")
    notice_ignored(of, "run")
    out_dir = args.out_dir or of.out_dir
    if out_dir is None:
        raise ConfigError("no output folder: give -o OUTDIR (OpenFace: -out_dir OUTDIR)")
    if not args.input and not of.files and not of.dirs:
        raise ConfigError("no input: give a video, an image or a folder (OpenFace: -f FILE, -fdir FOLDER)")
    sections = config_sections(of, everything_by_default=False)
    for key in ("hogalign", "simalign", "tracked"):
        if getattr(args, key):
            sections.setdefault("output", {})[key] = True
    if args.pipeline:
        sections.setdefault("runtime", {})["pipeline"] = True
    request = RunRequest(inputs=[*args.input, *of.files], sequence_inputs=list(of.dirs), out_dir=out_dir,
                         out_name=of.out_name, multi_face=args.multi_face, sequence_dirs=args.sequence,
                         video_only=args.multi_face, frames=args.frames, landmarks_from=args.landmarks_from,
                         raw_landmarks=args.raw_landmarks, workers=args.workers, quiet=args.quiet)
    return execute(request, args, sections)


def _plan(req: RunRequest):
    from aubench.pipeline import inputs as inputs_mod

    where = f"aubench {req.program}"
    plan = inputs_mod.plan_run(req.inputs, sequence_dirs=req.sequence_dirs, images_only=req.images_only,
                               video_only=req.video_only, program=where) if req.inputs else inputs_mod.InputPlan()
    if req.sequence_inputs:
        extra = inputs_mod.plan_run(req.sequence_inputs, sequence_dirs=True, video_only=True, program=where)
        plan.videos += extra.videos
        plan.sequences += extra.sequences
        plan.batch |= extra.batch
        inputs_mod._check_names(plan)
    if req.landmarks_from is not None:
        inputs_mod.plan_run(plan.tracked + plan.images, landmarks_from=req.landmarks_from, program=where)
    return plan


def execute(req: RunRequest, args, sections: dict) -> int:
    """Run ``req`` with the config of ``args`` (``--config``, ``--variant``) and ``sections``' overrides.

    Exit code: 0 all written, 1 an input failed, 3 all written but an input was damaged or truncated.
    """
    # The config first: a bad --config is reported before anything else is looked at.
    cfg = load_config(args, **sections)
    plan = _plan(req)
    if req.frames is not None and req.frames < 1:
        raise InputError(f"--frames {req.frames}: expected a positive number of frames; give --frames 1 or more")
    if req.out_name is not None and len(plan) != 1:
        raise ConfigError(f"-of {req.out_name}: names the output of one input, but {len(plan)} were given; drop -of "
                          "(each input is named after itself) or run the inputs one at a time")
    out_dir = Path(req.out_dir)
    out_name = None
    if req.out_name is not None:  # RecorderOpenFace: -of's folder part joins -out_dir; its stem names the outputs
        of_path = Path(req.out_name)
        out_dir = out_dir / of_path.parent
        out_name = of_path.with_suffix("").name
    progress = not req.quiet
    failed = damaged = False
    if plan.images:
        from aubench.pipeline.images import run_images

        kwargs = {"out_name": out_name} if out_name else {}
        result = run_images(plan.images, out_dir, cfg, progress=progress, models_dir=args.models, **kwargs)
        if len(plan) == 1 and result.failed:  # the one input given cannot be used: an error, as for a video
            raise InputError(result.failed[0].error)
        print(result.summary())
        if not progress:  # with progress on, run_images said these as they came
            for o in result.images:
                for line in (o.notice, o.error):
                    if line:
                        print(f"aubench {req.program}: {line if line.startswith(str(o.path)) else f'{o.path}: {line}'}",
                              file=sys.stderr)
        failed |= bool(result.failed)
    tracked = plan.tracked
    if tracked and req.multi_face:
        from aubench.pipeline.multi_face import run_multi_face

        for video in tracked:
            kwargs = {"out_name": out_name} if out_name else {}
            try:
                result = run_multi_face(video, out_dir, cfg, frames=req.frames, progress=progress,
                                        models_dir=args.models, **kwargs)
            except InputError as exc:
                if len(tracked) == 1:
                    raise
                print(f"aubench {req.program}: {video}: FAILED: {exc}", file=sys.stderr)
                failed = True
                continue
            print(result.summary())
            if result.input_notice:
                print(f"aubench {req.program}: {result.input_notice}", file=sys.stderr)
                damaged = True
    elif len(tracked) > 1 or plan.batch:
        from aubench.pipeline.batch import run_many

        workers = cfg.runtime.workers if req.workers is None else req.workers
        batch = run_many(tracked, out_dir, cfg, workers=workers, frames=req.frames, models_dir=args.models,
                         progress=progress, engine=getattr(args, "engine", "local"),
                         scheduler=getattr(args, "scheduler", None), resume=getattr(args, "resume", False),
                         table=getattr(args, "table", None))
        print(batch.summary())
        failed |= bool(batch.failed)
        damaged |= bool(batch.damaged)
    elif tracked:
        from aubench.pipeline.extract import run

        kwargs = {"out_name": out_name} if out_name else {}
        result = run(tracked[0], out_dir, cfg, frames=req.frames, landmarks_from=req.landmarks_from,
                     unround_landmarks=not req.raw_landmarks, progress=progress, models_dir=args.models, **kwargs)
        print(result.summary())
        if result.input_notice:
            # Exit 3: the CSV is written and usable, but the input was truncated or damaged; a batch script
            # finds such files by the code (0 = clean, 1 = failures, 2 = nothing usable).
            print(f"aubench {req.program}: {result.input_notice}", file=sys.stderr)
            damaged = True
    return 1 if failed else 3 if damaged else 0

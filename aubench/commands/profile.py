"""``aubench profile INPUT --config FILE -o RESULTS.json``: the per-stage profile of a run."""

from __future__ import annotations

from pathlib import Path

from aubench.commands._common import add_config_arguments, add_quiet_argument, load_config


def add_workload_arguments(p, frames_help: str = "process only the first N frames") -> None:
    p.add_argument("--frames", type=int, metavar="N", help=frames_help)
    p.add_argument("--landmarks-from", metavar="CSV",
                   help="take landmarks and success from an OpenFace CSV instead of fitting them (AU stage alone)")


def register(sub) -> None:
    p = sub.add_parser("profile", help="per-stage time table and convergence statistics of a run (result JSON)",
                       description="Runs the pipeline once with its stage timers and prints where the time goes "
                                   "(ms/frame median per stage, sub-stages nested) and the landmark fit's "
                                   "convergence statistics; saves everything as a result JSON.")
    p.add_argument("input", help="video file, image, or folder of images")
    add_config_arguments(p)
    add_workload_arguments(p)
    p.add_argument("-o", "--output", metavar="RESULTS.json", help="result file to write")
    p.add_argument("--out-dir", metavar="DIR", help="keep the run's CSV and outputs here (default: a temporary folder)")
    p.add_argument("--runs", type=int, default=3, metavar="N",
                   help="with --config cpp:BUILD (C++ OpenFace): whole runs to time after one warm-up (default 3)")
    p.add_argument("--cprofile", metavar="OUT.prof", help="also write a cProfile of the run (open with snakeviz)")
    p.add_argument("--line", metavar="KERNEL", help="line-profile the selected variant of this kernel")
    p.add_argument("--pyspy", metavar="OUT.svg|OUT.json",
                   help="instead, record this profile run with py-spy (flame graph .svg or speedscope .json)")
    add_quiet_argument(p)
    p.set_defaults(func=_run)


def _run(args) -> int:
    from aubench.harness import profile, results, whole_run, workload

    if whole_run.is_cpp(args.config):  # C++ OpenFace: whole runs (it has no stage timers to read)
        arm = whole_run.parse_arm(args.config)
        doc = whole_run.profile_arm(arm, Path(args.input), runs=args.runs, frames=args.frames, progress=not args.quiet)
        print(whole_run.format_profile(doc))
        if args.output:
            results.save(doc, args.output)
            print(f"result written to {args.output}")
        return 0
    cfg = load_config(args)
    if args.pyspy:
        print(profile.run_pyspy(_forward_argv(args), Path(args.pyspy)), end="")
        print(f"py-spy profile written to {args.pyspy}")
        return 0
    wl = workload.Workload(Path(args.input), cfg, args.frames,
                           Path(args.landmarks_from) if args.landmarks_from else None)
    doc = profile.run_profile(wl, out_dir=Path(args.out_dir) if args.out_dir else None,
                              cprofile=Path(args.cprofile) if args.cprofile else None, line=args.line,
                              progress=False if args.quiet else None)
    print(f"profile of {cfg.name} (config {doc['config']['hash']}) on {Path(args.input).name}")
    print(workload.format_stage_table(doc["timing"]))
    print()
    print(workload.format_counters(doc["timing"]))
    if doc.get("line_profile", {}).get("text"):
        print()
        print(doc["line_profile"]["text"])
    if args.cprofile:
        print(f"cProfile written to {args.cprofile} (snakeviz {args.cprofile})")
    if args.output:
        results.save(doc, args.output)
        print(f"result written to {args.output}")
    return 0


def _forward_argv(args) -> list[str]:
    """The same profile command without --pyspy, for py-spy to record in a subprocess."""
    argv = ["profile", args.input]
    if args.config:
        argv += ["--config", args.config]
    for v in args.variant:
        argv += ["--variant", v]
    if args.models:
        argv += ["--models", args.models]
    if args.frames is not None:
        argv += ["--frames", str(args.frames)]
    if args.landmarks_from:
        argv += ["--landmarks-from", args.landmarks_from]
    if args.output:
        argv += ["-o", args.output]
    if args.quiet:
        argv += ["--quiet"]
    return argv

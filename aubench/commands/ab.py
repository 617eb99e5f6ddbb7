"""``aubench ab A.toml B.toml INPUT``: interleaved A/B speed comparison with parity beside it."""

from __future__ import annotations

from pathlib import Path

from aubench.commands._common import add_quiet_argument
from aubench.commands.profile import add_workload_arguments


def register(sub) -> None:
    p = sub.add_parser("ab", help="is config B faster than A? interleaved runs, bootstrap CI, parity of both",
                       description="Runs A B A B ... in one job after one warm-up run of each, takes the per-pair "
                                   "ratio of ms/frame, and calls B faster or slower only when the bootstrap "
                                   "interval excludes 1 AND the median ratio is beyond the minimum effect.")
    p.add_argument("config_a", metavar="A", help="baseline: TOML file or preset name, or cpp:PATH (C++ OpenFace's "
                                                 "FeatureExtraction, built by ../shared/tools/build_openface_cpp.sh)")
    p.add_argument("config_b", metavar="B", help="candidate: TOML file, preset name or cpp:PATH")
    p.add_argument("input", help="video file, image, or folder of images")
    p.add_argument("--pairs", type=int, default=5, metavar="N", help="measured A/B pairs (default 5)")
    add_workload_arguments(p)
    p.add_argument("--min-effect", type=float, default=0.05, metavar="F",
                   help="smallest relative change called faster/slower (default 0.05 = 5%%)")
    p.add_argument("--reference", metavar="CSV", help="C++ CSV for the parity of both arms (default: the shared one)")
    p.add_argument("--whole-runs", action="store_true",
                   help="time whole runs in fresh processes pinned to one core (start-up included, as a user runs "
                        "them); implied when an arm is cpp:PATH")
    p.add_argument("--cpp-blas", default="auto", metavar="CORETYPE",
                   help="OPENBLAS_CORETYPE for a C++ arm (default auto: OpenBLAS's own choice, as a user gets it)")
    p.add_argument("-o", "--output", metavar="RESULTS.json", help="result file to write")
    add_quiet_argument(p)
    p.set_defaults(func=_run)


def _run(args) -> int:
    from aubench.harness import ab, results
    from aubench.pipeline import config as config_mod
    from aubench.pipeline.errors import ConfigError

    if args.pairs < 1:
        raise ConfigError(f"--pairs {args.pairs}: expected at least 1 (3 or more for a verdict)")
    from aubench.harness import whole_run

    if args.whole_runs or whole_run.is_cpp(args.config_a) or whole_run.is_cpp(args.config_b):
        if args.landmarks_from:
            raise ConfigError("--landmarks-from: whole runs compare what a user runs; drop it or compare in-process")
        arm_a = whole_run.parse_arm(args.config_a, cpp_blas=args.cpp_blas)
        arm_b = whole_run.parse_arm(args.config_b, cpp_blas=args.cpp_blas)
        doc = whole_run.run_whole_ab(arm_a, arm_b, Path(args.input), pairs=args.pairs, frames=args.frames,
                                     reference=Path(args.reference) if args.reference else None,
                                     min_effect=args.min_effect, progress=not args.quiet)
        print(f"A/B on {Path(args.input).name}, whole runs pinned to core {doc['ab']['core']}: A = {arm_a.label}, "
              f"B = {arm_b.label}")
        print(whole_run.format_whole_ab(doc))
        if args.output:
            results.save(doc, args.output)
            print(f"result written to {args.output}")
        return 0
    a, b = config_mod.load_any(args.config_a), config_mod.load_any(args.config_b)
    doc = ab.run_ab(a, b, Path(args.input), pairs=args.pairs, frames=args.frames,
                    landmarks_from=Path(args.landmarks_from) if args.landmarks_from else None,
                    reference=Path(args.reference) if args.reference else None, min_effect=args.min_effect,
                    progress=not args.quiet)
    print(f"A/B on {Path(args.input).name}: A = {a.name} ({doc['config_a']['hash']}), "
          f"B = {b.name} ({doc['config_b']['hash']})")
    print(ab.format_ab(doc))
    if args.output:
        results.save(doc, args.output)
        print(f"result written to {args.output}")
    return 0

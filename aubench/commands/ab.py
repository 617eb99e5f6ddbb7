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
    p.add_argument("config_a", metavar="A", help="baseline config: TOML file or preset name")
    p.add_argument("config_b", metavar="B", help="candidate config: TOML file or preset name")
    p.add_argument("input", help="video file, image, or folder of images")
    p.add_argument("--pairs", type=int, default=5, metavar="N", help="measured A/B pairs (default 5)")
    add_workload_arguments(p)
    p.add_argument("--min-effect", type=float, default=0.05, metavar="F",
                   help="smallest relative change called faster/slower (default 0.05 = 5%%)")
    p.add_argument("--reference", metavar="CSV", help="C++ CSV for the parity of both arms (default: the shared one)")
    p.add_argument("-o", "--output", metavar="RESULTS.json", help="result file to write")
    add_quiet_argument(p)
    p.set_defaults(func=_run)


def _run(args) -> int:
    from aubench.harness import ab, results
    from aubench.pipeline import config as config_mod
    from aubench.pipeline.errors import ConfigError

    if args.pairs < 1:
        raise ConfigError(f"--pairs {args.pairs}: expected at least 1 (3 or more for a verdict)")
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

"""``aubench gate --baseline reports/baseline.json``: the CI speed and parity gate."""

from __future__ import annotations

from pathlib import Path

from pipeline.commands.profile import add_workload_arguments


def register(sub) -> None:
    p = sub.add_parser("gate", help="fail (exit 1) on a speed regression or a parity drop against the baseline",
                       description="Measures the candidate workload and a fixed calibration workload in the same "
                                   "job, compares the normalised time with the baseline's (same config and "
                                   "workload only; otherwise 'not comparable'), and checks every parity figure.")
    p.add_argument("--baseline", required=True, metavar="JSON", help="baseline file (reports/baseline.json)")
    p.add_argument("--candidate", metavar="CONFIG",
                   help="config to gate: TOML file or preset name (default: the baseline entry's)")
    p.add_argument("--input", metavar="CLIP", help="clip to run (default: the baseline entry's)")
    add_workload_arguments(p, "process only the first N frames (default: the baseline entry's)")
    p.add_argument("--reference", metavar="CSV", help="C++ CSV for parity (default: the baseline entry's)")
    p.add_argument("--max-ratio", type=float, metavar="R",
                   help="largest allowed normalised slowdown (default: the baseline's max_ratio, 1.25)")
    p.add_argument("--repeats", type=int, default=3, metavar="N", help="measured runs (default 3)")
    p.add_argument("--update", action="store_true", help="record this measurement as the baseline entry")
    p.add_argument("-o", "--output", metavar="RESULTS.json", help="result file to write")
    p.set_defaults(func=_run)


def _run(args) -> int:
    from experiments.harness import gate, results
    from pipeline import config as config_mod

    doc = gate.run_gate(Path(args.baseline),
                        candidate=config_mod.load_any(args.candidate) if args.candidate else None,
                        input_path=Path(args.input) if args.input else None, frames=args.frames,
                        landmarks_from=Path(args.landmarks_from) if args.landmarks_from else None,
                        reference=Path(args.reference) if args.reference else None,
                        max_ratio=args.max_ratio, repeats=args.repeats, update=args.update)
    print(gate.format_gate(doc))
    if args.output:
        results.save(doc, args.output)
        print(f"result written to {args.output}")
    return gate.exit_code(doc)

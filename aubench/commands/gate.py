"""``aubench gate``: the CI gate on speed, instructions and parity, baseline measured in the same job."""

from __future__ import annotations

from pathlib import Path


def _frames_pair(text: str) -> tuple[int, int]:
    import argparse

    try:
        a, b = (int(x) for x in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected two frame counts like 4,16, got {text!r}") from None
    return a, b


def register(sub) -> None:
    p = sub.add_parser(
        "gate", help="fail (exit 1) when the working tree is slower, costs more instructions or drifts from C++",
        description="Runs a baseline git revision and the working tree side by side on this machine: interleaved "
                    "whole runs (CPU time ratio with a 95%% CI), instruction counts under valgrind (per tracked "
                    "frame and start-up), and parity against C++ OpenFace judged by C++'s own cross-CPU spread. "
                    "Limits and the pinned baseline revision: reports/gate.toml. README: 'How parity and the gate "
                    "are judged'.")
    p.add_argument("--baseline-rev", metavar="REV",
                   help="baseline revision (default: merge base with main, or baseline_rev of reports/gate.toml on main)")
    p.add_argument("--candidate-rev", metavar="REV", help="gate this revision instead of the working tree")
    p.add_argument("--config", metavar="CONFIG", help="preset or TOML both arms run (default: fast)")
    p.add_argument("--input", metavar="CLIP", help="clip (default: ../shared/media/default.wmv)")
    p.add_argument("--frames", type=int, metavar="N", help="timed runs process only N frames (default: whole clip)")
    p.add_argument("--pairs", type=int, metavar="N", help="interleaved timed pairs (default 5)")
    p.add_argument("--ir-frames", type=_frames_pair, metavar="A,B",
                   help="frame counts of the two valgrind runs per arm (default 4,16)")
    p.add_argument("--no-instructions", action="store_true", help="skip the valgrind instruction counts")
    p.add_argument("--spread", metavar="CSV",
                   help="C++ CSV of the clip from another CPU (default: ../shared/reference/cpu_spread/<clip>.csv)")
    p.add_argument("--max-time-ratio", type=float, metavar="R", help="largest allowed significant time ratio (1.10)")
    p.add_argument("--max-ir-increase", type=float, metavar="F",
                   help="largest allowed per-frame instruction increase, as a fraction (0.01)")
    p.add_argument("--inject-work", metavar="KERNEL:N",
                   help="self-test: the candidate computes every N-th call of KERNEL twice (added work, same output)")
    p.add_argument("--state-dir", metavar="DIR",
                   help="where exported revisions and their caches are kept (default: AUBENCH_CACHE_DIR/gate)")
    p.add_argument("-o", "--output", metavar="RESULTS.json", help="result file to write")
    p.add_argument("--quiet", action="store_true", help="no progress on stderr")
    p.set_defaults(func=_run)


def _run(args) -> int:
    from aubench.harness import gate, results

    doc = gate.run_gate(baseline_rev=args.baseline_rev, candidate_rev=args.candidate_rev, config=args.config,
                        input_path=Path(args.input) if args.input else None, frames=args.frames, pairs=args.pairs,
                        ir_frames=args.ir_frames, instructions=not args.no_instructions,
                        spread=Path(args.spread) if args.spread else None, inject_work=args.inject_work,
                        max_time_ratio=args.max_time_ratio, max_ir_increase=args.max_ir_increase,
                        state=Path(args.state_dir) if args.state_dir else None, progress=not args.quiet)
    print(gate.format_gate(doc))
    if args.output:
        results.save(doc, args.output)
        print(f"result written to {args.output}")
    return gate.exit_code(doc)

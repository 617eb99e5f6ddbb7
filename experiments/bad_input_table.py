"""Run the bad-input corpus and write experiments/bad_input.md: what aubench does with each bad input
beside what C++ OpenFace 2.2 does (the reference README's "C++ on bad input").

    python -m experiments.bad_input_table [--out experiments/bad_input.md]

The cases are tests/bad_input_corpus.py's (the same ones tests/test_bad_input_corpus.py asserts), so a
rerun after a change shows the new behaviour. Takes about half a minute on a 2-core VM.
"""

from __future__ import annotations

import argparse
import datetime
import re
import tempfile
from pathlib import Path

from tests.bad_input_corpus import CASES, Case, Outcome, problems, run_case

HERE = Path(__file__).resolve().parent


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _written(outcome: Outcome, tmp: Path) -> str:
    if not outcome.csvs:
        return "nothing"
    import pandas as pd

    parts = []
    for path in outcome.csvs:
        table = pd.read_csv(path, skipinitialspace=True)
        success = f", success {int(table['success'].sum())}/{len(table)}" if "success" in table.columns else ""
        parts.append(f"{path.relative_to(tmp / 'out')} ({len(table)} row{'s' * (len(table) != 1)}{success})")
    return "; ".join(parts)


def row(case: Case, outcome: Outcome, tmp: Path) -> str:
    # scratch paths and FFmpeg's context pointers differ from run to run: keep the table stable
    line = re.sub(r"0x[0-9a-f]+", "0x...", outcome.aubench_line.replace(str(tmp) + "/", ""))
    found = problems(case, outcome)
    verdict = "as designed" if not found else "**not as designed**: " + "; ".join(found)
    if case.xfail:
        verdict += f" (known gap, strict xfail: {case.xfail})"
    aubench = f"exit {outcome.rc}: `` {line} ``" if line else f"exit {outcome.rc}, nothing on stderr"
    return (f"| {_cell(case.name)} | {_cell(case.what)} | {_cell(aubench)} | {_cell(_written(outcome, tmp))} | "
            f"{_cell(verdict)} | {_cell(case.cpp)} |")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=HERE / "bad_input.md")
    args = parser.parse_args(argv)
    rows = []
    with tempfile.TemporaryDirectory(prefix="aubench-bad-input-") as root:
        for i, case in enumerate(CASES):
            tmp = Path(root) / f"case{i:02d}"
            rows.append(row(case, run_case(case, tmp), tmp))
            print(f"[{i + 1}/{len(CASES)}] {case.name}", flush=True)
    today = datetime.date.today().isoformat()
    text = "\n".join([
        "# aubench and C++ OpenFace on bad input",
        "",
        f"Generated {today} by `python -m experiments.bad_input_table` from the corpus in "
        "`tests/bad_input_corpus.py` (asserted by `tests/test_bad_input_corpus.py`); rerun it after a change.",
        "`aubench run` runs with `--quiet` (so a successful run prints nothing) and, for videos, `--frames 3` "
        "unless the case says otherwise; the message column is the last stderr line (aubench's, or library "
        "noise where aubench prints nothing), with the scratch folder removed from paths. C++ OpenFace 2.2's "
        "behaviour is from `reference/README.md`, \"C++ on bad input\" (FeatureExtraction / FaceLandmarkImg, "
        "measured 2026-11-24); \"not measured\" where it has no entry.",
        "",
        "Exit codes: 0 only when what is written is right; 2 for a bad input, config or model (one line on "
        "stderr, nothing written); 3 when the CSV of the frames decoded is written but the input was damaged "
        "or truncated (one notice line). README, \"Using aubench\".",
        "",
        "| case | input | aubench: exit and message | aubench writes | verdict | C++ OpenFace 2.2 |",
        "|---|---|---|---|---|---|",
        *rows,
        "",
    ])
    args.out.write_text(text)
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

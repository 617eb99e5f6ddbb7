from __future__ import annotations

from pathlib import Path

from experiments import bad_input_table
from tests.bad_input_corpus import CASES, Outcome


def test_a_row_names_the_exit_the_message_and_the_gap(tmp_path):
    case = next(c for c in CASES if c.name == "truncated video, read to its end")
    out = tmp_path / "out"
    out.mkdir()
    csv = out / "short.csv"
    csv.write_text("frame,success\n1,1\n2,1\n")
    row = bad_input_table.row(case, Outcome(0, f"[wmv2 @ 0x55aa] Error at MB: 1 in {tmp_path}/short.wmv\n", [csv]),
                              tmp_path)
    assert row.startswith(f"| {case.name} |")
    assert "0x..." in row and str(tmp_path) not in row
    assert "short.csv (2 rows, success 2/2)" in row
    # exit 0 where the design says 3 (damaged input): the row says so, beside what C++ does
    assert "not as designed" in row and "exit 0, designed 3" in row and case.cpp in row
    assert ("known gap" in row) == bool(case.xfail)


def test_an_error_row_keeps_backticks_of_the_message_readable(tmp_path):
    case = next(c for c in CASES if c.name == "truncated PDM")
    line = ("aubench run: error: pdms/In-the-wild_aligned_PDM_68.txt: expected 6936 values; "
            "re-fetch the models with `aubench models fetch`")
    row = bad_input_table.row(case, Outcome(2, line + "\n", []), Path(tmp_path))
    assert f"`` {line} ``" in row and "| nothing |" in row and "| as designed |" in row

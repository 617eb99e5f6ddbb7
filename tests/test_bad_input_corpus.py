"""The bad-input corpus (issue 15): every case gives its designed exit code, no traceback, aubench's one
line last on stderr, and either no CSV or a CSV of whole rows. Cases: tests/bad_input_corpus.py; the
table they feed: experiments/bad_input.md (``python -m experiments.bad_input_table``)."""

from __future__ import annotations

import pytest

from tests.bad_input_corpus import CASES, FACE_IMAGE, MODELS, VIDEO, Case, run_case

pytestmark = [
    pytest.mark.slow,  # ~26 subprocesses, a few of them load the models: ~30 s on a 2-core VM
    pytest.mark.skipif(not (VIDEO.is_file() and FACE_IMAGE.is_file() and (MODELS / "model").is_dir()),
                       reason="needs the shared media and OpenFace models (AUBENCH_SHARED, AUBENCH_MODELS)"),
]


def _param(case: Case):
    marks = [pytest.mark.xfail(strict=True, reason=case.xfail)] if case.xfail else []
    return pytest.param(case, id=case.name, marks=marks)


@pytest.mark.parametrize("case", [_param(c) for c in CASES])
def test_bad_input(tmp_path, case: Case):
    import pandas as pd

    outcome = run_case(case, tmp_path)
    assert "Traceback" not in outcome.stderr, outcome.stderr[-2000:]
    assert outcome.rc == case.rc, outcome.stderr[-2000:]
    # library noise lines may precede it (another item of issue 15); aubench's own line comes last
    ours = [ln for ln in outcome.stderr.splitlines() if ln.startswith("aubench ")]
    if case.rc != 0:
        assert len(ours) == 1 and outcome.aubench_line == ours[0], outcome.stderr[-2000:]
        assert ours[0].startswith(f"aubench {case.command}: error: ")
    if case.message:
        assert case.message in (outcome.aubench_line if case.rc else outcome.stderr), outcome.stderr[-2000:]
    if case.csv_rows is None:
        assert outcome.csvs == [], outcome.csvs
        return
    assert len(outcome.csvs) == 1, outcome.csvs
    table = pd.read_csv(outcome.csvs[0], skipinitialspace=True)
    assert len(table) == case.csv_rows
    assert "frame" in table.columns and not table["frame"].isna().any()
    assert not table.iloc[-1].isna().all()  # the last row is whole, not a cut-off line
    if case.command == "run" and case.name in {"1x1 image", "image with no face"}:
        assert (table["success"] == 0).all()  # a row saying "no face", not made-up landmarks

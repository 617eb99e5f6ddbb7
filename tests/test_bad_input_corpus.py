"""The bad-input corpus (issue 15): every case gives its designed exit code, no traceback, aubench's one
line last on stderr, and either no CSV or a CSV of whole rows. Cases: tests/bad_input_corpus.py; the
table they feed: experiments/bad_input.md (``python -m experiments.bad_input_table``)."""

from __future__ import annotations

import pytest

from tests.bad_input_corpus import CASES, FACE_IMAGE, MODELS, VIDEO, Case, problems, run_case

pytestmark = [
    pytest.mark.slow,  # 28 subprocesses, most of them load the models: ~45 s on a 2-core VM
    pytest.mark.skipif(not (VIDEO.is_file() and FACE_IMAGE.is_file() and (MODELS / "model").is_dir()),
                       reason="needs the shared media and OpenFace models (AUBENCH_SHARED, AUBENCH_MODELS)"),
]


def _param(case: Case):
    marks = [pytest.mark.xfail(strict=True, reason=case.xfail)] if case.xfail else []
    return pytest.param(case, id=case.name, marks=marks)


@pytest.mark.parametrize("case", [_param(c) for c in CASES])
def test_bad_input(tmp_path, case: Case):
    outcome = run_case(case, tmp_path)
    assert problems(case, outcome) == [], outcome.stderr[-2000:]

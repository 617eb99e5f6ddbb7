"""The NU-RLMS solve probe: every way of solving C++'s own normal equations stays ~1e-6 from C++'s update."""

from __future__ import annotations

import re

from experiments import hessian_probe


def test_probe_reports_three_solves_close_to_but_not_equal_to_cpp(capsys):
    hessian_probe.main()
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 3
    for line in lines:
        worst = float(re.search(r"max rel err ([0-9.e+-]+)", line).group(1))
        assert 1e-8 < worst < 1e-4, line
        assert line.endswith("exact 0.00")

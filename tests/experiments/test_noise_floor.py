"""experiments.noise_floor: the perturbation it applies and a short run end to end."""

from __future__ import annotations

import json

import numpy as np
import pytest

from experiments import noise_floor
from tests.conftest import MEDIA


def _fixed_kernel(*_args):
    g = np.array([1.25, 0.01, -0.02, 0.03, 320.5, 240.25], np.float32)
    loc = np.linspace(-3, 3, 34).astype(np.float32)
    return g, loc, 5, False, None, None


@pytest.mark.parametrize("rel", [1e-6, 1e-3])
def test_perturbation_is_relative_reproducible_and_keeps_dtypes(rel):
    g0, loc0, *_ = _fixed_kernel()
    a = noise_floor.perturbed(_fixed_kernel, rel, seed=3)
    b = noise_floor.perturbed(_fixed_kernel, rel, seed=3)
    c = noise_floor.perturbed(_fixed_kernel, rel, seed=4)
    ga, la, updates, converged, _, _ = a()
    gb, lb, *_ = b()
    gc, lc, *_ = c()
    assert ga.dtype == np.float32 and la.dtype == np.float32 and (updates, converged) == (5, False)
    np.testing.assert_array_equal(ga, gb)
    np.testing.assert_array_equal(la, lb)
    assert not np.array_equal(la, lc)
    rel_change = np.abs(np.concatenate([ga / g0, la[loc0 != 0] / loc0[loc0 != 0]]) - 1)
    # standard normal draws: within 6 sigma (plus float32 rounding), and not all zero
    assert rel_change.max() <= 6 * rel + 1e-7
    assert rel_change.max() > 0
    # successive calls draw new noise
    ga2, *_ = a()
    assert not np.array_equal(ga, ga2)


def test_perturbation_of_zero_is_zero():
    def zeros(*_args):
        return np.zeros(6, np.float32), np.zeros(3, np.float32), 1, True, None, None

    g, loc, *_ = noise_floor.perturbed(zeros, 1e-2, seed=0)()
    assert not g.any() and not loc.any()


@pytest.mark.slow
def test_short_run_writes_figures_and_plot(tmp_path, capsys):
    out = tmp_path / "nf"
    rc = noise_floor.main([str(MEDIA / "default.wmv"), "--config", "fast", "--seeds", "1", "--frames", "6",
                           "-o", str(out)])
    assert rc == 0
    doc = json.loads((out / "noise_floor.json").read_text())
    assert doc["seeds"] == 1 and len(doc["self"]) == 1 and len(doc["vs_reference"]) == 1
    assert set(doc["self"][0]) == set(doc["unperturbed_vs_reference"]) and "AU12" in doc["self"][0]
    assert (out / "noise_floor.png").stat().st_size > 10_000
    assert (out / "unperturbed" / "default.csv").is_file() and (out / "seed0" / "default.csv").is_file()
    assert "AU12" in capsys.readouterr().out


def test_clip_without_reference_is_a_one_line_error(tmp_path, capsys):
    clip = tmp_path / "nothing_like_it.avi"
    clip.write_bytes(b"")
    assert noise_floor.main([str(clip), "--seeds", "1", "-o", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert "no C++ reference CSV" in err and err.count("\n") == 1


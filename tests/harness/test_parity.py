from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from aubench import cli
from aubench.harness import parity
from aubench.pipeline.config import ParityThresholds
from aubench.pipeline.errors import InputError

from ..conftest import MEDIA, REFERENCE

REF_CSV = REFERENCE / "default" / "default.csv"
REF_DET = REFERENCE / "detections" / "default.csv"


def _perturbed(tmp_path: Path, change, rows: int | None = 60, name: str = "default.csv") -> Path:
    """A copy of the reference CSV (first ``rows`` frames) with ``change(columns_dict)`` applied."""
    ref = parity.read_openface_csv(REF_CSV)
    names = list(ref.columns)
    data = np.stack([ref.columns[n] for n in names], axis=1)[:rows]
    cols = {n: data[:, i] for i, n in enumerate(names)}
    change(cols)
    out = tmp_path / name
    with out.open("w") as fh:
        fh.write(",".join(names) + "\n")
        for row in np.stack([cols[n] for n in names], axis=1):
            fh.write(",".join(f"{v:.6f}" for v in row) + "\n")
    return out


def _failed(figures) -> dict[str, float]:
    return {c.name: c.value for c in parity.checks(figures, ParityThresholds()) if not c.passed}


@pytest.mark.slow
def test_reference_against_itself_passes_every_check():
    figures = parity.compare(REF_CSV, REF_CSV)
    rows = parity.checks(figures, ParityThresholds())
    assert rows and all(c.passed for c in rows), parity.format_checks(rows)
    names = {c.name for c in rows}
    # every stage the issues name is checked, including HOG and aligned faces found beside the CSV
    for needle in ("landmark error median (px)", "rotation error median (deg)", "gaze error median (deg)",
                   "success agreement", "HOG correlation min", "aligned face mean abs diff (grey levels)",
                   "AU01 r", "AU01 MAE", "AU28 agreement"):
        assert needle in names
    assert figures["frames"]["compared"] == 288
    assert len(figures["series"]["landmark_error_px"]) == 288


def test_landmark_shift_fails_with_the_right_figure(tmp_path):
    def shift(c):
        for i in range(68):
            c[f"x_{i}"] = c[f"x_{i}"] + 3.0
            c[f"y_{i}"] = c[f"y_{i}"] + 4.0

    figures = parity.compare(_perturbed(tmp_path, shift), REF_CSV)
    assert figures["landmarks"]["error_median_px"] == pytest.approx(5.0, abs=1e-6)
    assert figures["frames"]["compared"] == 60
    failed = _failed(figures)
    assert failed == {"landmark error median (px)": pytest.approx(5.0), "landmark error p95 (px)": pytest.approx(5.0)}


@pytest.mark.slow
def test_unrounded_landmark_error_sees_through_the_rounding(tmp_path):
    """Equal records give 0; landmarks moved off their own PDM parameters are kept as recorded, so a
    (3, 4) px shift still reads 5 px; a shift inside the rounding step reads as that shift, not as 0."""
    same = parity.compare(REF_CSV, REF_CSV)["landmarks"]
    assert same["unrounded_error_median_px"] == 0.0 and same["unrounded_error_p95_px"] == 0.0

    def shift(c):
        for i in range(68):
            c[f"x_{i}"] = c[f"x_{i}"] + 3.0
            c[f"y_{i}"] = c[f"y_{i}"] + 4.0

    far = parity.compare(_perturbed(tmp_path, shift), REF_CSV)["landmarks"]
    assert far["unrounded_error_median_px"] == pytest.approx(5.0, abs=0.05)



def _face_csv(tmp_path: Path, name: str, params_local_change) -> tuple[Path, np.ndarray]:
    """The reference CSV's first 40 rows rewritten from exact PDM shapes (their own 2D, 3D and
    parameter records, rounded as OpenFace writes them); returns the CSV and the exact landmarks."""
    from aubench.pipeline.landmarks.pdm import calc_shape_2d
    from aubench.pipeline.landmarks.pose import camera_intrinsics, get_shape_3d
    from aubench.pipeline.landmarks.recorded import landmark_pdm

    pdm, camera = landmark_pdm(), camera_intrinsics(640, 480)
    exact = []

    def rewrite(c):
        for r in range(len(c["frame"])):
            g = np.array([c[k][r] for k in ("p_scale", "p_rx", "p_ry", "p_rz", "p_tx", "p_ty")], np.float32)
            loc = np.array([c[f"p_{i}"][r] for i in range(pdm.n_modes)], np.float32) + params_local_change(r)
            lm = calc_shape_2d(pdm, g, loc)
            pts = get_shape_3d(pdm, g, loc, lm, camera)
            exact.append(lm)
            for i in range(68):
                c[f"x_{i}"][r], c[f"y_{i}"][r] = np.round(lm[i], 1)
                c[f"X_{i}"][r], c[f"Y_{i}"][r], c[f"Z_{i}"][r] = np.round(pts[i], 1)
            for i in range(pdm.n_modes):
                c[f"p_{i}"][r] = np.round(loc[i], 3)

    return _perturbed(tmp_path, rewrite, rows=40, name=name), np.stack(exact)


def test_unrounded_landmark_error_measures_small_differences_under_the_rounding(tmp_path):
    """Two fits ~0.01 px apart, each written to 0.1 px: the unrounded shapes read the true
    difference more closely than the rounded columns do (0 or 0.1 px per coordinate)."""
    rng = np.random.default_rng(1)
    wiggle = rng.normal(0, 0.02, (40, 34)).astype(np.float32)
    a_csv, a = _face_csv(tmp_path, "a.csv", lambda r: 0.0)
    b_csv, b = _face_csv(tmp_path, "b.csv", lambda r: wiggle[r])
    true = np.median(np.linalg.norm(a - b, axis=2).mean(axis=1))
    lm = parity.compare(b_csv, a_csv)["landmarks"]
    assert 0.005 < true < 0.03
    assert abs(lm["unrounded_error_median_px"] - true) < 0.3 * true
    assert abs(lm["unrounded_error_median_px"] - true) < abs(lm["error_median_px"] - true)


def test_au_offset_and_flipped_occurrence_fail_per_au(tmp_path):
    def change(c):
        c["AU12_r"] = c["AU12_r"] + 0.2
        c["AU45_c"] = 1.0 - c["AU45_c"]

    figures = parity.compare(_perturbed(tmp_path, change), REF_CSV)
    assert figures["au"]["intensity"]["AU12"]["mae"] == pytest.approx(0.2, abs=1e-6)
    assert figures["au"]["intensity"]["AU12"]["r"] == pytest.approx(1.0)
    assert figures["au"]["occurrence"]["AU45"]["agreement"] == 0.0
    assert set(_failed(figures)) == {"AU12 MAE", "AU45 agreement"}


def test_rotation_gaze_and_success_errors(tmp_path):
    def change(c):
        c["pose_Ry"] = c["pose_Ry"] + math.radians(2.0)
        c["success"][:6] = 0.0

    figures = parity.compare(_perturbed(tmp_path, change), REF_CSV)
    assert figures["pose"]["rotation_error_median_deg"] == pytest.approx(2.0, abs=0.01)
    assert figures["success_agreement"] == pytest.approx(0.9)
    assert figures["frames"]["both_successful"] == 54
    assert set(_failed(figures)) == {"rotation error median (deg)", "success agreement"}


@pytest.mark.slow
def test_frames_are_matched_on_the_frame_column(tmp_path):
    ours = _perturbed(tmp_path, lambda c: None, rows=None)
    lines = ours.read_text().splitlines()
    ours.write_text("\n".join([lines[0]] + lines[:0:-1]) + "\n")  # rows in reverse order
    figures = parity.compare(ours, REF_CSV)
    assert figures["landmarks"]["error_max_px"] == pytest.approx(0.0, abs=1e-5)


@pytest.mark.slow
def test_hog_reader_reads_the_reference_and_correlation_drops_with_noise(tmp_path):
    good, hog = parity.read_hog(REF_CSV.with_suffix(".hog"))
    assert hog.shape == (288, 4464) and hog.dtype == np.float32 and set(np.unique(good)) <= {0.0, 1.0}
    ours = _perturbed(tmp_path, lambda c: None, rows=None)
    noisy = hog + np.random.default_rng(0).normal(0, 0.05, hog.shape).astype(np.float32)
    raw = bytearray()
    for g, h in zip(good, noisy):
        raw += np.array([12, 12, 31], "<i4").tobytes() + np.float32(g).tobytes() + h.astype("<f4").tobytes()
    ours.with_suffix(".hog").write_bytes(bytes(raw))
    figures = parity.compare(ours, REF_CSV)
    assert figures["hog"]["correlation_min"] < 0.999
    assert "HOG correlation min" in _failed(figures)
    (tmp_path / "bad.hog").write_bytes(b"\0" * 7)
    with pytest.raises(InputError, match="truncated"):
        parity.read_hog(tmp_path / "bad.hog")


def test_detections_self_match_and_shifted_boxes_fail(tmp_path):
    same = parity.compare_detections(REF_DET, REF_DET)
    assert same["matched"] == same["reference_detections"] == 60 and same["iou_min"] == pytest.approx(1.0)
    lines = REF_DET.read_text().splitlines()
    shifted = [lines[0]]
    for line in lines[1:]:
        cells = line.split(",")
        cells[2] = str(float(cells[2]) + 15.0)
        shifted.append(",".join(cells))
    ours = tmp_path / "det.csv"
    ours.write_text("\n".join(shifted) + "\n")
    figures = {"detection": parity.compare_detections(ours, REF_DET)}
    assert figures["detection"]["iou_median"] < 0.95
    assert "detection IoU min" in _failed(figures)


def test_unreadable_csv_is_one_line_error(tmp_path):
    bad = tmp_path / "x.csv"
    bad.write_text("hello,world\n1,2\n")
    with pytest.raises(InputError, match="expected an OpenFace CSV header"):
        parity.read_openface_csv(bad)
    bad.write_text("frame,face_id\n1,zz\n")
    with pytest.raises(InputError, match="unreadable numbers"):
        parity.read_openface_csv(bad)


@settings(max_examples=40, deadline=None)
@given(arrays(np.float64, (5, 3), elements=st.floats(-1.5, 1.5)))
def test_rotation_error_is_zero_for_equal_angles_and_symmetric(angles):
    assert np.allclose(parity.rotation_error_deg(angles, angles), 0.0, atol=1e-4)
    other = angles[::-1]
    assert np.allclose(parity.rotation_error_deg(angles, other), parity.rotation_error_deg(other, angles), atol=1e-6)


@settings(max_examples=40, deadline=None)
@given(arrays(np.float64, (4, 4), elements=st.floats(1.0, 100.0)))
def test_iou_is_symmetric_and_one_on_itself(boxes):
    assert np.allclose(parity.iou(boxes, boxes), 1.0)
    other = boxes[::-1]
    assert np.allclose(parity.iou(boxes, other), parity.iou(other, boxes))
    assert np.all((parity.iou(boxes, other) >= 0) & (parity.iou(boxes, other) <= 1 + 1e-12))


# --------------------------------------------------------------------------- CLI

@pytest.mark.slow
def test_parity_command_passes_on_itself_and_fails_on_a_perturbed_csv(tmp_path, capsys):
    assert cli.main(["parity", str(MEDIA / "default.wmv"), "--ours", str(REF_CSV), "--reference", str(REF_CSV),
                     "--detections", str(REF_DET), "--our-detections", str(REF_DET),
                     "-o", str(tmp_path / "p.json")]) == 0
    out = capsys.readouterr().out
    assert "detection IoU min" in out and "FAIL" not in out
    assert (tmp_path / "p.json").is_file()

    def shift(c):
        for i in range(68):
            c[f"x_{i}"] = c[f"x_{i}"] + 0.5

    ours = _perturbed(tmp_path, shift)
    assert cli.main(["parity", str(MEDIA / "default.wmv"), "--ours", str(ours), "--reference", str(REF_CSV)]) == 1
    out = capsys.readouterr().out
    line = next(ln for ln in out.splitlines() if ln.startswith("landmark error median"))
    assert "0.5" in line and line.endswith("FAIL")


def test_parity_command_runs_the_pipeline_when_not_given_ours(tmp_path, capsys, monkeypatch):
    from ._fake_pipeline import install

    install(monkeypatch)
    out_json = tmp_path / "p.json"
    assert cli.main(["parity", str(MEDIA / "default.wmv"), "--frames", "12", "-o", str(out_json)]) == 0
    from aubench.harness import results

    doc = results.load(out_json)
    assert doc["parity"]["passed"] and doc["parity"]["figures"]["frames"]["compared"] == 12
    assert doc["timing"]["frames"] == 12


@pytest.mark.slow
def test_near_constant_reference_gets_a_note_only_when_its_r_fails(tmp_path):
    """AU06 of default.wmv is 0 in most C++ frames: a small disturbance of its few non-zero frames
    fails r and earns the note; the reference against itself does not."""
    figures = parity.compare(REF_CSV, REF_CSV)
    share = figures["au"]["intensity"]["AU06"]["reference_zero_share"]
    rows = parity.checks(figures, ParityThresholds())
    assert parity.near_constant_notes(figures, rows) == []

    def disturb(c):
        v = c["AU06_r"]
        nonzero = np.flatnonzero(v > 0)
        v[nonzero[::2]] = 0.0  # half the non-zero frames drop to 0
        c["AU06_r"] = v

    figures = parity.compare(_perturbed(tmp_path, disturb, rows=None), REF_CSV)
    rows = parity.checks(figures, ParityThresholds())
    notes = parity.near_constant_notes(figures, rows)
    assert share >= parity.NEAR_CONSTANT_ZERO_SHARE  # 82 % of default.wmv's frames
    assert "AU06 r" in _failed(figures)
    assert len(notes) == 1 and notes[0].startswith("note: AU06 is 0 in 82% of the reference's frames")
    # an AU that moves (AU04: never 0 in C++) gets no note whatever its r
    def shift_au04(c):
        c["AU04_r"] = c["AU04_r"][::-1].copy()

    figures = parity.compare(_perturbed(tmp_path, shift_au04, rows=None, name="au04.csv"), REF_CSV)
    rows = parity.checks(figures, ParityThresholds())
    assert "AU04 r" in _failed(figures) and parity.near_constant_notes(figures, rows) == []


# --------------------------------------------------------------------------- the spread rule (--spread)

SPREAD_CSV = REFERENCE / "cpu_spread" / "default.csv"


def _drifted_copy(src, dst, au_offset: float = 0.0, x_shift: float = 0.0):
    """``src`` with every AU12_r raised by ``au_offset`` and every x_i moved by ``x_shift`` px."""
    import csv as csv_mod

    with open(src, newline="") as fh:
        rows = list(csv_mod.reader(fh))
    head = rows[0]
    cols = {name: i for i, name in enumerate(head)}
    for row in rows[1:]:
        row[cols["AU12_r"]] = f"{float(row[cols['AU12_r']]) + au_offset:.2f}"
        for i in range(68):
            row[cols[f"x_{i}"]] = f"{float(row[cols[f'x_{i}']]) + x_shift:.1f}"
    with open(dst, "w", newline="") as fh:
        csv_mod.writer(fh, lineterminator="\n").writerows(rows)
    return dst


@pytest.mark.slow
def test_spread_rule_passes_cpp_against_itself_and_shows_both_figures():
    section = parity.parity_section(SPREAD_CSV, REF_CSV, ParityThresholds(), series=False, spread_csv=SPREAD_CSV)
    assert section["passed"]
    rows = [parity.Check(**c) for c in section["checks"]]
    judged = [c for c in rows if c.spread is not None]
    # every CSV figure is judged by the rule (HOG/aligned are absent: the spread run wrote none)
    assert {c.name for c in judged} == {c.name for c in rows}
    assert any(c.name == "AU12 agreement" for c in judged) and any(c.name.startswith("landmark") for c in judged)
    text = parity.format_checks(rows)
    assert "C++ spread" in text and "C++ r" in text and text.splitlines()[-1].endswith("checks pass")
    assert section["spread"]["rule"]["factor"] == ParityThresholds().spread_factor


@pytest.mark.slow
def test_spread_rule_catches_a_drift_the_spread_does_not_have(tmp_path):
    drifted = _drifted_copy(SPREAD_CSV, tmp_path / "default.csv", au_offset=0.3, x_shift=0.5)
    section = parity.parity_section(drifted, REF_CSV, ParityThresholds(), series=False, spread_csv=SPREAD_CSV)
    failed = {c["name"] for c in section["checks"] if not c["passed"]}
    assert {"AU12 MAE", "landmark error median (px)", "landmark error p95 (px)"} <= failed
    assert "AU12 r" not in failed  # an offset keeps r: MAE is the figure that catches it


@given(spread=st.floats(0.0, 1.0), ours=st.floats(0.0, 1.0))
def test_spread_threshold_properties(spread, ours):
    t = ParityThresholds()
    for name, op in (("AU01 r", ">="), ("AU01 agreement", ">="), ("success agreement", ">=")):
        bound = parity.spread_threshold(name, op, spread, t)
        assert bound <= spread  # never stricter than C++'s own figure
        # no farther from the reference than C++ is: always passes
        assert parity._check(name, spread, bound, op).passed
        if ours < spread:
            assert parity.spread_threshold(name, op, ours, t) <= bound  # a wider spread allows more
    for name in ("landmark error median (px)", "AU01 MAE", "gaze error median (deg)"):
        bound = parity.spread_threshold(name, "<=", spread, t)
        assert bound >= spread and parity._check(name, spread, bound, "<=").passed


def test_an_approximate_config_is_judged_by_its_own_thresholds_not_the_spread():
    """realtime states its approximation in [parity] (judge_by_spread = false): a --spread CSV does not replace
    those thresholds, while an exact config is judged by the spread; the key leaves exact configs' hashes alone."""
    from aubench.pipeline.config import config_hash, load_any, to_dict
    from tests.conftest import REFERENCE

    clip = "2015-10-15-15-14"
    ref = REFERENCE / clip / f"{clip}.csv"
    spread = REFERENCE / "cpu_spread" / f"{clip}.csv"
    realtime, fast = load_any("realtime"), load_any("fast")
    assert realtime.parity.judge_by_spread is False and fast.parity.judge_by_spread is True
    approx = parity.parity_section(spread, ref, realtime.parity, series=False, spread_csv=spread)
    exact = parity.parity_section(spread, ref, fast.parity, series=False, spread_csv=spread)
    assert "spread" not in approx and "spread" in exact
    bounds = {c["name"]: c["threshold"] for c in approx["checks"]}
    assert bounds["landmark error median (px)"] == 0.5
    assert "judge_by_spread" not in to_dict(fast)["parity"] and "judge_by_spread" in to_dict(realtime)["parity"]
    import dataclasses

    relaxed = dataclasses.replace(fast, parity=dataclasses.replace(fast.parity, judge_by_spread=False))
    assert config_hash(relaxed) != config_hash(fast)

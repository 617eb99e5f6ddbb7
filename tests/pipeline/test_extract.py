"""The run loop on real media: replayed landmarks, stage protocols, outputs, interruption, progress."""

from __future__ import annotations

import io
import subprocess
import sys
from dataclasses import dataclass

import numpy as np
import pytest

import aubench
from aubench.pipeline import extract
from aubench.pipeline.config import Config, OutputParameters, config_hash, with_overrides
from aubench.pipeline.errors import InputError
from aubench.pipeline.io.csv_out import CsvSchema
from aubench.pipeline.io.hog_file import read_hog
from aubench.pipeline.io.openface_csv import read_openface_csv
from aubench.pipeline.timing import StageTimer
from tests.conftest import MEDIA, REFERENCE

VIDEO = MEDIA / "default.wmv"
REF_CSV = REFERENCE / "default" / "default.csv"
N_AU_COLUMNS = 35


@dataclass
class FakeResult:
    aligned_bgr: np.ndarray
    hog: np.ndarray
    au_intensity: dict
    au_occurrence: dict


@dataclass
class FakePost:
    intensity: dict
    occurrence: dict


class FakeAnalyser:
    """An Analyser with the protocol's interface: AU01 = frame's mean landmark x / 1000."""

    intensity_names = ("AU01", "AU02")
    occurrence_names = ("AU01", "AU45")

    def __init__(self):
        self.calls = []

    def add_next_frame(self, bgr, landmarks68, success, timestamp, timer=None):
        self.calls.append((bgr.shape, np.asarray(landmarks68).shape, success, timestamp))
        v = float(np.mean(landmarks68[:, 0])) / 1000.0
        return FakeResult(np.full((112, 112, 3), len(self.calls), np.uint8), np.full((12, 12, 31), v, np.float32),
                          {"AU01": v, "AU02": 0.0}, {"AU01": 1.0, "AU45": 0.0})

    def postprocess(self, intensity, occurrence, successes):
        assert len(successes) == len(self.calls)
        return FakePost({k: np.asarray(v) + 1.0 for k, v in intensity.items()},
                        {k: np.asarray(v) for k, v in occurrence.items()})


def _cells(line):
    return line.rstrip("\n").split(",")


def test_replay_reproduces_the_reference_columns(tmp_path):
    """--landmarks-from: every non-AU column equals the C++ CSV's; the AU stage runs and post-processes."""
    timer = StageTimer()
    res = extract.run(VIDEO, tmp_path, Config(), timer, frames=12, landmarks_from=REF_CSV, progress=False)
    assert res.csv == tmp_path / "default.csv" and res.frames == 12 and timer.frames == 12
    ours = res.csv.read_text().splitlines()
    ref = REF_CSV.read_text().splitlines()
    assert ours[0] == ref[0]
    for a, b in zip(ours[1:], ref[1:13]):
        assert _cells(a)[:-N_AU_COLUMNS] == _cells(b)[:-N_AU_COLUMNS]
    assert res.stages_ran == ["landmarks (replayed from default.csv, unrounded)", "pose (replayed)", "gaze (replayed)",
                              "au"]
    assert res.postprocessed
    table = read_openface_csv(res.csv)
    intensity, occurrence = table.au_intensity(), table.au_occurrence()
    assert len(intensity) == 17 and len(occurrence) == 18
    # the offline step's values: intensities clipped to [0, 5], occurrences 0/1, every cell rewritten with 2 decimals
    assert all(((v >= 0) & (v <= 5)).all() for v in intensity.values())
    assert all(np.isin(v, (0.0, 1.0)).all() for v in occurrence.values())
    rows = [_cells(line)[-N_AU_COLUMNS:] for line in ours[1:]]
    assert all(len(c.split(".")[1]) == 2 for row in rows for c in row)
    # On C++'s own landmarks the AU stage follows C++: AU04 (a static model, ~0.7 here: no person calibration to
    # differ over 12 frames instead of 288) is within 0.01 of the C++ CSV on frames 1-11 (frame 12 is smoothed
    # with a clip end that C++ did not have), and the occurrence calls agree on 215 of 216 cells (measured).
    ref_table = read_openface_csv(REF_CSV)
    assert np.abs(intensity["AU04"][:11] - ref_table.au_intensity()["AU04"][:11]).max() <= 0.01 + 1e-9
    ref_occurrence = ref_table.au_occurrence()
    agree = np.mean([(occurrence[au] == ref_occurrence[au][:12]).mean() for au in occurrence])
    assert agree >= 0.95
    stages = timer.per_frame()
    assert {"decode", "landmarks", "write"} <= set(stages) and len(stages["write"]) == 12


def test_analyser_protocol_outputs_and_postprocessing(tmp_path):
    cfg = with_overrides(Config(), output={"hogalign": True, "simalign": True})
    fake = FakeAnalyser()
    timer = StageTimer()
    res = extract.run(VIDEO, tmp_path, cfg, timer, frames=8, landmarks_from=REF_CSV, progress=False, analyser=fake)
    assert len(fake.calls) == 8 and fake.calls[0][:3] == ((480, 640, 3), (68, 2), True)
    assert fake.calls[1][3] == pytest.approx(1 / 15)
    table = read_openface_csv(res.csv)
    assert table.names[-4:] == ["AU01_r", "AU02_r", "AU01_c", "AU45_c"]
    ref = read_openface_csv(REF_CSV)
    expected = np.round(ref.landmarks_2d()[:8, :, 0].mean(axis=1) / 1000.0 + 1.0, 2)
    assert np.allclose(table.column("AU01_r"), expected, atol=0.005 + 1e-9)  # post-processed (+1), 2 dp
    assert _cells(res.csv.read_text().splitlines()[1])[-1] == "0.00"
    hog = read_hog(res.hog)
    assert len(hog) == 8 and hog.good.all()
    files = sorted(p.name for p in res.aligned_dir.iterdir())
    assert files[0] == "frame_det_00_000001.bmp" and len(files) == 8
    assert "au" in timer.per_frame()


class ExplodingTracker(extract.ReplayTracker):
    def __init__(self, after, exc):
        super().__init__(REF_CSV)
        self.after, self.exc, self.n = after, exc, 0

    def track(self, bgr, gray, timer=None):
        self.n += 1
        if self.n > self.after:
            raise self.exc
        return super().track(bgr, gray)


@pytest.mark.parametrize("exc", [KeyboardInterrupt(), RuntimeError("stage bug")])
def test_interrupted_run_leaves_valid_outputs(tmp_path, exc):
    cfg = with_overrides(Config(), output={"hogalign": True})
    with pytest.raises(type(exc)):
        extract.run(VIDEO, tmp_path, cfg, frames=20, tracker=ExplodingTracker(5, exc), analyser=FakeAnalyser(),
                    progress=False)
    table = read_openface_csv(tmp_path / "default.csv")
    assert table.frame.tolist() == [1, 2, 3, 4, 5]
    assert len(read_hog(tmp_path / "default.hog")) == 5


def test_progress_bar_goes_to_the_stream_and_quiet_writes_nothing(tmp_path):
    stream = io.StringIO()
    extract.run(VIDEO, tmp_path, Config(), frames=3, landmarks_from=REF_CSV, analyser=FakeAnalyser(),
                progress_stream=stream)
    text = stream.getvalue()
    assert "aubench run default.wmv" in text and "3/3" in text and "frame" in text
    stream = io.StringIO()
    extract.run(VIDEO, tmp_path, Config(), frames=2, landmarks_from=REF_CSV, analyser=FakeAnalyser(),
                progress=False, progress_stream=stream)
    assert stream.getvalue() == ""


def test_schema_follows_output_flags(tmp_path):
    cfg = with_overrides(Config(), output={"gaze": False, "landmarks_3d": False})
    res = extract.run(VIDEO, tmp_path, cfg, frames=2, landmarks_from=REF_CSV, analyser=FakeAnalyser(), progress=False)
    header = res.csv.read_text().splitlines()[0]
    expected = CsvSchema.from_output(OutputParameters(gaze=False, landmarks_3d=False),
                                     au_intensity=("AU01", "AU02"), au_occurrence=("AU01", "AU45")).header()
    assert header + "\n" == expected


def test_replay_errors(tmp_path):
    short = tmp_path / "short.csv"
    short.write_text("\n".join(REF_CSV.read_text().splitlines()[:3]) + "\n")
    with pytest.raises(InputError, match="no row for frame 3") as err:
        extract.run(VIDEO, tmp_path / "o", Config(), frames=5, landmarks_from=short, analyser=FakeAnalyser(),
                    progress=False)
    assert str(short) in str(err.value)
    assert len(read_openface_csv(tmp_path / "o" / "default.csv")) == 2
    with pytest.raises(InputError, match="--frames"):
        extract.run(VIDEO, tmp_path, Config(), frames=0)
    with pytest.raises(InputError, match="no such file"):
        extract.run(tmp_path / "none.avi", tmp_path, Config())


def test_image_input_with_replayed_image_csv(tmp_path):
    res = extract.run(MEDIA / "sample1.jpg", tmp_path, Config(),
                      landmarks_from=REFERENCE / "images" / "sample1.csv", analyser=FakeAnalyser(), progress=False)
    table = read_openface_csv(res.csv)
    ref = read_openface_csv(REFERENCE / "images" / "sample1.csv")
    assert len(table) == 1 and table.timestamp[0] == 0 and table.success[0]
    assert np.array_equal(table.landmarks_2d(), ref.landmarks_2d())


def _cli(*args):
    return subprocess.run([sys.executable, "-m", "aubench.cli", "run", *map(str, args)], capture_output=True, text=True)


@pytest.mark.slow
def test_cli_run_with_landmarks_from(tmp_path):
    proc = _cli(VIDEO, "-o", tmp_path, "--landmarks-from", REF_CSV, "--frames", "3", "--hogalign", "--quiet",
                "--variant", "running_median=reference")
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
    assert f"wrote {tmp_path / 'default.csv'} (3 frames" in proc.stdout
    assert "stages run: landmarks (replayed from default.csv, unrounded)" in proc.stdout
    assert "stages run: landmarks (replayed from default.csv, unrounded), pose (replayed), gaze (replayed), au\n" \
        in proc.stdout
    table = read_openface_csv(tmp_path / "default.csv")
    assert len(table) == 3 and set(table.au_intensity()) >= {"AU01", "AU12", "AU45"}
    hog = read_hog(tmp_path / "default.hog")
    assert len(hog) == 3 and hog.good.all()


@pytest.mark.parametrize("args, match", [
    (("--frames", "0"), "--frames 0"),
    (("--landmarks-from", "/nonexistent.csv"), "/nonexistent.csv"),
    (("--variant", "nope=fast"), "nope"),
])
def test_cli_errors_are_one_line(tmp_path, args, match):
    proc = _cli(VIDEO, "-o", tmp_path, "--quiet", *args)
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and match in lines[0] and "Traceback" not in proc.stderr


def test_tracker_without_eye_model_drops_the_gaze_block(tmp_path):
    tracker = extract.ReplayTracker(REF_CSV)
    tracker.has_eye_model = False
    res = extract.run(VIDEO, tmp_path, Config(), frames=2, tracker=tracker, analyser=FakeAnalyser(), progress=False)
    header = res.csv.read_text().splitlines()[0]
    assert "gaze_0_x" not in header and "eye_lmk_x_0" not in header and "pose_Tx" in header


def test_folder_input(tmp_path):
    import shutil

    folder = tmp_path / "imgs"
    folder.mkdir()
    for name in ("sample2.jpg", "sample1.jpg"):
        shutil.copy(MEDIA / name, folder / name)
    res = extract.run(folder, tmp_path / "out", Config(), analyser=FakeAnalyser(), progress=False,
                      tracker=extract.ReplayTracker(REF_CSV))
    table = read_openface_csv(res.csv)
    assert res.csv.name == "imgs.csv" and table.frame.tolist() == [1, 2] and (table.timestamp == 0).all()


def test_of_details_matches_openface(tmp_path):
    cfg = with_overrides(Config(), output={"hogalign": True, "simalign": True})
    extract.run(VIDEO, tmp_path, cfg, frames=1, landmarks_from=REF_CSV, analyser=FakeAnalyser(), progress=False)
    ours = (tmp_path / "default_of_details.txt").read_text().splitlines()
    ref = (REFERENCE / "default" / "default_of_details.txt").read_text().splitlines()
    assert ours[2:len(ref)] == ref[2:]  # camera parameters and outputs; the input paths differ
    # then what made it (read back by `aubench report` to name the configuration of a CSV)
    assert ours[len(ref):] == [f"aubench: {aubench.__version__}, config reference {config_hash(cfg)}"]
    assert extract.read_config_line(tmp_path / "default_of_details.txt") == ("reference", config_hash(cfg))


class _LandmarkRecorder(FakeAnalyser):
    def add_next_frame(self, bgr, landmarks68, success, timestamp, timer=None):
        self.seen = getattr(self, "seen", []) + [np.array(landmarks68, np.float64)]
        return super().add_next_frame(bgr, landmarks68, success, timestamp, timer)


@pytest.mark.parametrize("unround", [True, False])
def test_replay_gives_the_au_stage_unrounded_landmarks_and_writes_the_recorded_ones(tmp_path, unround):
    fake = _LandmarkRecorder()
    res = extract.run(VIDEO, tmp_path, Config(), frames=4, landmarks_from=REF_CSV, unround_landmarks=unround,
                      analyser=fake, progress=False)
    recorded = read_openface_csv(REF_CSV).landmarks_2d()[:4]
    np.testing.assert_array_equal(read_openface_csv(res.csv).landmarks_2d(), recorded)
    seen = np.stack(fake.seen)
    if unround:
        assert 0 < np.abs(seen - recorded).max() <= 0.1 and np.abs(seen - recorded).mean() > 0.01
        assert "landmarks (replayed from default.csv, unrounded)" in res.stages_ran
        assert "replayed landmarks: 4 rows unrounded (4 with the 3D landmarks), 0 kept as recorded" in res.summary()
    else:
        np.testing.assert_array_equal(seen, recorded)
        assert "landmarks (replayed from default.csv, as rounded)" in res.stages_ran
        assert "replayed landmarks" not in res.summary()


def test_replay_tracker_counts_what_it_unrounded():
    tracker = extract.ReplayTracker(REF_CSV)
    frame = np.zeros((480, 640, 3), np.uint8)
    outs = [tracker.track(frame, frame[..., 0]) for _ in range(3)]
    assert tracker.rows_unrounded == tracker.rows_unrounded_3d == 3 and tracker.rows_kept_as_recorded == 0
    assert all(o.analysis_landmarks.shape == (68, 2) for o in outs)
    assert extract.ReplayTracker(REF_CSV, unround=False).track(frame, frame[..., 0]).analysis_landmarks is None


def test_replay_keeps_rows_that_are_not_one_pdm_shape(tmp_path):
    """A CSV edited by hand (one landmark of frame 2 moved 0.5 px): that row is replayed as written."""
    lines = REF_CSV.read_text().splitlines()
    header = [h.strip() for h in lines[0].split(",")]
    cells = lines[2].split(",")
    col = header.index("x_30")
    cells[col] = f"{float(cells[col]) + 0.5:.1f}"
    edited = tmp_path / "edited.csv"
    edited.write_text("\n".join([lines[0], lines[1], ",".join(cells), lines[3]]) + "\n")
    fake = _LandmarkRecorder()
    res = extract.run(VIDEO, tmp_path / "out", Config(), frames=3, landmarks_from=edited, analyser=fake, progress=False)
    assert "replayed landmarks: 2 rows unrounded (2 with the 3D landmarks), 1 kept as recorded" in res.summary()
    np.testing.assert_array_equal(fake.seen[1], read_openface_csv(edited).landmarks_2d()[1].astype(np.float32))

"""The Python API on real models and media: the DataFrame is the CLI's CSV, a Stream is extract frame by frame."""

from __future__ import annotations

import shutil
import subprocess
import sys

import cv2
import numpy as np
import pandas as pd
import pytest

import aubench
from aubench.pipeline.errors import AubenchError, ConfigError, InputError
from tests.conftest import MEDIA, REFERENCE

VIDEO = MEDIA / "default.wmv"
REF_CSV = REFERENCE / "default" / "default.csv"
CLIP_FRAMES = 30


def _cli_runs(runs):
    """Run ``aubench run`` in subprocesses (as a user would: BLAS set up by the CLI), two at a time."""
    procs = []
    for args in runs:
        procs.append(subprocess.Popen([sys.executable, "-m", "aubench.cli", "run", *map(str, args), "--quiet"],
                                      stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
        if len(procs) % 2 == 0:
            procs[-2].wait()
    for p in procs:
        _, err = p.communicate()
        assert p.returncode == 0, err


@pytest.fixture(scope="module")
def images(tmp_path_factory):
    folder = tmp_path_factory.mktemp("api") / "faces"
    folder.mkdir()
    for name in ("sample2.jpg", "sample1.jpg"):
        shutil.copy(MEDIA / name, folder / name)
    return folder


@pytest.fixture(scope="module")
def cli_csvs(tmp_path_factory, images):
    """The CSVs ``aubench run --config fast`` writes for a clip, an image, a folder of images and a replay."""
    out = tmp_path_factory.mktemp("cli")
    _cli_runs([
        (VIDEO, "-o", out / "video", "--config", "fast", "--frames", CLIP_FRAMES),
        (MEDIA / "sample1.jpg", "-o", out / "image", "--config", "fast"),
        (images, "-o", out / "folder", "--config", "fast"),
        (images, "-o", out / "sequence", "--config", "fast", "--sequence"),
        (VIDEO, "-o", out / "replay", "--config", "fast", "--frames", 5, "--landmarks-from", REF_CSV,
         "--variant", "fhog=reference"),
    ])
    return {"video": out / "video" / "default.csv", "image": out / "image" / "sample1.csv",
            "folder": [out / "folder" / "sample1.csv", out / "folder" / "sample2.csv"],
            "sequence": out / "sequence" / "faces.csv", "replay": out / "replay" / "default.csv"}


@pytest.fixture(scope="module")
def clip_table():
    return aubench.extract(VIDEO, frames=CLIP_FRAMES, quiet=True)


@pytest.mark.slow
def test_extract_of_a_video_is_the_cli_csv(clip_table, cli_csvs):
    assert clip_table.shape == (CLIP_FRAMES, 714)
    pd.testing.assert_frame_equal(clip_table, pd.read_csv(cli_csvs["video"]), check_exact=True)
    assert clip_table["success"].all() and clip_table["AU45_c"].isin((0.0, 1.0)).all()


@pytest.mark.slow
def test_extract_of_an_image_and_a_folder_is_the_cli_csv(cli_csvs, images):
    """Photos go through FaceLandmarkImg (a row per face, its schema), as `aubench run` does them;
    sequence=True makes the folder one video, as --sequence."""
    image = aubench.extract(MEDIA / "sample1.jpg", quiet=True)
    assert list(image.columns[:2]) == ["face", "confidence"]
    pd.testing.assert_frame_equal(image, pd.read_csv(cli_csvs["image"]), check_exact=True)
    table = aubench.extract(images, quiet=True)
    assert list(table["input"]) == ["sample1.jpg", "sample2.jpg"]  # a folder read sorted by name, one face each
    expected = pd.concat([pd.read_csv(p) for p in cli_csvs["folder"]], ignore_index=True)
    pd.testing.assert_frame_equal(table.drop(columns="input"), expected, check_exact=True)
    sequence = aubench.extract(images, sequence=True, quiet=True)
    assert list(sequence["input"]) == ["sample1.jpg", "sample2.jpg"] and list(sequence["frame"]) == [1, 2]
    pd.testing.assert_frame_equal(sequence.drop(columns="input"), pd.read_csv(cli_csvs["sequence"]),
                                  check_exact=True)


@pytest.mark.slow
def test_extract_takes_the_cli_options(cli_csvs):
    table = aubench.extract(VIDEO, "fast", frames=5, variants={"fhog": "reference"}, landmarks_from=REF_CSV,
                            quiet=True)
    pd.testing.assert_frame_equal(table, pd.read_csv(cli_csvs["replay"]), check_exact=True)


@pytest.mark.slow
def test_stream_fed_frame_by_frame_is_extract(clip_table):
    capture = cv2.VideoCapture(str(VIDEO))
    clip = [capture.read()[1] for _ in range(CLIP_FRAMES)]
    capture.release()
    with aubench.Stream(fps=15.0, quiet=True) as stream:  # default.wmv is 15 fps
        for frame in clip[10:15]:  # another face position first: reset must forget it
            stream.process(frame)
        stream.reset()
        results = [stream.process(frame) for frame in clip]
        table = stream.to_frame()
        online = stream.to_frame(postprocess=False)
        with pytest.raises(InputError, match="frame is None"):
            stream.process(None)
        with pytest.raises(InputError, match=r"expected a BGR uint8 image .* got float64"):
            stream.process(clip[0].astype(np.float64))
        assert stream.frames == CLIP_FRAMES  # refused frames are not counted
    pd.testing.assert_frame_equal(table, clip_table, check_exact=True)
    # each frame's result is the row before the offline step, unrounded
    last = results[-1]
    assert last.frame == CLIP_FRAMES and last.timestamp == pytest.approx((CLIP_FRAMES - 1) / 15.0)
    assert [r.success for r in results] == list(online["success"] == 1)
    xs = online.loc[CLIP_FRAMES - 1, [f"x_{i}" for i in range(68)]].to_numpy()
    np.testing.assert_allclose(last.landmarks[:, 0], xs, atol=0.05 + 1e-9)
    for au, value in last.au_intensity.items():
        assert online.loc[CLIP_FRAMES - 1, f"{au}_r"] == pytest.approx(value, abs=0.005 + 1e-9)
    assert not last.landmarks.flags.writeable
    # the offline step changed the AU columns, and only those
    au_cols = [c for c in table.columns if c.startswith("AU")]
    pd.testing.assert_frame_equal(table.drop(columns=au_cols), online.drop(columns=au_cols), check_exact=True)
    assert not table[au_cols].equals(online[au_cols])
    with pytest.raises(InputError, match="closed"):
        stream.process(clip[0])


@pytest.mark.slow
def test_folder_of_videos_in_process_and_in_workers(tmp_path):
    for name in ("b.wmv", "a.wmv"):
        shutil.copy(VIDEO, tmp_path / name)
    (tmp_path / "notes.txt").write_text("not a video")
    table = aubench.extract(tmp_path, frames=3, quiet=True)
    assert list(table["input"]) == ["a.wmv"] * 3 + ["b.wmv"] * 3 and list(table["frame"]) == [1, 2, 3] * 2
    one = aubench.extract(tmp_path / "a.wmv", frames=3, quiet=True)
    for name in ("a.wmv", "b.wmv"):  # each video on its own: state is reset between them
        part = table[table["input"] == name].drop(columns="input").reset_index(drop=True)
        pd.testing.assert_frame_equal(part, one, check_exact=True)
    in_workers = aubench.extract(tmp_path, frames=3, workers=2, quiet=True)
    pd.testing.assert_frame_equal(in_workers, table, check_exact=True)


@pytest.mark.parametrize("call, error, match", [
    (lambda: aubench.extract(MEDIA / "no_such.mp4"), InputError, "no such file or folder"),
    (lambda: aubench.extract(VIDEO, "fsat"), ConfigError, 'did you mean "fast"'),
    (lambda: aubench.extract(VIDEO, variants={"fhog": "nope"}), ConfigError, "nope"),
    (lambda: aubench.extract(VIDEO, variants=["fhog=numba"]), ConfigError, "expected a mapping"),
    (lambda: aubench.extract(VIDEO, hogalign=True), ConfigError, "valid: config, frames, landmarks_from, models"),
    (lambda: aubench.extract(VIDEO, frame=3), ConfigError, "did you mean .frames."),
    (lambda: aubench.extract(VIDEO, frames=0), InputError, "frames=0"),
    (lambda: aubench.extract(VIDEO, landmarks_from="/nonexistent.csv"), InputError, "/nonexistent.csv"),
    (lambda: aubench.extract(VIDEO, models="/nonexistent"), AubenchError, "no OpenFace models"),
    (lambda: aubench.Stream(fps=-1), ConfigError, "fps=-1"),
])
def test_errors_are_aubench_errors_with_one_message(call, error, match):
    with pytest.raises(error, match=match) as err:
        call()
    assert isinstance(err.value, aubench.AubenchError) and "\n" not in str(err.value)


def test_import_aubench_loads_nothing_heavy():
    probe = ("import sys, aubench; "
             "print(sorted(m for m in ('numpy', 'cv2', 'numba', 'pandas', 'tqdm') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"

"""Image mode (FaceLandmarkImg): every face of sample1-6 against the C++ reference, the output files, faults."""

from __future__ import annotations

import io
import os
import signal

import cv2
import numpy as np
import pytest

from aubench.pipeline import images
from aubench.pipeline.config import Config, preset, with_overrides
from aubench.pipeline.errors import InputError
from aubench.pipeline.io.csv_out import CsvSchema
from aubench.pipeline.io.hog_file import HogWriter, read_hog
from aubench.pipeline.io.openface_csv import read_openface_csv
from tests.conftest import MEDIA, REFERENCE
from tests.tolerances import assert_close

SAMPLES = tuple(f"sample{i}" for i in range(1, 7))
REF = REFERENCE / "images"
# faces C++ FaceLandmarkImg writes per image (reference/images/sampleN.csv)
CPP_FACES = {"sample1": 1, "sample2": 1, "sample3": 1, "sample4": 1, "sample5": 1, "sample6": 12}


def _config(**output) -> Config:
    """The fast preset with the reference's outputs (-hogalign -simalign -nobadaligned)."""
    return with_overrides(preset("fast"), output={"hogalign": True, "simalign": True, **output})


@pytest.fixture(scope="module")
def samples_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("images")
    result = images.run_images([MEDIA / f"{s}.jpg" for s in SAMPLES], out, _config(), progress=False)
    return out, result


# ---------------------------------------------------------------------------------------------- parity
@pytest.mark.slow
def test_every_face_is_found_in_cpp_order(samples_run):
    out, result = samples_run
    assert [o.faces for o in result.images] == [CPP_FACES[s] for s in SAMPLES]
    assert result.faces == 17 and not result.failed
    for stem in SAMPLES:
        ours, theirs = read_openface_csv(out / f"{stem}.csv"), read_openface_csv(REF / f"{stem}.csv")
        assert ours.column("face").tolist() == theirs.column("face").tolist() == list(range(CPP_FACES[stem]))
        # row k is C++'s row k: each of our faces is nearest (landmark centroid) to the C++ face of its index
        centres_ours = ours.landmarks_2d().mean(axis=1)
        centres_cpp = theirs.landmarks_2d().mean(axis=1)
        nearest = np.linalg.norm(centres_ours[:, None] - centres_cpp[None], axis=-1).argmin(axis=1)
        assert nearest.tolist() == list(range(len(centres_cpp))), stem


# name -> (OpenFaceTable accessor, CSV step: both files round to it, so they may differ by one step)
_QUANTITIES = {
    "image.landmarks_px": (lambda t: t.landmarks_2d(), 0.1),
    "image.eye_landmarks_px": (lambda t: t.eye_landmarks_2d(), 0.1),
    "image.landmarks_3d_mm": (lambda t: t.landmarks_3d(), 0.1),
    "image.eye_landmarks_3d_mm": (lambda t: t.eye_landmarks_3d(), 0.1),
    "image.pose_t_mm": (lambda t: t.pose()[:, :3], 0.1),
    "image.pose_r_rad": (lambda t: t.pose()[:, 3:], 1e-3),
    "image.gaze": (lambda t: np.concatenate(t.gaze()[:2], axis=1), 1e-6),
    "image.gaze_angle_rad": (lambda t: t.gaze()[2], 1e-3),
    "image.params_global": (lambda t: t.params_global(), 1e-3),
    "image.params_local": (lambda t: t.params_local(), 1e-3),
    "image.confidence": (lambda t: t.confidence, 1e-3),
}


@pytest.mark.slow
@pytest.mark.blas
@pytest.mark.parametrize("name", sorted(_QUANTITIES))
def test_landmarks_pose_gaze_within_the_measured_spread(samples_run, name):
    out, _ = samples_run
    get, step = _QUANTITIES[name]
    for stem in SAMPLES:
        ours, theirs = read_openface_csv(out / f"{stem}.csv"), read_openface_csv(REF / f"{stem}.csv")
        # 1e-9: the decimal steps are not exact in binary
        assert_close(name, get(ours), get(theirs), rounding=step + 1e-9, context=stem)


@pytest.mark.slow
@pytest.mark.blas
def test_landmark_median_is_the_csv_rounding_floor(samples_run):
    out, _ = samples_run
    errors = []
    for stem in SAMPLES:
        ours, theirs = read_openface_csv(out / f"{stem}.csv"), read_openface_csv(REF / f"{stem}.csv")
        errors.append(np.linalg.norm(ours.landmarks_2d() - theirs.landmarks_2d(), axis=-1).ravel())
    # measured: 0.0 px under every OpenBLAS family (most points are written identically); C++ against itself: 0.0
    assert float(np.median(np.concatenate(errors))) <= 0.05


@pytest.mark.slow
@pytest.mark.blas
def test_aus_within_the_measured_spread(samples_run):
    out, _ = samples_run
    ours_r, cpp_r, ours_c, cpp_c = [], [], [], []
    for stem in SAMPLES:
        ours, theirs = read_openface_csv(out / f"{stem}.csv"), read_openface_csv(REF / f"{stem}.csv")
        assert list(ours.au_intensity()) == list(theirs.au_intensity())
        ours_r.append(np.stack(list(ours.au_intensity().values()), axis=1))
        cpp_r.append(np.stack(list(theirs.au_intensity().values()), axis=1))
        ours_c.append(np.stack(list(ours.au_occurrence().values()), axis=1))
        cpp_c.append(np.stack(list(theirs.au_occurrence().values()), axis=1))
    ours_r, cpp_r = np.concatenate(ours_r), np.concatenate(cpp_r)
    ours_c, cpp_c = np.concatenate(ours_c), np.concatenate(cpp_c)
    assert ours_r.shape == (17, 17) and ours_c.shape == (17, 18)
    assert ours_r.min() >= 0 and ours_r.max() <= 5  # static models: clipped, as FaceLandmarkImg writes them
    assert_close("image.au_intensity_max", ours_r, cpp_r, rounding=0.01 + 1e-9)
    assert_close("image.au_intensity_mae", float(np.abs(ours_r - cpp_r).mean()), 0.0)
    assert_close("image.au_occurrence_disagreement", float((ours_c != cpp_c).mean()), 0.0)


@pytest.mark.slow
@pytest.mark.blas
def test_aligned_faces_and_hog_within_the_measured_spread(samples_run):
    out, _ = samples_run
    worst_mad, worst_r = 0.0, 0.0
    for stem in SAMPLES:
        ours, theirs = read_hog(out / f"{stem}.hog"), read_hog(REF / f"{stem}.hog")
        for k in range(CPP_FACES[stem]):
            r = np.corrcoef(ours.descriptors[k].ravel(), theirs.descriptors[k].ravel())[0, 1]
            worst_r = max(worst_r, 1.0 - float(r))
            name = f"face_det_{k:06d}.bmp"
            a = cv2.imread(str(out / f"{stem}_aligned" / name)).astype(np.float64)
            b = cv2.imread(str(REF / f"{stem}_aligned" / name)).astype(np.float64)
            worst_mad = max(worst_mad, float(np.abs(a - b).mean()))
    assert_close("image.aligned_mean_abs", worst_mad, 0.0)
    assert_close("image.hog_one_minus_r", worst_r, 0.0)


# ---------------------------------------------------------------------------------------------- files
def test_header_is_byte_identical_to_cpp():
    cpp = (REF / "sample1.csv").read_bytes().split(b"\n", 1)[0] + b"\n"
    assert CsvSchema.from_output(Config().output, sequence=False).header().encode("ascii") == cpp


@pytest.mark.slow
def test_written_files_are_laid_out_as_cpp(samples_run):
    out, result = samples_run
    for stem, outcome in zip(SAMPLES, result.images):
        assert outcome.csv == out / f"{stem}.csv" and outcome.error is None and outcome.notice is None
        assert (out / f"{stem}.csv").read_bytes().split(b"\n", 1)[0] == (REF / f"{stem}.csv").read_bytes().split(b"\n", 1)[0]
        # .hog: one record per face, same header words (12, 12, 31, good flag) and size as the C++'s
        ours_raw, cpp_raw = (out / f"{stem}.hog").read_bytes(), (REF / f"{stem}.hog").read_bytes()
        assert len(ours_raw) == len(cpp_raw)
        assert ours_raw[:16] == cpp_raw[:16]
        ours, theirs = read_hog(out / f"{stem}.hog"), read_hog(REF / f"{stem}.hog")
        assert len(ours) == CPP_FACES[stem]
        assert ours.good.tolist() == theirs.good.tolist()
        # aligned faces: the C++'s names, 112x112 colour bitmaps
        names = sorted(p.name for p in (out / f"{stem}_aligned").iterdir())
        assert names == sorted(p.name for p in (REF / f"{stem}_aligned").iterdir())
        for name in names:
            assert cv2.imread(str(out / f"{stem}_aligned" / name)).shape == (112, 112, 3)
        # details: the C++'s lines apart from the input path (ours is the path given, theirs ../shared/...)
        ours_txt = (out / f"{stem}_of_details.txt").read_text().splitlines()
        cpp_txt = (REF / f"{stem}_of_details.txt").read_text().splitlines()
        assert ours_txt[2:len(cpp_txt)] == cpp_txt[2:]
        assert ours_txt[len(cpp_txt):] and ours_txt[len(cpp_txt)].startswith("aubench: ")  # then what made it
    assert not [p for p in out.iterdir() if p.name.startswith(".")]  # no temporary or lock file left


def test_no_face_and_unreadable_images_do_not_stop_the_others(tmp_path):
    blank = tmp_path / "in" / "blank.png"
    blank.parent.mkdir()
    cv2.imwrite(str(blank), np.full((240, 320, 3), 128, np.uint8))
    broken = tmp_path / "in" / "broken.jpg"
    broken.write_bytes(b"not a jpeg at all")
    stream = io.StringIO()
    result = images.run_images([blank, broken, MEDIA / "sample2.jpg"], tmp_path / "out", _config(),
                               progress_stream=stream)
    no_face, unreadable, good = result.images
    assert no_face.csv is None and no_face.faces == 0 and no_face.error is None
    assert "no face" in no_face.notice
    assert unreadable.csv is None and unreadable.error is not None and "\n" not in unreadable.error
    assert str(broken) in unreadable.error and "cannot decode" in unreadable.error
    assert result.failed == [unreadable]
    assert good.faces == 1 and good.csv.is_file()
    # nothing at all for the blank and the broken image (C++ leaves an empty .hog, _aligned/ and details)
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [
        "sample2.csv", "sample2.hog", "sample2_aligned", "sample2_of_details.txt"]
    said = stream.getvalue()
    assert f"{blank}: no face found" in said and str(broken) in said
    assert "aubench run images" in said and "3/3" in said  # the bar over images
    summary = result.summary()
    assert "1 of 3 images written, 1 face" in summary
    assert f"failed: {unreadable.error}" in summary and f"{blank}: no face found" in summary


def test_same_stem_inputs_are_refused_before_anything_runs(tmp_path):
    a, b = tmp_path / "a" / "x.jpg", tmp_path / "b" / "x.png"
    with pytest.raises(InputError) as err:
        images.run_images([a, b], tmp_path / "out", _config(), progress=False)
    message = str(err.value)
    assert str(a) in message and str(b) in message and "x.csv" in message and "rename" in message
    assert "\n" not in message
    assert not (tmp_path / "out").exists()


def test_no_input_is_an_error(tmp_path):
    with pytest.raises(InputError, match="no images given"):
        images.run_images([], tmp_path, _config(), progress=False)


def test_image_files_keeps_openface_extensions_any_case(tmp_path):
    for name in ("b.png", "a.JPG", "c.jpeg", "d.Bmp", "clip.avi", "notes.txt", "e.tif"):
        (tmp_path / name).write_bytes(b"")
    (tmp_path / "sub.jpg").mkdir()
    assert [p.name for p in images.image_files(tmp_path)] == ["a.JPG", "b.png", "c.jpeg", "d.Bmp"]
    with pytest.raises(InputError, match="expected a folder"):
        images.image_files(tmp_path / "b.png")


# ---------------------------------------------------------------------------------------------- stopping
# two one-face images
TWO_IMAGES = (MEDIA / "sample2.jpg", MEDIA / "sample4.jpg")


def test_a_stop_after_the_first_image_keeps_it_whole(tmp_path, monkeypatch):
    real_faces = images.ImageStages.faces
    calls = []

    def faces_then_ctrl_c(self, bgr, gray=None):
        calls.append(1)
        found = real_faces(self, bgr, gray)
        if len(calls) == 1:
            os.kill(os.getpid(), signal.SIGINT)  # held by deferred_signals until the image is written
        return found

    monkeypatch.setattr(images.ImageStages, "faces", faces_then_ctrl_c)
    out = tmp_path / "out"
    with pytest.raises(KeyboardInterrupt):
        images.run_images(TWO_IMAGES, out, _config(), progress=False)
    assert len(calls) == 1  # the second image was never started
    table = read_openface_csv(out / "sample2.csv")
    assert len(table) == 1 and read_hog(out / "sample2.hog").good.tolist() == [True]
    assert sorted(p.name for p in out.iterdir()) == [
        "sample2.csv", "sample2.hog", "sample2_aligned", "sample2_of_details.txt"]


def test_a_failure_while_writing_the_second_image_leaves_no_part_of_it(tmp_path, monkeypatch):
    real_write = HogWriter.write

    def write(self, descriptor, good):
        if "sample4" in self.path.name:
            raise RuntimeError("injected")
        return real_write(self, descriptor, good)

    monkeypatch.setattr(HogWriter, "write", write)
    out = tmp_path / "out"
    with pytest.raises(RuntimeError, match="injected"):
        images.run_images(TWO_IMAGES, out, _config(), progress=False)
    assert len(read_openface_csv(out / "sample2.csv")) == 1
    # sample4's CSV had been written under its temporary name: gone with the rest, nothing of sample4 left
    assert sorted(p.name for p in out.iterdir()) == [
        "sample2.csv", "sample2.hog", "sample2_aligned", "sample2_of_details.txt"]


def test_a_rerun_replaces_the_earlier_outputs_of_the_stem(tmp_path):
    out = tmp_path / "out"
    (out / "sample2_aligned").mkdir(parents=True)
    (out / "sample2_aligned" / "face_det_000007.bmp").write_bytes(b"old")
    (out / "sample2.csv").write_text("old\n")
    result = images.run_images([MEDIA / "sample2.jpg"], out, _config(), progress=False)
    assert result.images[0].faces == 1
    assert len(read_openface_csv(out / "sample2.csv")) == 1
    assert [p.name for p in (out / "sample2_aligned").iterdir()] == ["face_det_000000.bmp"]


def test_inputs_that_are_not_images_are_said_in_one_line_each(tmp_path):
    missing = tmp_path / "missing.jpg"
    result = images.run_images([MEDIA, MEDIA / "default.wmv", missing], tmp_path / "out", _config(), progress=False)
    folder, video, gone = (o.error for o in result.images)
    assert folder.startswith(f"{MEDIA}: expected an image") and "got a folder" in folder
    assert video.startswith(f"{MEDIA / 'default.wmv'}: expected an image") and "got a .wmv file" in video
    assert gone.startswith(f"{missing}: no such file")
    assert len(result.failed) == 3 and result.faces == 0
    assert list((tmp_path / "out").iterdir()) == []


def test_a_stem_another_run_is_writing_is_left_to_it(tmp_path):
    from aubench.pipeline.io.claim import claim_outputs

    out = tmp_path / "out"
    with claim_outputs(out, "sample2"):  # as another aubench run holds it
        result = images.run_images(TWO_IMAGES, out, _config(), progress=False)
    busy, done = result.images
    assert busy.csv is None and "being written by another aubench run" in busy.error
    assert done.faces == 1 and not (out / "sample2.csv").exists()


def test_a_full_disk_on_the_second_image_keeps_the_first_and_nothing_of_the_second(tmp_path, monkeypatch):
    import errno

    from aubench.pipeline.errors import OutputError
    from aubench.pipeline.io import aligned as aligned_mod

    real_open = open

    def fake_open(path, mode="r", *args, **kwargs):
        if "sample4_aligned" in str(path) and "w" in mode:
            raise OSError(errno.ENOSPC, "No space left on device", str(path))
        return real_open(path, mode, *args, **kwargs)

    monkeypatch.setattr(aligned_mod, "open", fake_open, raising=False)
    out = tmp_path / "out"
    with pytest.raises(OutputError, match="no space left on device"):
        images.run_images(TWO_IMAGES, out, _config(), progress=False)
    assert len(read_openface_csv(out / "sample2.csv")) == 1
    assert sorted(p.name for p in out.iterdir()) == [
        "sample2.csv", "sample2.hog", "sample2_aligned", "sample2_of_details.txt"]


def test_camera_intrinsics_from_the_config_or_each_image_size(tmp_path):
    default = images.run_images([MEDIA / "sample2.jpg"], tmp_path / "default", _config(), progress=False)
    given = with_overrides(_config(), camera={"fx": 600.0, "fy": 610.0, "cx": 300.0, "cy": 190.0})
    images.run_images([MEDIA / "sample2.jpg"], tmp_path / "given", given, progress=False)
    details = (tmp_path / "given" / "sample2_of_details.txt").read_text()
    assert "Camera parameters:600,610,300,190\n" in details
    # 640x400: OpenFace's default from the image's own size, as the C++ details say
    assert "Camera parameters:458.333,458.333,320,200\n" in (tmp_path / "default" / "sample2_of_details.txt").read_text()
    pose_default = read_openface_csv(default.images[0].csv).pose()
    pose_given = read_openface_csv(tmp_path / "given" / "sample2.csv").pose()
    assert not np.allclose(pose_default[:, :3], pose_given[:, :3])  # the translation follows the intrinsics


def test_without_au_outputs_the_au_stage_is_not_loaded(tmp_path):
    config = with_overrides(preset("fast"), output={"aus": False, "hogalign": False, "simalign": False, "gaze": False})
    result = images.run_images([MEDIA / "sample2.jpg"], tmp_path, config, progress=False)
    header = result.images[0].csv.read_text().split("\n", 1)[0].split(",")
    assert header[:3] == ["face", "confidence", "pose_Tx"] and not [c for c in header if c.startswith("AU")]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["sample2.csv", "sample2_of_details.txt"]
    ours, theirs = read_openface_csv(result.images[0].csv), read_openface_csv(REF / "sample2.csv")
    assert_close("image.landmarks_px", ours.landmarks_2d(), theirs.landmarks_2d(), rounding=0.1 + 1e-9)


def test_a_damaged_image_is_processed_with_a_notice(tmp_path):
    damaged = tmp_path / "cut.jpg"
    damaged.write_bytes((MEDIA / "sample2.jpg").read_bytes()[:30000])  # the face is in the first rows decoded
    outcome = images.run_images([damaged], tmp_path / "out", _config(), progress=False).images[0]
    assert outcome.error is None and outcome.faces == 1 and outcome.csv.is_file()
    assert outcome.notice.startswith("the image is damaged") and "Premature end of JPEG file" in outcome.notice

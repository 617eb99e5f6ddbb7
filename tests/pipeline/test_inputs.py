"""Sorting a command line's inputs into videos, image sequences and photos (aubench.pipeline.inputs)."""

from __future__ import annotations

import shutil

import pytest

from aubench.pipeline.errors import InputError
from aubench.pipeline.inputs import plan_run
from tests.conftest import MEDIA


@pytest.fixture
def tree(tmp_path):
    photos = tmp_path / "photos"
    photos.mkdir()
    for name in ("sample2.jpg", "sample1.jpg"):
        shutil.copy(MEDIA / name, photos / name)
    (photos / "notes.txt").write_text("not an input\n")
    videos = tmp_path / "videos"
    videos.mkdir()
    for name in ("b.avi", "a.mp4"):
        (videos / name).write_bytes(b"x")
    return tmp_path


def test_each_kind_gets_its_run(tree):
    plan = plan_run([tree / "photos", tree / "videos", MEDIA / "sample3.jpg", MEDIA / "default.wmv"])
    assert [p.name for p in plan.images] == ["sample1.jpg", "sample2.jpg", "sample3.jpg"]  # a folder in name order
    assert [p.name for p in plan.videos] == ["a.mp4", "b.avi", "default.wmv"] and plan.sequences == []


def test_a_folder_of_images_is_one_video_with_sequence(tree):
    plan = plan_run([tree / "photos"], sequence_dirs=True)
    assert plan.sequences == [tree / "photos"] and plan.images == [] and plan.tracked == [tree / "photos"]
    with pytest.raises(InputError, match="--sequence takes a folder of images"):
        plan_run([MEDIA / "sample1.jpg"], sequence_dirs=True)


def test_a_mixed_folder_names_its_videos_and_its_images(tree):
    shutil.copy(MEDIA / "sample1.jpg", tree / "videos" / "still.png")
    with pytest.raises(InputError, match=r"holds 2 video\(s\) \(a.mp4, b.avi\) and 1 image\(s\) \(still.png\)"):
        plan_run([tree / "videos"])


def test_what_each_openface_program_reads(tree):
    with pytest.raises(InputError, match="FaceLandmarkImg reads images"):
        plan_run([tree / "videos"], images_only=True)
    with pytest.raises(InputError, match="not an image"):
        plan_run([MEDIA / "default.wmv"], images_only=True)
    # FeatureExtraction -f photo.jpg: OpenFace's video reader opens a photo as a one-frame video
    assert plan_run([MEDIA / "sample1.jpg"], video_only=True).videos == [MEDIA / "sample1.jpg"]


def test_list_files_and_missing_or_empty_inputs(tree):
    listing = tree / "inputs.txt"
    listing.write_text("# comment\nphotos/sample1.jpg\n\nvideos/a.mp4\n")
    plan = plan_run([listing])
    assert plan.images == [tree / "photos" / "sample1.jpg"] and plan.videos == [tree / "videos" / "a.mp4"]
    with pytest.raises(InputError, match="no such file or folder"):
        plan_run([tree / "nothing.avi"])
    (tree / "empty").mkdir()
    with pytest.raises(InputError, match="no videos or images in this folder"):
        plan_run([tree / "empty"])


def test_two_inputs_with_one_output_name_are_refused(tree):
    shutil.copy(MEDIA / "sample1.jpg", tree / "sample1.png")
    with pytest.raises(InputError, match="both would write sample1.csv"):
        plan_run([tree / "photos", tree / "sample1.png"])


def test_landmarks_from_replays_one_video(tree):
    csv = tree / "x.csv"
    csv.write_text("frame\n")
    assert plan_run([MEDIA / "default.wmv"], landmarks_from=csv).videos == [MEDIA / "default.wmv"]
    with pytest.raises(InputError, match="replays one video's CSV"):
        plan_run([MEDIA / "default.wmv", tree / "videos"], landmarks_from=csv)


def test_extension_lists_agree_with_the_batch():
    from aubench.pipeline import batch, inputs

    assert inputs.VIDEO_EXTENSIONS == batch.VIDEO_EXTENSIONS and inputs.LIST_EXTENSIONS == batch.LIST_EXTENSIONS

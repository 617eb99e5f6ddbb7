"""Damaged inputs (issue 15): the libraries' own lines never reach stderr, a truncated video ends with one notice."""

from __future__ import annotations

import subprocess
import sys

import pytest

from aubench.pipeline.io.frames import FRAME_COUNT_SLACK, open_input
from tests.conftest import MEDIA, REFERENCE


@pytest.fixture(scope="module")
def bad_inputs(tmp_path_factory):
    """default.wmv cut at 50 %, default.wmv with bytes flipped in the middle, a text file named .mp4."""
    d = tmp_path_factory.mktemp("bad")
    src = (MEDIA / "default.wmv").read_bytes()
    (d / "truncated.wmv").write_bytes(src[: len(src) // 2])
    flipped = bytearray(src)
    for i in range(len(src) // 2, len(src) // 2 + 4000, 7):
        flipped[i] ^= 0xFF
    (d / "flipped.wmv").write_bytes(bytes(flipped))
    (d / "text.mp4").write_text("not a video\n" * 20)
    return d


def _cli_run(video, out, *extra):
    return subprocess.run([sys.executable, "-m", "aubench.cli", "run", str(video), "-o", str(out), "--quiet",
                           "--landmarks-from", str(REFERENCE / "default" / "default.csv"), *extra],
                          capture_output=True, text=True)


def test_a_truncated_video_says_how_far_it_got(bad_inputs):
    source = open_input(bad_inputs / "truncated.wmv")
    n = sum(1 for _ in source)
    assert source.decoded == n and source.frame_count - n > FRAME_COUNT_SLACK
    notice = source.damage_notice()
    assert notice.startswith(f"the video ended after {n} of {source.frame_count} frames (truncated or damaged file)")
    assert "@ 0x" not in notice


@pytest.mark.slow  # decodes the three sample videos whole
@pytest.mark.parametrize("name", ["default.wmv", "2015-10-15-15-14.avi", "multi_face.avi"])
def test_intact_videos_give_no_notice(name):
    source = open_input(MEDIA / name)
    n = sum(1 for _ in source)
    assert n >= source.frame_count - FRAME_COUNT_SLACK
    assert source.damage_notice() is None


@pytest.mark.slow  # subprocess
def test_garbage_named_mp4_is_one_line_quoting_the_decoder(bad_inputs, tmp_path):
    proc = _cli_run(bad_inputs / "text.mp4", tmp_path)
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith(f"aubench run: error: {bad_inputs / 'text.mp4'}: OpenCV cannot open this as a video")
    assert 'the decoder said: "[mov,mp4,m4a,3gp,3g2,mj2] moov atom not found"' in lines[0]


@pytest.mark.slow  # subprocess, 141 frames of the AU stage
def test_truncated_video_run_exits_3_with_one_notice(bad_inputs, tmp_path):
    proc = _cli_run(bad_inputs / "truncated.wmv", tmp_path)
    assert proc.returncode == 3, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr  # no "[wmv2 @ 0x...] ac-tex damaged" before it
    assert lines[0].startswith(f"aubench run: {tmp_path / 'truncated.csv'}: the video ended after ")
    assert lines[0].endswith("frames decoded")
    rows = len((tmp_path / "truncated.csv").read_text().splitlines()) - 1
    assert f"the CSV has the {rows} frames decoded" in lines[0]
    assert "Input damaged: the video ended after" in (tmp_path / "truncated_of_details.txt").read_text()


@pytest.mark.slow  # subprocess
def test_damaged_video_run_exits_3_and_no_library_line_leaks(bad_inputs, tmp_path):
    proc = _cli_run(bad_inputs / "flipped.wmv", tmp_path)
    assert proc.returncode == 3, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("aubench run: "), proc.stderr
    assert "the decoder printed" in lines[0]


def test_a_truncated_image_is_decoded_and_noticed_without_libjpeg_on_stderr(tmp_path, capfd):
    half = tmp_path / "half.jpg"
    half.write_bytes((MEDIA / "sample1.jpg").read_bytes()[:30000])
    source = open_input(half)
    assert sum(1 for _ in source) == 1
    assert source.damage_notice() == 'the image is damaged; the decoder printed 1 line, first: "Premature end of JPEG file"'
    assert capfd.readouterr().err == ""

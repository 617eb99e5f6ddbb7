"""OpenFace's command-line flags, as `aubench FeatureExtraction|FaceLandmarkImg|FaceLandmarkVidMulti` and
`aubench run` read them."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from aubench.commands import openface
from aubench.commands.openface import config_sections, parse_openface_args, split_openface_tokens
from aubench.pipeline import config as config_mod
from aubench.pipeline.errors import ConfigError
from tests.conftest import MEDIA, REFERENCE

REFERENCE_FLAGS = (REFERENCE / "images" / "COMMAND.txt").read_text().split("\n")[0].split()[1:]


def test_the_reference_command_lines_parse_to_what_they_ask():
    """The flags C++ was run with for the reference (reference/*/COMMAND.txt) select every CSV block, the
    .hog and the aligned faces, without bad aligned faces, with the CLNF model."""
    of = parse_openface_args(REFERENCE_FLAGS, "FaceLandmarkImg")
    assert of.files == [Path("../shared/media/sample1.jpg")] and of.out_dir == Path("../shared/reference/images")
    sections = config_sections(of, everything_by_default=True)
    assert sections["output"] == {"landmarks_2d": True, "landmarks_3d": True, "pdmparams": True, "pose": True,
                                  "aus": True, "gaze": True, "hogalign": True, "simalign": True, "tracked": False,
                                  "nobadaligned": True}
    assert sections["landmarks"] == {"model_location": "model/main_clnf_general.txt"}
    cfg = config_mod.build("fast", **sections)
    assert cfg.output.hogalign and cfg.output.simalign and not cfg.output.tracked


def test_without_a_selector_openface_writes_everything_and_aubench_run_its_defaults():
    of = parse_openface_args(["-f", "a.avi"])
    everything = config_sections(of, everything_by_default=True)["output"]
    assert all(everything[k] for k in openface.SELECTORS.values()) and everything["nobadaligned"] is False
    assert config_sections(of, everything_by_default=False) == {}
    only = config_sections(parse_openface_args(["-aus", "-pose"]), everything_by_default=True)["output"]
    assert {k for k, v in only.items() if v is True} == {"aus", "pose"}


def test_each_valued_flag_lands_on_its_config_key():
    of = parse_openface_args(["-fx", "600", "-fy", "610.5", "-cx", "320", "-cy", "240", "-simsize", "224",
                              "-simscale", "1.4", "-sigma", "2", "-reg", "30", "-w_reg", "1", "-n_iter", "3",
                              "-multi_view", "1", "-validate_detections", "0", "-au_static", "-nomask"])
    cfg = config_mod.build("fast", **config_sections(of, everything_by_default=False))
    assert (cfg.camera.fx, cfg.camera.fy, cfg.camera.cx, cfg.camera.cy) == (600, 610.5, 320, 240)
    assert (cfg.analyser.sim_size_out, cfg.analyser.sim_scale_out) == (224, 1.4)
    assert not cfg.analyser.dynamic and not cfg.analyser.sim_align_face_mask
    lm = cfg.landmarks
    assert (lm.sigma, lm.reg_factor, lm.weight_factor, lm.num_optimisation_iteration) == (2, 30, 1, 3)
    assert lm.multi_view and not lm.validate_detections


def test_wild_is_openfaces_in_the_wild_setting():
    lm = config_mod.build("fast", **config_sections(parse_openface_args(["-wild"]), everything_by_default=False)).landmarks
    assert lm.window_sizes_init == (15, 13, 11, 11) and lm.sigma == 1.25 and lm.reg_factor == 35
    assert lm.weight_factor == 2.5 and lm.num_optimisation_iteration == 10 and lm.multi_view


def test_inputs_repeat_in_order_inroot_applies_everywhere_and_the_first_of_wins():
    of = parse_openface_args(["-f", "b.avi", "-of", "first", "-f", "a.avi", "-inroot", "/data", "-fdir", "seq",
                              "-of", "second"])
    assert of.files == [Path("/data/b.avi"), Path("/data/a.avi")] and of.dirs == [Path("/data/seq")]
    assert of.out_name == "first"


@pytest.mark.parametrize("tokens, said", [
    (["-2dfp"], 'did you mean "-2Dfp"'),
    (["-device", "0"], "webcams are not read"),
    (["-fdloc", "haar.xml"], "only the MTCNN face detector"),
    (["-fx"], "-fx: expected a value"),
    (["-fx", "wide"], "-fx wide: expected a number"),
    (["-simsize", "1.5"], "-simsize 1.5: expected an integer"),
    (["clip.avi"], "takes its inputs as -f FILE"),
])
def test_bad_flags_say_what_to_do(tokens, said):
    with pytest.raises(ConfigError, match=said):
        parse_openface_args(tokens)


def test_camera_intrinsics_come_in_pairs():
    with pytest.raises(ConfigError, match="give fx and fy together"):
        config_mod.build("fast", **config_sections(parse_openface_args(["-fx", "600"]), everything_by_default=False))


_OWN = st.sampled_from(["clip.avi", "--quiet", "--frames", "7", "-o", "out", "--config", "fast"])
_OF = st.sampled_from([["-aus"], ["-2Dfp"], ["-fx", "500"], ["-of", "name"], ["-f", "x.avi"], ["-au_static"],
                       ["-wild"], ["-verbose"], ["-simsize", "100"], ["-fdir", "frames"]])


@given(st.lists(st.one_of(_OWN.map(lambda t: ("own", [t])), _OF.map(lambda t: ("of", t))), max_size=12))
def test_run_arguments_split_back_into_its_own_and_openfaces(items):
    argv = [tok for _, toks in items for tok in toks]
    own, of = split_openface_tokens(argv)
    assert own == [tok for kind, toks in items if kind == "own" for tok in toks]
    assert of == [tok for kind, toks in items if kind == "of" for tok in toks]
    parse_openface_args(of)  # what was split off is a valid OpenFace command line


@given(st.permutations([["-aus"], ["-pose"], ["-fx", "500"], ["-fy", "500"], ["-simscale", "0.8"], ["-au_static"],
                        ["-nobadaligned"], ["-mloc", "model/main_clnf_general.txt"]]))
def test_flag_order_does_not_change_the_config(groups):
    tokens = [tok for group in groups for tok in group]
    assert config_sections(parse_openface_args(tokens), everything_by_default=True) == config_sections(
        parse_openface_args(["-aus", "-pose", "-fx", "500", "-fy", "500", "-simscale", "0.8", "-au_static",
                             "-nobadaligned", "-mloc", "model/main_clnf_general.txt"]), everything_by_default=True)


def _cli(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "aubench.cli", *map(str, args)], capture_output=True, text=True,
                          cwd=cwd)


@pytest.mark.slow
def test_featureextraction_spelling_is_aubench_run(tmp_path):
    """The same flags through both spellings write the same bytes; the selectors pick the CSV's blocks."""
    video = MEDIA / "default.wmv"
    a = _cli("FeatureExtraction", "-f", video, "-out_dir", tmp_path / "a", "-2Dfp", "-aus", "-au_static",
             "--frames", 4, "--quiet")
    b = _cli("run", video, "-o", tmp_path / "b", "-2Dfp", "-aus", "-au_static", "--frames", 4, "--quiet")
    assert a.returncode == 0 and b.returncode == 0, a.stderr + b.stderr
    csv_a, csv_b = (tmp_path / "a" / "default.csv").read_bytes(), (tmp_path / "b" / "default.csv").read_bytes()
    assert csv_a == csv_b
    header = csv_a.decode().splitlines()[0].split(",")
    assert header[:5] == ["frame", "face_id", "timestamp", "confidence", "success"]
    assert header[5] == "x_0" and header[5 + 136] == "AU01_r" and len(header) == 5 + 136 + 17 + 18
    assert sorted(p.name for p in (tmp_path / "a").iterdir()) == ["default.csv", "default_of_details.txt"]


def test_openface_spelling_errors_are_one_line(tmp_path):
    proc = _cli("FaceLandmarkImg", "-f", MEDIA / "default.wmv", "-out_dir", tmp_path)
    assert proc.returncode == 2 and len(proc.stderr.strip().splitlines()) == 1
    assert "FaceLandmarkImg reads images" in proc.stderr
    proc = _cli("FeatureExtraction", "-out_dir", tmp_path)
    assert proc.returncode == 2 and "needs -f FILE" in proc.stderr
    proc = _cli("FeatureExtraction")
    assert proc.returncode == 0 and "usage: aubench FeatureExtraction" in proc.stdout


@pytest.mark.slow
def test_of_names_the_outputs_and_its_folder_joins_out_dir(tmp_path):
    """RecorderOpenFace: -of's folder part goes under -out_dir and its stem names every output."""
    proc = _cli("FeatureExtraction", "-f", MEDIA / "default.wmv", "-out_dir", tmp_path, "-of", "sub/named.csv",
                "-2Dfp", "-tracked", "--frames", 3, "--quiet")
    assert proc.returncode == 0, proc.stderr
    assert sorted(p.name for p in (tmp_path / "sub").iterdir()) == ["named.avi", "named.csv", "named_of_details.txt"]
    proc = _cli("run", MEDIA / "default.wmv", MEDIA / "sample1.jpg", "-o", tmp_path, "-of", "x", "--quiet")
    assert proc.returncode == 2 and "names the output of one input, but 2 were given" in proc.stderr


@pytest.mark.slow
def test_facelandmarkvidmulti_and_facelandmarkimg_spellings(tmp_path):
    """FaceLandmarkVidMulti is `aubench run --multi-face`; FaceLandmarkImg -fdir runs each image of the folder."""
    clip = MEDIA / "multi_face.avi"
    a = _cli("FaceLandmarkVidMulti", "-f", clip, "-out_dir", tmp_path / "a", "-2Dfp", "-aus", "--frames", 10, "--quiet")
    b = _cli("run", clip, "--multi-face", "-o", tmp_path / "b", "-2Dfp", "-aus", "--frames", 10, "--quiet")
    assert a.returncode == 0 and b.returncode == 0, a.stderr + b.stderr
    csv = (tmp_path / "a" / "multi_face.csv").read_bytes()
    assert csv == (tmp_path / "b" / "multi_face.csv").read_bytes()
    rows = csv.decode().splitlines()
    assert rows[0].startswith("frame,face_id,timestamp,confidence,success,x_0")
    assert {r.split(",")[1] for r in rows[1:]} == {"0", "1", "2"}  # three people tracked from frame 1
    photos = tmp_path / "photos"
    photos.mkdir()
    for name in ("sample1.jpg", "sample6.jpg"):
        (photos / name).write_bytes((MEDIA / name).read_bytes())
    c = _cli("FaceLandmarkImg", "-fdir", photos, "-out_dir", tmp_path / "c", "-aus", "--quiet")
    assert c.returncode == 0, c.stderr
    faces = {p.stem: len(p.read_text().splitlines()) - 1 for p in (tmp_path / "c").glob("*.csv")}
    assert faces == {"sample1": 1, "sample6": 12}
    assert (tmp_path / "c" / "sample6.csv").read_text().startswith("face,confidence,AU01_r")

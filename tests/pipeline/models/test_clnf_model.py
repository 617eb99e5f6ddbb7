"""CLNF model-list reader (main_clnf_general.txt and the part lists)."""

from __future__ import annotations

import pytest

from aubench.pipeline.errors import ModelFormatError
from aubench.pipeline.models.clnf_model import read_clnf_list, read_main_model

from ...conftest import MODELS

MAIN = MODELS / "model" / "main_clnf_general.txt"


def test_main_model():
    spec = read_main_model(MAIN)
    assert spec.main.pdm.name == "In-the-wild_aligned_PDM_68.txt" and spec.main.pdm.is_file()
    assert [p.name for p in spec.main.ccnf_patches] == [
        "ccnf_patches_0.25_general.txt", "ccnf_patches_0.35_general.txt", "ccnf_patches_0.5_general.txt"]
    assert spec.validator is not None and spec.validator.name == "validator_cnn.txt" and spec.validator.is_file()
    names = [p.name for p in spec.parts]
    assert names == ["inner", "left_eye_28", "right_eye_28"]
    inner, left, right = spec.parts
    assert len(inner.mapping) == 51 and inner.mapping[0] == (17, 0) and inner.mapping[-1] == (67, 50)
    assert left.mapping == ((36, 8), (37, 10), (38, 12), (39, 14), (40, 16), (41, 18))
    assert right.mapping[0] == (42, 8)
    assert inner.files.pdm.name == "pdm_51_inner.txt" and inner.files.pdm.is_file()
    assert [p.name for p in left.files.ccnf_patches] == [
        "left_ccnf_patches_1.00_synth_lid_.txt", "left_ccnf_patches_1.50_synth_lid_.txt"]
    assert all(p.is_file() for part in spec.parts for p in part.files.ccnf_patches)


def test_missing_list(tmp_path):
    with pytest.raises(ModelFormatError, match="no such file"):
        read_main_model(tmp_path / "main.txt")


def test_list_without_pdm(tmp_path):
    (tmp_path / "clnf.txt").write_text("PatchesCCNF a.txt\n")
    with pytest.raises(ModelFormatError, match="PDM"):
        read_clnf_list(tmp_path / "clnf.txt")


def test_odd_part_mapping(tmp_path):
    (tmp_path / "main.txt").write_text("LandmarkDetector clnf.txt\nLandmarkDetector_part p.txt eye 1 2 3\n")
    (tmp_path / "clnf.txt").write_text("PDM pdm.txt\nPatchesCCNF a.txt\n")
    with pytest.raises(ModelFormatError, match="LandmarkDetector_part"):
        read_main_model(tmp_path / "main.txt")


def test_cen_model_is_refused():
    with pytest.raises(ModelFormatError, match="CCNF"):
        read_clnf_list(MODELS / "model" / "cen_general.txt")

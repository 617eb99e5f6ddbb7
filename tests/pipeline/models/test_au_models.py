"""AU predictor readers against OpenFace's AU_predictors/ files, and fuzzed damaged copies."""

from __future__ import annotations

import shutil
import struct

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from aubench.pipeline.errors import ModelFormatError
from aubench.pipeline.models.au_models import read_au_model_list, read_au_models, read_au_predictor, read_main_au_file

from ...conftest import MODELS

AU = MODELS / "AU_predictors"
DYN_SVR = AU / "svr_combined" / "AU_1_dynamic_intensity_comb.dat"
SVM = AU / "svm_combined" / "AU_12_static.dat"


@pytest.fixture(scope="module")
def dynamic():
    return read_au_models(AU / "main_dynamic_svms.txt")


def test_dynamic_model_set(dynamic):
    assert dynamic.svr_static.names == ("AU04", "AU06", "AU07", "AU10", "AU12", "AU14")
    assert dynamic.svr_dynamic.names == ("AU01", "AU02", "AU05", "AU09", "AU15", "AU17", "AU20", "AU23",
                                         "AU25", "AU26", "AU45")
    assert dynamic.svm_static.names == ("AU04", "AU05", "AU06", "AU07", "AU10", "AU12", "AU14", "AU23")
    assert dynamic.svm_dynamic.names == ("AU01", "AU02", "AU09", "AU15", "AU17", "AU20", "AU25", "AU26",
                                         "AU28", "AU45")
    assert len(dynamic.intensity_names) == 17 and len(dynamic.occurrence_names) == 18
    for g, k in ((dynamic.svr_static, 6), (dynamic.svr_dynamic, 11), (dynamic.svm_static, 8), (dynamic.svm_dynamic, 10)):
        assert g.support_vectors.shape == (4702, k) and g.means.shape == (4702,) and g.biases.shape == (k,)
        assert not g.support_vectors.flags.writeable
    assert dynamic.n_features == 4702 and dynamic.has_dynamic
    assert dynamic.svr_dynamic.cutoffs.tolist() == pytest.approx([0.55, 0.75, 0.8, 0.7, 0.55, 0.2, 0.65, 0.65, 0.3, 0.3, 0.6])
    assert dynamic.intensity_cutoffs["AU04"] == -1.0 and dynamic.intensity_cutoffs["AU25"] == pytest.approx(0.3)
    assert dynamic.pdm_path.name == "In-the-wild_aligned_PDM_68.txt"
    assert dynamic.triangulation_path.name == "tris_68_full.txt"


def test_static_model_set():
    static = read_au_models(AU / "main_static_svms.txt")
    assert len(static.svr_static) == 17 and len(static.svm_static) == 18
    assert len(static.svr_dynamic) == 0 and len(static.svm_dynamic) == 0 and not static.has_dynamic
    assert static.intensity_names == tuple(sorted(static.intensity_names))


def test_single_files():
    svr = read_au_predictor(DYN_SVR, "AU01")
    assert svr.kind == "svr_dynamic" and svr.dynamic and not svr.classifier
    assert svr.cutoff == pytest.approx(0.55) and svr.means.shape == svr.support_vector.shape == (4702,)
    assert np.isnan(svr.pos_class)
    svm = read_au_predictor(SVM, "AU12")
    assert svm.kind == "svm_static" and svm.classifier and (svm.pos_class, svm.neg_class) == (1.0, 0.0)
    # the C++ keeps the first file's means for a whole type; in OpenFace's files only the
    # unused AU_1_static_intensity.dat has other means
    other = read_au_predictor(AU / "svr_combined" / "AU_1_static_intensity.dat", "AU01")
    first = read_au_predictor(AU / "svr_combined" / "AU_4_static_intensity_comb.dat", "AU04")
    assert np.abs(other.means - first.means).max() > 0.01


def test_lists():
    entries = read_au_model_list(AU / "AU_all_best.txt")
    assert len(entries) == 35 and entries[0] == (AU / "svm_combined" / "AU_1_dynamic.dat", "AU01")
    modules = read_main_au_file(AU / "main_dynamic_svms.txt")
    assert modules["AUPredictor"] == AU / "AU_all_best.txt"


def _copy_tree(tmp_path):
    root = tmp_path / "AU_predictors"
    shutil.copytree(AU, root, ignore=shutil.ignore_patterns("*disfa*", "*DISFA*"))
    return root


def test_missing_and_malformed_lists(tmp_path):
    with pytest.raises(ModelFormatError, match="no such file"):
        read_au_models(tmp_path / "main.txt")
    (tmp_path / "main.txt").write_text("AUPredictor list.txt\nPDM pdm.txt\n")
    with pytest.raises(ModelFormatError, match="Triangulation"):
        read_au_models(tmp_path / "main.txt")
    (tmp_path / "list.txt").write_text("svr/AU_1.dat AU01,AU02\n")
    with pytest.raises(ModelFormatError, match="one AU name"):
        read_au_model_list(tmp_path / "list.txt")
    (tmp_path / "list.txt").write_text("../outside.dat AU01\n")
    with pytest.raises(ModelFormatError, match="relative"):
        read_au_model_list(tmp_path / "list.txt")


def test_duplicate_au_is_refused(tmp_path):
    root = _copy_tree(tmp_path)
    lst = root / "AU_all_best.txt"
    lst.write_text(lst.read_text() + "\nsvr_combined/AU_4_static_intensity_comb.dat AU04\n")
    with pytest.raises(ModelFormatError, match="AU04 twice"):
        read_au_models(root / "main_dynamic_svms.txt")


def test_truncated_and_extended_files(tmp_path):
    data = DYN_SVR.read_bytes()
    for cut in (0, 3, 4, 11, 100, len(data) - 1):
        p = tmp_path / f"cut{cut}.dat"
        p.write_bytes(data[:cut])
        with pytest.raises(ModelFormatError, match="truncated|end of file"):
            read_au_predictor(p, "AU01")
    p = tmp_path / "long.dat"
    p.write_bytes(data + b"\0")
    with pytest.raises(ModelFormatError, match="1 more bytes"):
        read_au_predictor(p, "AU01")
    p.write_bytes(struct.pack("<i", 7) + data[4:])
    with pytest.raises(ModelFormatError, match="regressor type"):
        read_au_predictor(p, "AU01")
    p.write_bytes(data[:4] + struct.pack("<d", 1.5) + data[12:])
    with pytest.raises(ModelFormatError, match="cutoff"):
        read_au_predictor(p, "AU01")


_SVR_BYTES = DYN_SVR.read_bytes()


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(edits=st.lists(st.tuples(st.integers(0, len(_SVR_BYTES) - 1), st.integers(0, 255)), min_size=1, max_size=6),
       cut=st.one_of(st.none(), st.integers(0, len(_SVR_BYTES))))
def test_fuzzed_predictor_gives_model_or_model_format_error(tmp_path_factory, edits, cut):
    data = bytearray(_SVR_BYTES)
    # bias the edits toward the headers, where damage changes the structure
    for pos, value in edits:
        data[pos % 64 if pos % 3 == 0 else pos] = value
    if cut is not None:
        data = data[:cut]
    path = tmp_path_factory.mktemp("fuzz") / "AU.dat"
    path.write_bytes(bytes(data))
    try:
        model = read_au_predictor(path, "AU01")
    except ModelFormatError as exc:
        assert str(path) in str(exc) and "\n" not in str(exc)
    else:
        assert model.means.shape == model.support_vector.shape
        assert np.all(np.isfinite(model.means)) and np.isfinite(model.bias)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=st.binary(max_size=200))
def test_fuzzed_lists_give_entries_or_model_format_error(tmp_path_factory, text):
    d = tmp_path_factory.mktemp("lists")
    for name, reader in (("list.txt", read_au_model_list), ("main.txt", read_main_au_file)):
        path = d / name
        path.write_bytes(text)
        try:
            reader(path)
        except ModelFormatError as exc:
            assert "\n" not in str(exc)

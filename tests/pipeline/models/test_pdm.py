"""PDM reader on the real OpenFace PDMs, and on damaged copies."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from aubench.pipeline.errors import ModelFormatError
from aubench.pipeline.models.pdm import read_pdm

PDMS = {
    "pdms/In-the-wild_aligned_PDM_68.txt": (68, 34),
    "model_inner/pdms/pdm_51_inner.txt": (51, 32),
    "model_eye/pdms/pdm_28_l_eye_3D_closed.txt": (28, 10),
    "model_eye/pdms/pdm_28_eye_3D_closed.txt": (28, 10),
}


@pytest.mark.parametrize("rel, sizes", sorted(PDMS.items()))
def test_real_pdms_have_openface_shapes(models_dir, rel, sizes):
    pdm = read_pdm(models_dir / "model" / rel)
    n, m = sizes
    assert (pdm.n_points, pdm.n_modes) == (n, m)
    assert pdm.mean_shape.shape == (3 * n,) and pdm.mean_shape.dtype == np.float32
    assert pdm.princ_comp.shape == (3 * n, m) and pdm.princ_comp.dtype == np.float32
    assert pdm.eigen_values.shape == (m,) and np.all(pdm.eigen_values > 0)
    assert not pdm.mean_shape.flags.writeable


def test_first_values_of_the_68_point_pdm(models_dir):
    pdm = read_pdm(models_dir / "model/pdms/In-the-wild_aligned_PDM_68.txt")
    assert pdm.mean_shape[0] == np.float32(-73.393523)
    assert pdm.eigen_values[0] == np.float32(826.213804)


def test_truncated_pdm_raises(models_dir, tmp_path):
    text = (models_dir / "model/pdms/In-the-wild_aligned_PDM_68.txt").read_text()
    path = tmp_path / "pdm.txt"
    path.write_text(text[: len(text) // 2])
    with pytest.raises(ModelFormatError, match="end of file"):
        read_pdm(path)


def test_inconsistent_shapes_raise(tmp_path):
    path = tmp_path / "pdm.txt"
    path.write_text("6 1 6 1 2 3 4 5 6\n5 1 6 1 1 1 1 1\n1 1 6 1\n")
    with pytest.raises(ModelFormatError, match=r"\(6, m\) principal component"):
        read_pdm(path)
    path.write_text("6 1 6 1 2 3 4 5 6\n6 1 6 1 1 1 1 1 1\n1 1 6 -1\n")
    with pytest.raises(ModelFormatError, match="positive eigenvalues"):
        read_pdm(path)


@settings(max_examples=40, deadline=None)
@given(st.data())
def test_corrupted_pdm_raises_only_model_format_error(models_dir, tmp_path_factory, data):
    text = (models_dir / "model/model_eye/pdms/pdm_28_eye_3D_closed.txt").read_text()
    pos = data.draw(st.integers(0, len(text) - 1))
    junk = data.draw(st.text(alphabet="0123456789-.e# \nx", max_size=8))
    cut = data.draw(st.integers(0, 20))
    path = tmp_path_factory.mktemp("pdm") / "pdm.txt"
    path.write_text(text[:pos] + junk + text[pos + cut:])
    try:
        read_pdm(path)
    except ModelFormatError:
        pass

"""Triangulation readers on OpenFace's files, round trips and damaged copies."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from aubench.pipeline.errors import ModelFormatError
from aubench.pipeline.models.triangulation import read_triangulation, read_view_triangulations


def test_face_mask_mesh(models_dir):
    tris = read_triangulation(models_dir / "AU_predictors" / "tris_68_full.txt")
    assert tris.shape == (111, 3) and tris.dtype == np.int32
    assert tris[0].tolist() == [58, 67, 59] and tris[-1].tolist() == [64, 65, 63]
    assert set(np.unique(tris)) == set(range(68))  # every landmark is a vertex
    assert not tris.flags.writeable
    # the same file sits beside the landmark model
    np.testing.assert_array_equal(tris, read_triangulation(models_dir / "model" / "tris_68_full.txt"))


def test_per_view_meshes(models_dir):
    views = read_view_triangulations(models_dir / "model" / "tris_68.txt")
    assert [v.shape[0] for v in views] == [97, 97, 82, 31, 97, 82, 31]
    assert all(v.shape[1] == 3 and v.dtype == np.int32 for v in views)
    # the frontal view's mesh is the face mask mesh without the forehead-to-jaw triangles
    full = {tuple(t) for t in read_triangulation(models_dir / "AU_predictors" / "tris_68_full.txt").tolist()}
    assert {tuple(t) for t in views[0].tolist()} <= full


def _text(tris: np.ndarray) -> str:
    rows = "\n".join(" ".join(str(int(v)) for v in row) + " " for row in tris)
    return f"{tris.shape[0]}\n3\n4\n{rows}\n"


@settings(max_examples=40, deadline=None)
@given(hnp.arrays(np.int32, st.tuples(st.integers(1, 30), st.just(3)), elements=st.integers(0, 67)),
       st.integers(1, 4))
def test_round_trip(tmp_path_factory, tris, views):
    folder = tmp_path_factory.mktemp("tris")
    single = folder / "tris_full.txt"
    single.write_text(_text(tris))
    np.testing.assert_array_equal(read_triangulation(single), tris)
    multi = folder / "tris.txt"
    multi.write_text("# Number of triangulations\n" + f"{views}\n"
                     + "".join(f"# Triangulation {k + 1}\n# triangulation \n" + _text(tris) for k in range(views)))
    out = read_view_triangulations(multi)
    assert len(out) == views and all(np.array_equal(t, tris) for t in out)


@pytest.mark.parametrize("text, fragment", [
    ("2\n3\n4\n0 1 2\n3 4 70\n", "indices in [0, 68)"),
    ("2\n3\n4\n0 1 2\n3 -1 5\n", "indices in [0, 68)"),
    ("2\n3\n6\n0 1 2\n3 4 5\n", "int (type code 4)"),
    ("2\n2\n4\n0 1\n2 3\n", "(t, 3)"),
    ("2\n3\n4\n0 1 2\n3 4\n", "end of file"),
    ("0\n3\n4\n", "t > 0"),
])
def test_damaged_single_file(tmp_path, text, fragment):
    path = tmp_path / "tris.txt"
    path.write_text(text)
    with pytest.raises(ModelFormatError) as err:
        read_triangulation(path)
    assert fragment in str(err.value) and str(path) in str(err.value) and "\n" not in str(err.value)


def test_index_bound_follows_the_model(tmp_path):
    path = tmp_path / "tris.txt"
    path.write_text("1\n3\n4\n0 30 50\n")
    assert read_triangulation(path, n_points=None).tolist() == [[0, 30, 50]]
    with pytest.raises(ModelFormatError, match=r"\[0, 28\)"):
        read_triangulation(path, n_points=28)


def test_damaged_view_file(models_dir, tmp_path):
    path = tmp_path / "tris.txt"
    path.write_text("# Number of triangulations\n0\n")
    with pytest.raises(ModelFormatError, match="number of triangulations"):
        read_view_triangulations(path)
    text = (models_dir / "model" / "tris_68.txt").read_text()
    path.write_text(text[: len(text) // 2])
    with pytest.raises(ModelFormatError, match="end of file"):
        read_view_triangulations(path)
    # a single-matrix file is not a per-view file
    with pytest.raises(ModelFormatError):
        read_view_triangulations(models_dir / "AU_predictors" / "tris_68_full.txt")

"""The image-mode spread measurement: its comparison of two output folders."""

from __future__ import annotations

import shutil

from experiments import image_spread
from tests.conftest import REFERENCE


def test_a_folder_against_itself_differs_nowhere():
    rows = image_spread.compare(REFERENCE / "images", REFERENCE / "images")
    assert list(rows) == list(image_spread.IMAGES)
    assert rows["sample6"]["faces"] == [12, 12]
    for row in rows.values():
        assert row["occurrence_agreement"] == 1.0
        assert all(v == 0.0 for k, v in row.items() if isinstance(v, float) and k != "occurrence_agreement")


def test_a_changed_cell_is_found_beyond_the_rounding(tmp_path):
    for stem in image_spread.IMAGES:
        shutil.copy(REFERENCE / "images" / f"{stem}.csv", tmp_path / f"{stem}.csv")
    path = tmp_path / "sample1.csv"
    header, row = path.read_text().splitlines()
    cells = row.split(",")
    cells[header.split(",").index("x_0")] = f"{float(cells[header.split(',').index('x_0')]) + 0.5:.1f}"
    path.write_text(header + "\n" + ",".join(cells) + "\n")
    got = image_spread.compare(tmp_path, REFERENCE / "images")["sample1"]
    assert abs(got["landmarks_px"] - 0.5) < 1e-9 and abs(got["landmarks_px_beyond_rounding"] - 0.4) < 1e-9
    assert abs(got["landmarks_max_px"] - 0.5) < 1e-9
    assert got["au_intensity"] == 0.0

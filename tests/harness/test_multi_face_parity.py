"""The multi-face parity figures on C++'s own CSV (against itself, and with rows removed or moved)."""

from __future__ import annotations

import pytest

from aubench.harness.multi_face_parity import compare_multi, format_table, reference_csv
from aubench.pipeline.errors import InputError


def test_reference_against_itself():
    fig = compare_multi(reference_csv(), reference_csv())
    assert fig["rows"] == {"matched": 2119, "only_reference": 0, "only_ours": 0, "ours": 2119, "reference": 2119}
    assert fig["frames"]["face_ids_differ"] == 0 and fig["frames"]["first_differing"] is None
    assert fig["landmarks"]["error_max_px"] == 0.0 and fig["success_agreement"] == 1.0
    assert fig["au"]["intensity_mae_max"] == 0.0 and fig["au"]["occurrence_agreement_min"] == 1.0
    assert "2119 matched, 0 only in C++, 0 only in ours" in format_table(fig)


def test_rows_missing_or_in_another_slot(tmp_path):
    lines = reference_csv().read_text().splitlines()
    # frame 3: drop face 2's row and give face 1's row face_id 3
    edited = []
    for line in lines:
        cells = line.split(",")
        if cells[0] == "3" and cells[1] == "2":
            continue
        if cells[0] == "3" and cells[1] == "1":
            cells[1] = "3"
        edited.append(",".join(cells))
    ours = tmp_path / "ours.csv"
    ours.write_text("\n".join(edited) + "\n")
    fig = compare_multi(ours, reference_csv(), frames=10)
    assert fig["rows"]["only_reference"] == 2 and fig["rows"]["only_ours"] == 1 and fig["rows"]["matched"] == 28
    assert fig["frames"] == {"with_rows": 10, "face_ids_differ": 1, "first_differing": 3}


def test_no_common_row(tmp_path):
    ours = tmp_path / "ours.csv"
    header, first = reference_csv().read_text().splitlines()[:2]
    ours.write_text(header + "\n" + "9999" + first[first.index(","):] + "\n")  # a frame C++ never had
    with pytest.raises(InputError, match="no \\(frame, face_id\\) row in common"):
        compare_multi(ours, reference_csv())

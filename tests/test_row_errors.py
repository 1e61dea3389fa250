"""geo.row_errors: refused rows grouped by field and kind of reason."""
from __future__ import annotations

from geo.incidents import RowError
from geo.row_errors import SHOWN_ROWS, group_row_errors


def test_vocabulary_fields_group_per_value_and_others_per_kind_of_reason():
    errors = [RowError(r, "category", "trộm chó", "not a known offence name; closest known: Trộm cắp tài sản")
              for r in (9, 2, 7)]
    errors += [RowError(4, "category", "đá dế", "not a known offence name; closest known: Đánh bạc")]
    errors += [RowError(r, "lon/lat", "106.7, 10.78", f"outside the province: {km} km from Xã A")
               for r, km in ((3, "12.5"), (5, "40.1"))]
    errors += [RowError(6, "id", "CA-1", "id already used on row 1"), RowError(8, "id", "CA-2", "id already used on row 2")]
    groups = group_row_errors(errors)
    assert [(g.field, g.value, g.n_rows) for g in groups] == [
        ("category", "trộm chó", 3), ("lon/lat", "106.7, 10.78", 2), ("id", None, 2), ("category", "đá dế", 1)]
    assert groups[0].rows == (2, 7, 9) and groups[0].same_reason
    assert groups[0].line() == ("3 rows: category 'trộm chó': not a known offence name; closest known: Trộm cắp tài "
                                "sản — rows 2, 7, 9")
    assert not groups[1].same_reason and groups[1].line().startswith(
        "2 rows: lon/lat '106.7, 10.78': outside the province: 12.5 km from Xã A (and similar) — rows 3, 5")
    assert groups[3].line().endswith("— row 4")


def test_a_large_group_shows_its_first_rows_and_counts_each_row_once():
    errors = [RowError(r, "occurred_at", f"31/02/{2000 + r % 20}", "expected a date") for r in range(1, 1001)]
    errors += [RowError(1, "occurred_at", "31/02/2001", "expected a date")]  # the same row twice
    (group,) = group_row_errors(errors)
    assert group.n_rows == 1000 and group.value is None
    assert group.shown_rows == tuple(range(1, SHOWN_ROWS + 1))
    assert group.line() == ("1,000 rows: occurred_at: expected a date — rows "
                            + ", ".join(str(r) for r in range(1, 21)) + ", … (first 20)")


def test_no_errors_no_groups():
    assert group_row_errors([]) == []

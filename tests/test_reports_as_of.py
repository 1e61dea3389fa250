"""Reports as of their period: statuses and thresholds in force at the period's end, so a report regenerated
after a later change gives the same figures (generate, change today, regenerate, compare)."""
from datetime import date, datetime

import pytest

from geo.periods import parse_period, status_on
from tests.report_data import seed_incidents
from tests.tracker_helpers import PLANNER, SA_RAI, make_area


@pytest.fixture
def seeded(app):
    return seed_incidents(app)


def _figures(app, period_code: str):
    from reports.content import build_report

    with app.extensions["db"].transaction() as session:
        report = build_report(session, PLANNER, parse_period(period_code))
    return [(t.title, t.rows) for t in report.all_tables()], report


def _backdate_everything(app):
    """Make every stored change look as if it was recorded long ago (before the period ended)."""
    from sqlalchemy import text

    with app.extensions["db"].engine.begin() as conn:
        for table, column in (("key_area_events", "recorded_at"), ("commune_drug_status", "updated_at"),
                              ("plan_targets", "updated_at")):
            conn.execute(text(f"UPDATE {table} SET {column} = :at"), {"at": datetime(2024, 6, 1)})
        # The audit table refuses updates (append-only); the test's database is its own copy.
        if conn.dialect.name == "postgresql":
            conn.execute(text("ALTER TABLE audit_log DISABLE TRIGGER USER"))
        else:
            conn.execute(text("DROP TRIGGER IF EXISTS audit_log_no_update"))
        conn.execute(text("UPDATE audit_log SET at = :at"), {"at": datetime(2024, 6, 1)})


def test_status_in_force_on_a_day_from_a_timeline():
    events = [(1, date(2024, 3, 1), 1, "selected"), (1, date(2024, 6, 1), 2, "converting"),
              (1, date(2024, 12, 20), 3, "achieved"), (2, date(2025, 1, 5), 4, "selected")]
    assert status_on(events, date(2024, 11, 30)) == {1: "converting"}
    assert status_on(events, date(2025, 2, 1)) == {1: "achieved", 2: "selected"}
    same_day = [(1, date(2024, 3, 1), 7, "converting"), (1, date(2024, 3, 1), 5, "selected")]
    assert status_on(same_day, date(2024, 3, 1)) == {1: "converting"}  # ties: the later step


def test_regenerated_report_keeps_the_figures_of_its_period(app, seeded):
    from store import drug_status as ds
    from store import key_areas as ka
    from store.targets import update_target

    db = app.extensions["db"]
    area = make_area(db, status_path=("converting",))
    with db.transaction() as session:
        ds.record_drug_status(session, PLANNER, commune_code=SA_RAI, year=2023, indicators={"residents": 5000})
        ds.record_drug_status(session, PLANNER, commune_code=SA_RAI, year=2024, indicators={"residents": 5000},
                              assessed_on="2024-06-01")
    _backdate_everything(app)
    before, first = _figures(app, "2024")
    key_area_rows = next(rows for title, rows in before if title.startswith("Địa bàn trọng điểm"))
    assert [r[4] for r in key_area_rows] == ["Đang chuyển hóa"]

    today = date.today()
    with db.transaction() as session:
        row = session.get(ka.KeyArea, area)
        ka.transition_key_area(session, PLANNER, area, expected_version=row.version, to_status="achieved",
                               event_date=today, reason="Đạt", document_number="9/BC")
        record = next(r for r in ds.drug_status_rows(session, PLANNER, year=2024))
        ds.record_drug_status(session, PLANNER, commune_code=SA_RAI, year=2024, expected_version=record.version,
                              indicators={"residents": 5000, "addicts": 150}, assessed_on="2024-06-01",
                              reason="sửa số liệu")
        update_target(session, "admin", 2024, "clearance", threshold=0.9, reason="đổi chỉ tiêu")
    after, second = _figures(app, "2024")
    assert after == before  # every table: targets, crime, key areas
    assert second.data_version > first.data_version  # the footer names the data it was computed from

    # The page shows today's state, so the change did happen.
    from store.targets import targets_for_year

    with db.transaction() as session:
        assert session.get(ka.KeyArea, area).status == "achieved"
        assert targets_for_year(session, 2024).target_set.spec("clearance").threshold == 0.9
        assert next(iter(ds.drug_status_rows(session, PLANNER, year=2024))).status != "drug_free"
    # A report of a later period sees the change.
    later, _ = _figures(app, f"{today.year}-CY") if today.year > 2024 else (None, None)
    if later is not None:
        assert later != before


def _import_statuses(app, statuses: dict[str, str]):
    """Re-import some seeded incidents with another case status (as a corrected file would)."""
    import pandas as pd
    from sqlalchemy import select

    from store.incidents import STORED_COLUMNS, upsert_incidents
    from store.models import Incident

    with app.extensions["db"].transaction() as session:
        rows = session.execute(select(*(getattr(Incident, c) for c in STORED_COLUMNS)).where(
            Incident.id.in_(list(statuses)))).all()
        frame = pd.DataFrame(rows, columns=STORED_COLUMNS)
        frame["case_status"] = frame["id"].map(statuses)
        return upsert_incidents(session, frame, filename="sua-trang-thai.csv", username="tests")


def _history(app):
    from sqlalchemy import text

    with app.extensions["db"].engine.connect() as conn:
        return conn.execute(text("SELECT incident_id, case_status FROM incident_status_history "
                                 "ORDER BY incident_id, id")).all()


def test_imports_keep_a_case_status_history_written_only_on_change(app, seeded):
    first = _history(app)
    assert len(first) == seeded["total"]  # one row per case when first imported
    assert dict(first)["T-007"] == "prosecuted"
    _import_statuses(app, {"T-007": "prosecuted"})  # same status again: nothing new
    assert _history(app) == first
    _import_statuses(app, {"T-007": "cleared", "T-010": "prosecuted"})
    added = [r for r in _history(app) if r not in first]
    assert sorted(map(tuple, added)) == [("T-007", "cleared"), ("T-010", "prosecuted")]


def test_regenerated_report_counts_cases_cleared_after_the_period_as_they_stood_then(app, seeded):
    """Generate the 2024 report, clear a case today (by import), regenerate: same clearance figures; the
    targets page (today's state) does see the case cleared."""
    from sqlalchemy import text

    from store.targets import measure

    _backdate_everything(app)
    with app.extensions["db"].engine.begin() as conn:  # the cases were recorded in mid-2024
        conn.execute(text("UPDATE incident_status_history SET recorded_at = :at"), {"at": datetime(2024, 7, 2)})
    before, first = _figures(app, "2024")
    clearance_before = next(r for r in first.sections[0].tables[0].rows if r[1].startswith("Tỷ lệ điều tra khám phá"))
    assert (clearance_before[4], clearance_before[5]) == (5, 7)  # T-007 prosecuted, T-010 received: not cleared

    batch = _import_statuses(app, {"T-007": "cleared", "T-010": "cleared"})  # cleared in 2026
    assert batch.written == 2
    after, second = _figures(app, "2024")
    assert after == before  # targets, crime by category (cleared column) and by district
    assert second.data_version > first.data_version  # the footer names the data it was computed from

    with app.extensions["db"].transaction() as session:
        today = measure(session, None, parse_period("2024")).result("clearance")
        then = measure(session, None, parse_period("2024"), as_of_period_end=True).result("clearance")
    assert (today.numerator, today.denominator) == (7, 7)
    assert (then.numerator, then.denominator) == (5, 7)


def test_a_case_first_recorded_after_the_period_counts_with_its_first_known_status(app, seeded):
    """History imported long after the period: the first status recorded stands for the period's end, and a
    later correction does not rewrite it."""
    _before, first = _figures(app, "2024")  # every status recorded today, after the period
    _import_statuses(app, {"T-007": "cleared"})
    _after, second = _figures(app, "2024")
    pick = lambda report: next(r for r in report.sections[0].tables[0].rows  # noqa: E731
                               if r[1].startswith("Tỷ lệ điều tra khám phá"))
    assert (pick(first)[4], pick(first)[5]) == (pick(second)[4], pick(second)[5]) == (5, 7)

"""The incident store: bulk upsert path, atomicity, redaction."""
from __future__ import annotations

import pandas as pd
import pytest
from sqlalchemy import text

import store.incidents as store_incidents
from store.incidents import incident_frame, redact_sensitive, upsert_incidents


def _frame(n, *, start=0, status="received"):
    return pd.DataFrame({
        "id": [f"T-{i:05d}" for i in range(start, start + n)][::-1],
        "occurred_at": pd.date_range("2024-01-01", periods=n, freq="h"),
        "reported_at": pd.NaT, "category": "theft", "severity": "less_serious", "case_status": status,
        "lon": 105.76, "lat": 10.296, "commune_code": "29863", "district_code": "866", "sensitive": False,
        "description": "", "article": "", "clause": "",
    })


def _indexes(session):
    return sorted(session.execute(text(
        "SELECT name FROM sqlite_master WHERE type='index' AND tbl_name='incidents' AND sql IS NOT NULL")).scalars())


@pytest.fixture
def bulk_threshold(monkeypatch):
    monkeypatch.setattr(store_incidents, "BULK_ROWS", 3)


def test_bulk_path_keeps_indexes_and_counts_writes(db, bulk_threshold):
    if not db.is_sqlite:
        pytest.skip("the index rebuild is SQLite's bulk path")
    with db.transaction() as session:
        before = _indexes(session)
        batch = upsert_incidents(session, _frame(10), filename="a.csv")
        assert batch.written == 10
    with db.transaction() as session:
        assert _indexes(session) == before
        assert session.execute(text("SELECT count(*) FROM incidents")).scalar() == 10
        again = upsert_incidents(session, _frame(10), filename="a.csv")
        assert again.written == 0


def test_failure_inside_the_transaction_leaves_nothing_and_restores_indexes(db, bulk_threshold):
    with db.transaction() as session:
        upsert_incidents(session, _frame(5), filename="first.csv")
        before = _indexes(session) if db.is_sqlite else None
    with pytest.raises(RuntimeError):
        with db.transaction() as session:
            upsert_incidents(session, _frame(20, start=100), filename="second.csv")
            raise RuntimeError("server killed")
    with db.transaction() as session:
        assert session.execute(text("SELECT count(*) FROM incidents")).scalar() == 5
        assert session.execute(text("SELECT count(*) FROM import_batches")).scalar() == 1
        if before is not None:
            assert _indexes(session) == before


def test_reads_back_dates_and_filters(db):
    with db.transaction() as session:
        upsert_incidents(session, _frame(30), filename="a.csv")
    with db.transaction() as session:
        frame = incident_frame(session, start=pd.Timestamp("2024-01-01 10:00"), end=pd.Timestamp("2024-01-01 20:00"))
    assert len(frame) == 10
    assert frame["occurred_at"].min() == pd.Timestamp("2024-01-01 10:00")


def test_redaction_hides_point_and_details_unless_cleared():
    frame = _frame(2)
    frame.loc[0, ["sensitive", "description"]] = [True, "Nạn nhân: Trần Thị B"]
    hidden = redact_sensitive(frame, viewer=None)
    assert hidden.loc[0, "redacted"] and pd.isna(hidden.loc[0, "lon"]) and hidden.loc[0, "description"] == ""
    assert not hidden.loc[1, "redacted"] and hidden.loc[1, "lon"] == 105.76
    cleared = redact_sensitive(frame, viewer=type("U", (), {"sensitive_clearance": True})())
    assert cleared.loc[0, "description"] == "Nạn nhân: Trần Thị B"

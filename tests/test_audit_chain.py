"""The audit trail is a SHA-256 chain: tampering with the database file is found, naming the first broken link."""
from __future__ import annotations

import threading

import pytest
from sqlalchemy import text


def _raw(db, *statements):
    """What someone holding the database file can do, past the application and its triggers."""
    with db.engine.begin() as conn:
        for statement in statements:
            if conn.dialect.name == "postgresql" and statement.startswith("DROP TRIGGER audit_log_no_"):
                # PostgreSQL guards the table with one trigger for updates and deletes.
                statement = "DROP TRIGGER IF EXISTS audit_log_append_only ON audit_log"
            elif conn.dialect.name == "postgresql" and statement.startswith("CREATE TRIGGER audit_log_no_"):
                statement = ("CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log "
                             "FOR EACH ROW EXECUTE FUNCTION audit_log_append_only()")
            conn.execute(text(statement))


def _add_rows(db, n):
    from store import audit

    for i in range(n):
        with db.transaction() as session:
            audit.record(session, username="planner", action="test.write", entity="thing", entity_id=i,
                         after={"n": i})


def _ids(db):
    with db.engine.connect() as conn:
        return [r[0] for r in conn.execute(text("SELECT id FROM audit_log ORDER BY id"))]


def test_an_untouched_trail_verifies(runner, db, login, client):
    _add_rows(db, 3)
    result = runner.invoke(args=["verify-audit"])
    assert result.exit_code == 0 and "intact" in result.output
    login("admin")
    page = client.get("/admin/audit-chain")
    assert page.status_code == 200 and "Nhật ký nguyên vẹn" in page.get_data(as_text=True)
    assert 'href="/admin/audit-chain"' in client.get("/admin/users").get_data(as_text=True)


@pytest.mark.parametrize("tamper", ["edit", "backdate_insert", "delete_middle", "delete_last", "drop_trigger"])
def test_tampering_is_found_and_the_first_broken_link_named(runner, db, login, client, tamper):
    _add_rows(db, 4)
    ids = _ids(db)
    target = ids[-3]
    if tamper == "edit":
        _raw(db, "DROP TRIGGER audit_log_no_update",
             f"UPDATE audit_log SET after = '{{\"n\": 99}}' WHERE id = {target}")
        expected = f"row {target}"
        expected_vi = f"dòng {target}"
    elif tamper == "backdate_insert":
        _raw(db, "INSERT INTO audit_log (at, username, action, entity, entity_id, before, after, reason, prev_hash, "
                 "row_hash) VALUES ('2020-01-01 00:00:00.000000', 'planner', 'test.write', 'thing', 'x', '', '', '', "
                 "'', '')")
        expected = f"row {max(ids) + 1}"
        expected_vi = f"dòng {max(ids) + 1}"
    elif tamper == "delete_middle":
        _raw(db, "DROP TRIGGER audit_log_no_delete", f"DELETE FROM audit_log WHERE id = {target}")
        expected = f"row {ids[ids.index(target) + 1]}"
        expected_vi = f"dòng {ids[ids.index(target) + 1]}"
    elif tamper == "delete_last":
        _raw(db, "DROP TRIGGER audit_log_no_delete", f"DELETE FROM audit_log WHERE id = {ids[-1]}")
        _raw(db, "CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log "
                 "BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END")
        expected = "removed from the end"
        expected_vi = "dòng cuối bị xóa"
    else:
        _raw(db, "DROP TRIGGER audit_log_no_update")
        dialect = db.engine.dialect.name
        expected = expected_vi = "audit_log_append_only" if dialect == "postgresql" else "audit_log_no_update"
    result = runner.invoke(args=["verify-audit"])
    assert result.exit_code != 0 and expected in result.output, result.output
    login("admin")
    page = client.get("/admin/audit-chain")
    assert page.status_code == 409 and expected_vi in page.get_data(as_text=True)
    assert expected in client.get("/admin/audit-chain?lang=en").get_data(as_text=True)


def test_parallel_writers_never_fork_the_chain(app, db):
    from store import audit

    start = threading.Barrier(8)

    def write(n):
        start.wait()
        for i in range(5):
            with db.transaction() as session:
                audit.record(session, username=f"w{n}", action="test.parallel", entity="thing", entity_id=i)

    threads = [threading.Thread(target=write, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    with db.transaction() as session:
        check = audit.verify_chain(session)
    assert check.intact, check.reason
    assert check.rows >= 40

"""Every import is an audit row in its own transaction: who, the file and its hash, what it did."""
from __future__ import annotations

import hashlib
import json

from sqlalchemy import select

from tests.test_import_cli import good_file  # noqa: F401  (fixture)
from tests.test_imports_web import GOOD_ROWS, HEADER, finished_job, upload


def _import_rows(db):
    from store.models import AuditLog

    with db.transaction() as session:
        return [(r.username, r.action, r.entity, r.entity_id, json.loads(r.after))
                for r in session.scalars(select(AuditLog).where(AuditLog.entity == "import_batch")
                                         .order_by(AuditLog.id))]


def test_command_line_imports_are_audited_with_hash_and_counts(runner, db, good_file):  # noqa: F811
    digest = hashlib.sha256(good_file.read_bytes()).hexdigest()
    assert runner.invoke(args=["import-incidents", str(good_file)]).exit_code == 0
    assert runner.invoke(args=["import-incidents", str(good_file)]).exit_code == 0
    changed = good_file.read_text(encoding="utf-8").replace("CA-001,2024-03-05", "CA-001,2024-03-04")
    assert changed != good_file.read_text(encoding="utf-8")
    good_file.write_text(changed, encoding="utf-8")
    assert runner.invoke(args=["import-incidents", str(good_file)]).exit_code == 0
    first, again, edited = _import_rows(db)
    assert first[1] == "incidents.import" and first[3] != ""
    assert first[4] == {"file": good_file.name, "sha256": digest, "rows": 3, "created": 3, "updated": 0,
                        "unchanged": 0, "refused": 0}
    assert again[4]["created"] == 0 and again[4]["unchanged"] == 3
    assert edited[4]["updated"] == 1 and edited[4]["unchanged"] == 2 and edited[4]["sha256"] != digest


def test_web_imports_and_refused_ones_are_audited_with_the_uploader(login, client, db):
    login("planner")
    content = (HEADER + GOOD_ROWS).encode()
    finished_job(client, upload(client, login.csrf_token, "vu-viec.csv", content))
    bad = (HEADER + "W-9,2024-03-05,xyz,serious,received,105.6330,10.4560,\n").encode()
    finished_job(client, upload(client, login.csrf_token, "loi.csv", bad))
    done, refused = _import_rows(db)
    assert done[0] == "planner" and done[1] == "incidents.import"
    assert done[4]["file"] == "vu-viec.csv" and done[4]["created"] == 2
    assert done[4]["sha256"] == hashlib.sha256(content).hexdigest()
    assert refused[1] == "incidents.import_refused" and refused[4]["refused"] == 1 and refused[4]["created"] == 0
    page = client.get("/audit").get_data(as_text=True)
    assert "incidents.import" in page and "vu-viec.csv" in page

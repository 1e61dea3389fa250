"""The rendered-view cache: built once per key, never stale after a write, never shared across viewer scopes."""
import threading

from web.view_cache import cached_view, clear, viewer_scope


def test_built_once_for_concurrent_requests():
    clear()
    calls = []

    def build():
        calls.append(1)
        return "map"

    threads = [threading.Thread(target=cached_view, args=(("k",), build)) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert calls == [1]
    assert cached_view(("k",), build) == "map"


def test_viewer_scope_separates_clearance():
    cleared = type("U", (), {"role": "planner", "district_code": None, "sensitive_clearance": True})()
    plain = type("U", (), {"role": "planner", "district_code": None, "sensitive_clearance": False})()
    assert viewer_scope(cleared) != viewer_scope(plain)


def test_overview_changes_after_an_import(client, login, db):
    import pandas as pd

    from store.incidents import upsert_incidents

    login("planner")
    before = client.get("/map/overview.js?year=2024").get_data(as_text=True)
    with db.transaction() as session:
        upsert_incidents(session, pd.DataFrame({
            "id": ["CACHE-1"], "occurred_at": [pd.Timestamp("2024-06-01")], "reported_at": [pd.NaT],
            "category": ["theft"], "severity": ["less_serious"], "case_status": ["received"], "lon": [105.763],
            "lat": [10.296], "commune_code": ["29863"], "district_code": ["866"], "sensitive": [False],
            "description": ["Vụ mới sau bộ đệm"], "article": [""], "clause": [""]}), filename="x.csv")
    after = client.get("/map/overview.js?year=2024").get_data(as_text=True)
    assert before != after
    assert "CACHE-1" in after

"""layers.incidents: clustered points, escaped popups, redacted rows never drawn, bounded page size."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from layers.base import make_map, map_document
from layers.incidents import add_incident_points, drawable

EVIL = "<script>alert(1)</script>"


def incidents(n: int, *, redacted_every: int = 0, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({
        "id": [f"CA-{i:05d}" for i in range(n)],
        "occurred_at": pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 365, n), unit="D"),
        "category": rng.choice(["theft", "drugs", "smuggling"], n),
        "severity": rng.choice(["less_serious", "serious", "very_serious"], n),
        "case_status": rng.choice(["received", "cleared"], n),
        "lon": rng.uniform(105.3, 105.9, n), "lat": rng.uniform(10.2, 10.9, n),
        "commune_code": "29863",
        "redacted": [bool(redacted_every) and i % redacted_every == 0 for i in range(n)],
    })
    frame.loc[frame["redacted"], ["lon", "lat"]] = np.nan
    return frame


def test_points_are_clustered_with_local_assets_and_vietnamese_popups():
    m = make_map()
    summary = add_incident_points(m, incidents(20), commune_names={"29863": "Phường 11"})
    page = map_document(m)
    assert summary.shown == 20 and not summary.capped
    assert "L.markerClusterGroup" in page
    assert "/vendor/leaflet.markercluster/dist/leaflet.markercluster.js" in page
    assert "https://" not in page
    for label in ("Mã vụ", "Ngày xảy ra", "Trộm cắp tài sản", "Tình trạng", "Phường 11"):
        assert label in page, label
    assert "CA-00003" in page


def test_english_popups():
    m = make_map()
    add_incident_points(m, incidents(5), lang="en")
    page = map_document(m)
    assert "Case id" in page and "Severity" in page
    assert "Mã vụ" not in page


def test_redacted_rows_are_never_drawn():
    frame = incidents(30, redacted_every=3)
    hidden_ids = set(frame.loc[frame["redacted"], "id"])
    m = make_map()
    summary = add_incident_points(m, frame)
    page = map_document(m)
    assert summary.redacted == 10 and summary.shown == 20
    assert not any(f'"{case_id}"' in page for case_id in hidden_ids)
    assert "10 vụ bảo mật" in " ".join(summary.notes("vi"))
    assert drawable(frame).sum() == 20


def test_rows_with_missing_coordinates_are_skipped_even_if_not_marked_redacted():
    frame = incidents(4)
    frame.loc[0, "lon"] = np.nan
    frame = frame.drop(columns="redacted")
    summary = add_incident_points(make_map(), frame)
    assert summary.shown == 3


def test_above_the_cap_no_point_is_embedded_and_the_summary_says_so():
    m = make_map()
    summary = add_incident_points(m, incidents(51), max_points=50)
    page = map_document(m)
    assert summary.capped and summary.shown == 0
    assert "L.markerClusterGroup" not in page
    assert "chỉ hiển thị tổng theo xã" in summary.notes("vi")[0]
    assert "commune totals only" in summary.notes("en")[0]


def test_point_page_size_grows_slowly():
    m = make_map()
    add_incident_points(m, incidents(2000))
    size = len(map_document(m).encode())
    assert size < 250_000, size  # compact rows: about 100 bytes per point


def test_malicious_ids_and_commune_names_are_escaped():
    frame = incidents(2)
    frame.loc[0, "id"] = EVIL
    frame.loc[1, "category"] = EVIL
    m = make_map()
    add_incident_points(m, frame, commune_names={"29863": '"><img src=x onerror=alert(1)>'})
    page = map_document(m)
    assert EVIL not in page
    assert "<img" not in page
    assert "&lt;script&gt;" in page or "\\u0026lt;script\\u0026gt;" in page


def test_missing_columns_are_named():
    with pytest.raises(ValueError, match="lat"):
        add_incident_points(make_map(), incidents(2).drop(columns="lat"))

"""Confidential (trafficking-victim) cases: a walk over every GET route, for every role, with and without clearance.

A few sensitive incidents are written with a recognisable description and exact coordinates whose digits
appear nowhere else. Every GET endpoint of ``app.url_map`` is requested (path parameters filled from real
ids, every export layer and format, OGC items, report downloads, the map scripts each page links to), the
body is decoded (.docx text, .xlsx cells, GeoPackage features, raw bytes for packed doubles) and searched.
An uncleared account must never receive the description or the point; a cleared account must see the point
somewhere. The command-line exports are checked the same way.

The walk runs the cleared accounts first on the same application, so a cache filled for a cleared account
and then served to an uncleared one (hot spot runs, corridor geometry, map scripts) is caught too.
"""
from __future__ import annotations

import io
import json
import re
import struct
import tempfile
import zipfile
from collections import deque
from datetime import datetime
from pathlib import Path
from urllib.parse import urlsplit

import pandas as pd
import pytest
from sqlalchemy import select, update

from tests.conftest import SignIn, drop_app_database, make_app
from tests.report_data import seed_incidents

MARK = "VNSECRET"
DESCRIPTION = "NẠN-NHÂN-BÍ-MẬT-{n} " + MARK + "{n}Z"
USERS = ("admin", "planner", "guard", "district_869", "district_866", "commune_29929")
# Districts on the Cambodian border where the confidential cases are placed, plus one inland (866) so that
# the TP Cao Lãnh committee has a confidential case of its own in its exports.
PLACES = [("869", 0), ("869", 1), ("870", 0), ("866", 0)]
# Digits 4–7 after the point: combined with the commune's own first three decimals, they make coordinates
# that no boundary, grid or border vertex shares (checked by the walk of the cleared accounts, which must
# find them only where the cases are drawn).
FINE_DIGITS = (0.0004127, 0.0006381, 0.0002749, 0.0008513)
SKIPPED_PREFIXES = ("/static/", "/vendor/", "/logout", "/login")
MAX_URLS_PER_ENDPOINT = 12
# the printed sheets (PDF); their text is read back from the PDF like any other download
PRINT_ENDPOINTS = {"maps.overview_print", "hotspots.print_map", "corridor.print_map", "key_areas.print_map",
                   "drug_status.print_map"}
# a sheet is drawn from the same map as its page (walked in full), so a few of each show what it prints
MAX_PRINTS_PER_ENDPOINT = 3


# ------------------------------------------------------------------------------------------ fixtures


def _confidential_rows(session) -> list[dict]:
    from shapely.geometry import Point

    from store.boundaries import communes_frame

    communes = communes_frame(session)
    rows = []
    for n, ((district, pick), fine) in enumerate(zip(PLACES, FINE_DIGITS), start=1):
        commune = communes[communes["district_code"] == district].sort_values("commune_code").iloc[pick]
        base = commune.geometry.representative_point()
        lon = round(int(base.x * 1000) / 1000 + fine, 7)
        lat = round(int(base.y * 1000) / 1000 + fine / 2 + 0.0000011, 7)
        if not commune.geometry.contains(Point(lon, lat)):
            lon, lat = round(base.x, 7), round(base.y, 7)
        rows.append({"id": f"BM-{n:03d}", "occurred_at": pd.Timestamp(f"2024-0{n + 3}-1{n}"), "reported_at": None,
                     "category": "human_trafficking", "severity": "very_serious", "case_status": "investigating",
                     "lon": lon, "lat": lat, "commune_code": commune["commune_code"], "district_code": district,
                     "sensitive": True, "description": DESCRIPTION.format(n=n), "article": "150"})
    return rows


@pytest.fixture(scope="module")
def walked(tmp_path_factory, template_db, data_dir):
    """One application for the whole walk: the hand-made incidents, confidential cases, a key area."""
    from store.incidents import upsert_incidents
    from tests.tracker_helpers import make_area

    app = make_app(tmp_path_factory.mktemp("confidential"), template_db, data_dir)
    seed_incidents(app)
    db = app.extensions["db"]
    with db.transaction() as session:
        rows = _confidential_rows(session)
        upsert_incidents(session, pd.DataFrame(rows), filename="confidential-walk", username="tests")
    make_area(db, name="Địa bàn kiểm thử bảo mật")
    app.extensions["confidential_seen"] = {}
    yield app, rows
    drop_app_database(app)


def set_clearance(app, username: str, cleared: bool) -> None:
    from store.models import User

    with app.extensions["db"].transaction() as session:
        session.execute(update(User).where(User.username == username).values(sensitive_clearance=cleared))


# ------------------------------------------------------------------------------------------ searching


def coordinate_forms(value: float) -> set[str]:
    """How a coordinate may be written: full, 7/6/5 decimals (map points are rounded to 5, ~1 m)."""
    forms = {repr(value), f"{value:.7f}", f"{value:.6f}", f"{value:.5f}"}
    return {f for f in forms if len(f.split(".")[1]) >= 5}


def secrets_of(rows) -> dict[str, re.Pattern]:
    """Per confidential case: a pattern whose match in a response means the case leaked.

    A coordinate counts only as a whole number (``105.45264`` must not match inside ``105.452648``, a grid
    vertex nearby); the description counts in whole or by either of its two words. The source case id
    counts too: a per-case record (id, time, category, commune) identifies the case even without a point.
    """
    out = {}
    for row in rows:
        numbers = sorted(coordinate_forms(row["lon"]) | coordinate_forms(row["lat"]))
        words = [row["description"], *row["description"].split()]
        out[row["id"]] = re.compile("|".join([rf"(?<![\d.]){re.escape(n)}(?!\d)" for n in numbers]
                                             + [re.escape(w) for w in words]
                                             + [rf"(?<![\w-]){re.escape(row['id'])}(?![\w-])"]))
    return out


def packed(rows) -> dict[str, list[bytes]]:
    return {row["id"]: [struct.pack(order + "d", row[axis]) for order in "<>" for axis in ("lon", "lat")]
            for row in rows}


def docx_text(body: bytes) -> str:
    import docx

    document = docx.Document(io.BytesIO(body))
    parts = [p.text for p in document.paragraphs]
    for table in document.tables:
        parts += [cell.text for row in table.rows for cell in row.cells]
    for section in document.sections:
        parts += [p.text for p in section.header.paragraphs] + [p.text for p in section.footer.paragraphs]
    with zipfile.ZipFile(io.BytesIO(body)) as archive:  # anything else stored in the package (comments, XML)
        parts += [archive.read(n).decode("utf-8", "replace") for n in archive.namelist() if n.endswith(".xml")]
    return "\n".join(parts)


def xlsx_text(body: bytes) -> str:
    import openpyxl

    workbook = openpyxl.load_workbook(io.BytesIO(body), read_only=True)
    try:
        return "\n".join(repr(cell) if isinstance(cell, float) else str(cell)
                         for sheet in workbook.worksheets for row in sheet.iter_rows(values_only=True)
                         for cell in row if cell is not None)
    finally:
        workbook.close()


def gpkg_text(body: bytes) -> str:
    import fiona
    import geopandas as gpd

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "layer.gpkg"
        path.write_bytes(body)
        parts = []
        for name in fiona.listlayers(path):
            frame = gpd.read_file(path, layer=name, engine="fiona")
            parts.append(frame.drop(columns="geometry").to_csv())
            parts += [g.wkt for g in frame.geometry if g is not None] + \
                     [repr(v) for g in frame.geometry if g is not None and g.geom_type == "Point" for v in (g.x, g.y)]
        return "\n".join(parts)


def readable(response, body: bytes) -> str:
    """The text a person or program could read from the response body, whatever its format."""
    kind = response.mimetype or ""
    if kind.endswith("wordprocessingml.document"):
        return docx_text(body)
    if kind.endswith("spreadsheetml.sheet"):
        return xlsx_text(body)
    if "geopackage" in kind:
        return gpkg_text(body)
    if kind == "application/pdf":
        return pdf_text(body)
    text = body.decode("utf-8", "replace")
    if kind.endswith("json"):
        try:  # JSON may escape Vietnamese letters as \\uXXXX
            text += "\n" + json.dumps(json.loads(body), ensure_ascii=False)
        except ValueError:
            pass
    return text


def pdf_text(body: bytes) -> str:
    import pypdfium2

    document = pypdfium2.PdfDocument(body)
    try:
        return "\n".join(page.get_textpage().get_text_range() for page in document)
    finally:
        document.close()


# ------------------------------------------------------------------------------------------ the walk


def seed_urls(app, rows, username: str) -> list[str]:
    """One or more URLs for every GET rule of the application, path parameters filled with real values."""
    from web import corridor, exports, reports

    urls = []
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or rule.rule.startswith(SKIPPED_PREFIXES):
            continue
        endpoint = rule.endpoint
        if not rule.arguments:
            urls.append(rule.rule)
            urls.append(rule.rule + ("&" if "?" in rule.rule else "?") + "year=2024")
        elif endpoint == "exports.download":
            for layer in exports.LAYERS:
                for fmt in exports.FORMATS:
                    urls += [f"/exports/{layer}.{fmt}", f"/exports/{layer}.{fmt}?year=2024"]
                    if not username.startswith("district"):
                        urls.append(f"/exports/{layer}.{fmt}?year=2024&district=869")
        elif endpoint == "corridor.export":
            for layer in corridor.LAYERS:
                for fmt in corridor.FORMATS:
                    urls.append(f"/corridor/export/{layer}.{fmt}?year=2024")
        elif endpoint == "ogc.collection":
            urls += [f"/ogc/collections/{layer}" for layer in exports.LAYERS]
        elif endpoint == "ogc.items":
            for layer in exports.LAYERS:
                urls += [f"/ogc/collections/{layer}/items?limit=10000",
                         f"/ogc/collections/{layer}/items?limit=10000&year=2024&district=869"]
        elif endpoint == "ogc.item":
            urls += [f"/ogc/collections/incidents/items/{row['id']}" for row in rows]
            urls += [f"/ogc/collections/communes/items/{row['commune_code']}" for row in rows]
        elif endpoint == "reports.download":
            for fmt in reports.FORMATS:
                urls += [f"/reports/download?period=2024&format={fmt}",
                         f"/reports/download?period=2024-Q3&format={fmt}"]
        elif endpoint.startswith("imports.job"):
            urls.append(rule.rule.replace("<job_id>", "0" * 32))  # no job of this user: answered 404
        elif endpoint == "imports.template":
            urls += ["/import/template.csv", "/import/template.xlsx"]
        elif endpoint in PRINT_ENDPOINTS:
            urls.append(rule.rule.replace("<fmt>", "pdf") + "?year=2024")
        elif endpoint == "ogc.queryables":
            urls += [f"/ogc/collections/{layer}/queryables" for layer in exports.LAYERS]
        elif endpoint == "communes.profile":
            # the communes of the confidential cases, so their own profile is walked
            urls += [f"/communes/{code}?period=2024-CY&set=2024"
                     for code in sorted({str(row["commune_code"]) for row in rows})]
        # ids created while walking (hot spot runs, key-area maps) are added by ``id_urls`` and the crawl
    return urls


def id_urls(app) -> list[str]:
    """URLs of stored records: key areas, hot spot runs (some are created by the walk itself)."""
    from store.models import Base

    db = app.extensions["db"]
    tables = Base.metadata.tables
    urls = []
    with db.engine.connect() as conn:
        if "key_areas" in tables:
            for (area_id,) in conn.execute(select(tables["key_areas"].c.id)):
                urls += [f"/key-areas/{area_id}", f"/api/key-areas/{area_id}",
                         f"/api/key-areas/{area_id}/displacement"]
        runs = [t for t in tables if t.startswith("hotspot_run")]
        if runs:
            for (run_id,) in conn.execute(select(tables[runs[0]].c.id)):
                urls.append(f"/hotspots/runs/{run_id}.geojson")
    return urls


LINK = re.compile(r'''(?:src|href|action)\s*=\s*["']([^"'#]+)["']''')
SCRIPT_URL = re.compile(r'''["'](/(?:map|tracker-maps|corridor|hotspots)/[^"'\s]+\.js(?:\?[^"'\s]*)?)["']''')


def discovered(text: str) -> list[str]:
    """Same-site GET links of a page (map scripts, downloads, filtered views), language variants left out."""
    import html

    found = []
    for raw in LINK.findall(text) + SCRIPT_URL.findall(text):
        url = html.unescape(raw)
        parts = urlsplit(url)
        if parts.scheme or parts.netloc or not parts.path.startswith("/"):
            continue
        if parts.path.startswith(SKIPPED_PREFIXES) or "lang=" in parts.query:
            continue
        found.append(url)
    return found


def walk(app, client, rows, username: str):
    """Yield (url, response status, readable text, raw bytes) for every URL reached."""
    adapter = app.url_map.bind("localhost")
    queue = deque(seed_urls(app, rows, username))
    seen, per_endpoint, ids_added = set(), {}, False
    while queue or not ids_added:
        if not queue:
            queue.extend(id_urls(app))
            ids_added = True
            continue
        url = queue.popleft()
        if url in seen:
            continue
        parts = urlsplit(url)
        try:
            endpoint, _ = adapter.match(parts.path, method="GET")
        except Exception:
            continue
        per_endpoint[endpoint] = per_endpoint.get(endpoint, 0) + 1
        if per_endpoint[endpoint] > MAX_URLS_PER_ENDPOINT and not url.startswith(("/exports/", "/ogc/", "/corridor/export")):
            continue
        if endpoint in PRINT_ENDPOINTS and per_endpoint[endpoint] > MAX_PRINTS_PER_ENDPOINT:
            continue
        seen.add(url)
        response = client.get(url)
        try:
            body = response.get_data()
        finally:
            response.close()
        assert response.status_code < 500, f"{username}: GET {url} answered {response.status_code}"
        text = readable(response, body)
        yield url, response.status_code, text, body
        if response.mimetype == "text/html":
            queue.extend(u for u in discovered(text) if u not in seen)


ORDER = [(u, True) for u in USERS] + [(u, False) for u in USERS]


@pytest.mark.parametrize("username, cleared", ORDER, ids=[f"{u}-{'cleared' if c else 'uncleared'}" for u, c in ORDER])
def test_every_route_keeps_confidential_cases_from_uncleared_accounts(walked, username, cleared):
    app, rows = walked
    set_clearance(app, username, cleared)
    client = app.test_client()
    SignIn(client)(username)
    strings, doubles = secrets_of(rows), packed(rows)
    leaks, seen_cases, reached = [], set(), []
    for url, status, text, body in walk(app, client, rows, username):
        reached.append((url, status))
        for case_id, pattern in strings.items():
            match = pattern.search(text)
            binary = [d for d in doubles[case_id] if d in body]
            if match or binary:
                seen_cases.add(case_id)
                if not cleared:
                    at = match.start() if match else 0
                    found = match.group(0) if match else f"packed double {binary[0]!r}"
                    leaks.append(f"GET {url} ({status}) shows {case_id}: {found} …{text[max(0, at - 80):at + 40]!r}")
    ok = [u for u, s in reached if s == 200]
    assert len(ok) >= 60, f"the walk reached too little of the application: {reached}"
    assert not leaks, f"{username} (not cleared) received confidential details:\n" + "\n".join(leaks[:20])
    if cleared:
        own = {r["id"] for r in rows if not username.startswith("district") or r["district_code"] == username[-3:]}
        assert own & seen_cases, f"{username} (cleared) never saw an exact confidential point; reached {ok}"
        app.extensions["confidential_seen"][username] = seen_cases


def test_the_walk_covers_every_get_rule(walked):
    """Every GET endpoint has at least one seed URL (a new route cannot escape the walk silently)."""
    app, rows = walked
    adapter = app.url_map.bind("localhost")
    endpoints = set()
    for url in seed_urls(app, rows, "admin") + ["/tracker-maps/x.js", "/hotspots/runs/1.geojson",
                                               "/key-areas/1", "/api/key-areas/1",
                                               "/api/key-areas/1/displacement"]:
        endpoints.add(adapter.match(urlsplit(url).path, method="GET")[0])
    expected = {r.endpoint for r in app.url_map.iter_rules()
                if "GET" in r.methods and not r.rule.startswith(SKIPPED_PREFIXES)}
    assert expected - endpoints == set()


# ------------------------------------------------------------------------------------------ command line


def test_command_line_exports_redact_confidential_cases(walked, tmp_path):
    app, rows = walked
    runner = app.test_cli_runner()
    strings = secrets_of(rows)
    outputs = {}
    for fmt in ("csv", "geojson"):
        result = runner.invoke(args=["export-incidents", "--format", fmt])
        assert result.exit_code == 0, result.output
        outputs[f"export-incidents {fmt}"] = result.stdout
        path = tmp_path / f"incidents.{fmt}"
        assert runner.invoke(args=["export-incidents", "--format", fmt, "--year", "2024", "--out", str(path)]).exit_code == 0
        outputs[f"export-incidents {fmt} --out"] = path.read_text(encoding="utf-8")
    for fmt in ("docx", "xlsx"):
        path = tmp_path / f"report.{fmt}"
        result = runner.invoke(args=["report", "--period", "2024", "--out", str(path)])
        assert result.exit_code == 0, result.output
        body = path.read_bytes()
        outputs[f"report {fmt}"] = docx_text(body) if fmt == "docx" else xlsx_text(body)
    path = tmp_path / "corridor.csv"
    result = runner.invoke(args=["corridor-stats", "--year", "2024", "--out", str(path)])
    assert result.exit_code == 0, result.output
    outputs["corridor-stats"] = path.read_text(encoding="utf-8")
    # the four cases of the walk and the hand-made set's one
    assert "5 confidential cases left out" in runner.invoke(args=["export-incidents", "--format", "csv"]).stderr
    leaks = [f"{name}: {case_id} {pattern.search(text).group(0)!r}" for name, text in outputs.items()
             for case_id, pattern in strings.items() if pattern.search(text)]
    assert not leaks, "\n".join(leaks)
    # the operator's explicit opt-in does give the exact points
    cleared = runner.invoke(args=["export-incidents", "--format", "csv", "--include-sensitive"]).stdout
    assert all(row["description"] in cleared for row in rows)


def test_clearance_is_off_by_default_and_set_only_by_an_administrator(app, client, login):
    from store.models import User

    with app.extensions["db"].transaction() as session:
        assert not any(session.scalars(select(User.sensitive_clearance)))
    login("planner")
    response = client.post("/admin/users/1", data={"csrf_token": login.csrf_token, "sensitive_clearance": "1"})
    assert response.status_code == 403
    with app.extensions["db"].transaction() as session:
        assert not any(session.scalars(select(User.sensitive_clearance)))

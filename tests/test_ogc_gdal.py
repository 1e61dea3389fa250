"""Debian's GDAL (``ogrinfo``, ``ogr2ogr`` of gdal-bin, OAPIF driver) and OWSLib against the OGC API, served live.

The copy of every layer must be complete (the same features as the layers hold for that account) and made in a
few large pages; confidential cases stay out of an uncleared account's copy. How long the copy takes on the
demo data is measured by ``bench/bench_ogc_copy.py``, not here.
"""
from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import threading

import pytest
from werkzeug.serving import make_server

from tests.report_data import seed_incidents

pytestmark = pytest.mark.skipif(shutil.which("ogr2ogr") is None, reason="gdal-bin is installed by .ci/run")
PAGE_SIZE = 10_000  # GDAL 3.6 asks limit=10 unless told; GDAL ≥ 3.8 reads the maximum from /ogc/api itself


@pytest.fixture
def served(app):
    """The app on a free loopback port; yields (base URL, list of the request paths it answered)."""
    seen: list[str] = []
    inner = app.wsgi_app

    def counting(environ, start_response):
        query = environ.get("QUERY_STRING")
        seen.append(environ["PATH_INFO"] + (f"?{query}" if query else ""))
        return inner(environ, start_response)

    app.wsgi_app = counting
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/ogc", seen
    server.shutdown()
    thread.join(timeout=5)
    server.server_close()
    app.wsgi_app = inner


def token(app, username: str) -> str:
    result = app.test_cli_runner().invoke(args=["create-token", username, "--name", "gdal"])
    assert result.exit_code == 0, result.output
    return result.output.strip().splitlines()[-1]


def gdal(*args, bearer: str):
    env = {**os.environ, "GDAL_HTTP_HEADERS": f"Authorization: Bearer {bearer}", "CPL_DEBUG": "OFF"}
    return subprocess.run(args, capture_output=True, text=True, env=env, timeout=120)


def layer_sizes(app, username: str) -> dict[str, int]:
    """What each layer holds for that account, built in process the way the downloads build it."""
    from sqlalchemy import select

    from store.models import User
    from web.exports import LAYERS, known_districts, read_filters

    with app.test_request_context("/ogc"):
        from web import db_session

        session = db_session()
        viewer = session.scalar(select(User).where(User.username == username))
        filters = read_filters({}, viewer, known_districts(session))
        return {layer_id: len(layer.build(session, viewer, filters)) for layer_id, layer in LAYERS.items()}


def gpkg_counts(path) -> dict[str, int]:
    with sqlite3.connect(path) as connection:
        names = [row[0] for row in connection.execute("SELECT table_name FROM gpkg_contents")]
        return {name: connection.execute(f'SELECT count(*) FROM "{name}"').fetchone()[0] for name in names}


def test_ogrinfo_lists_every_collection_with_its_count(app, served):
    seeded = seed_incidents(app)
    url, _ = served
    result = gdal("ogrinfo", "-ro", "-al", "-so", f"OAPIF:{url}", bearer=token(app, "planner"))
    assert result.returncode == 0, result.stderr
    assert "Feature Count: 143" in result.stdout  # communes of the 2024 set
    assert f"Feature Count: {seeded['total'] - 1}" in result.stdout  # the confidential case is no item
    for layer in ("communes", "incidents", "hotspots", "key_areas"):
        assert f"Layer name: {layer}" in result.stdout


def test_ogr2ogr_copies_every_layer_completely_in_few_requests(app, served, tmp_path):
    seeded = seed_incidents(app)
    url, seen = served
    out = tmp_path / "copy.gpkg"
    result = gdal("ogr2ogr", "-f", "GPKG", str(out), f"OAPIF:{url}", "-oo", f"PAGE_SIZE={PAGE_SIZE}",
                  bearer=token(app, "planner"))
    assert result.returncode == 0, result.stderr
    expected = layer_sizes(app, "planner")
    assert gpkg_counts(out) == expected
    assert expected["incidents"] == seeded["total"] - 1 and expected["communes"] == 143
    items = [path for path in seen if "/items" in path]
    # GDAL reads a page of each layer to learn its fields, then the layer: two item requests per layer
    assert len(items) <= 2 * len(expected) + 2, items
    assert all(f"limit={PAGE_SIZE}" in path for path in items), items
    with sqlite3.connect(out) as connection:
        ids = {row[0] for row in connection.execute("SELECT id FROM incidents")}
        stamps = [row[0] for row in connection.execute("SELECT occurred_at FROM incidents")]
    assert seeded["confidential"] not in ids and len(ids) == seeded["total"] - 1
    assert stamps and all(str(s).startswith(("2023", "2024")) for s in stamps)


def test_gdal_follows_next_links_with_small_pages(app, served, tmp_path):
    seed_incidents(app)
    url, seen = served
    out = tmp_path / "incidents.gpkg"
    result = gdal("ogr2ogr", "-f", "GPKG", str(out), f"OAPIF:{url}", "incidents", "-oo", "PAGE_SIZE=4",
                  bearer=token(app, "district_866"))
    assert result.returncode == 0, result.stderr
    assert gpkg_counts(out) == {"incidents": layer_sizes(app, "district_866")["incidents"]} == {"incidents": 7}
    assert any("offset=4" in path for path in seen)


def test_gdal_spatial_and_attribute_filters_reach_the_server(app, served):
    seeded = seed_incidents(app)
    url, seen = served
    lon, lat = seeded["points"]["869"][1:]
    result = gdal("ogrinfo", "-ro", "-al", "-so", "-spat", str(lon - .001), str(lat - .001), str(lon + .001),
                  str(lat + .001), f"OAPIF:{url}", "incidents", bearer=token(app, "planner"))
    assert result.returncode == 0, result.stderr
    assert "Feature Count: 6" in result.stdout  # 869's cases less the confidential one
    assert any("bbox=" in path for path in seen)


def test_uncleared_token_gets_no_confidential_item_and_a_json_404(app, served):
    import urllib.error
    import urllib.request

    seeded = seed_incidents(app)
    url, _ = served
    request = urllib.request.Request(f"{url}/collections/incidents/items/{seeded['confidential']}",
                                     headers={"Authorization": f"Bearer {token(app, 'planner')}"})
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=30)
    assert refused.value.code == 404
    assert set(json.loads(refused.value.read())) == {"code", "description"}
    refused.value.close()  # an error answer left open is a ResourceWarning (an error here) whenever it is collected
    anonymous = urllib.request.Request(f"{url}/collections")
    with pytest.raises(urllib.error.HTTPError) as unauthenticated:
        urllib.request.urlopen(anonymous, timeout=30)
    assert unauthenticated.value.code == 401 and unauthenticated.value.headers["WWW-Authenticate"].startswith("Bearer")
    unauthenticated.value.close()


def test_owslib_reads_the_openapi_document_and_filters(app, served):
    from owslib.ogcapi.features import Features

    seeded = seed_incidents(app)
    url, _ = served
    client = Features(url, headers={"Authorization": f"Bearer {token(app, 'guard')}"})
    api = client.api()
    assert "/collections/{collectionId}/items" in api["paths"]
    lon, lat = seeded["points"]["866"][1:]
    page = client.collection_items("incidents", bbox=[lon - .001, lat - .001, lon + .001, lat + .001], limit=50)
    assert page["numberMatched"] == 7 and all(f["properties"]["occurred_at"].endswith("+07:00")
                                               for f in page["features"])
    assert client.collection_queryables("incidents")["properties"]["category"]["type"] == "string"

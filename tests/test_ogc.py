"""OGC API – Features (Part 1: Core): required fields, parameters, role redaction, and OWSLib as a client."""
import threading

import pytest
from werkzeug.serving import make_server

from tests.report_data import seed_incidents

CORE = "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core"
GEOJSON = "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson"


@pytest.fixture
def seeded(app):
    return seed_incidents(app)


def rels(body):
    return {link["rel"]: link for link in body["links"]}


def test_anonymous_requests_get_401_as_an_ogc_exception_with_a_bearer_challenge(client):
    response = client.get("/ogc/collections")
    assert response.status_code == 401 and response.is_json
    assert response.headers["WWW-Authenticate"].startswith("Bearer ")
    assert set(response.get_json()) == {"code", "description"}


def test_every_error_is_an_ogc_exception(app, client, login, monkeypatch):
    from web import deny

    login("planner")
    answers = {
        400: client.get("/ogc/collections/incidents/items?limit=0"),
        404: client.get("/ogc/collections/nothing"),
        405: client.post("/ogc/collections", headers={"X-CSRFToken": login.csrf_token}),
    }
    assert client.get("/ogc/nothing/here").status_code == 404
    answers[404.1] = client.get("/ogc/nothing/here")
    with app.test_request_context("/ogc/collections"):
        answers[403] = deny(403)
    app.config["PROPAGATE_EXCEPTIONS"] = False
    monkeypatch.setattr("web.ogc.CONFORMANCE", object())  # the view fails writing its answer
    answers[500] = client.get("/ogc/conformance")
    for status, response in answers.items():
        assert response.status_code == int(status), status
        body = response.get_json()
        assert set(body) == {"code", "description"} and body["code"] and body["description"], status
    assert answers[400].get_json()["code"] == "InvalidParameterValue"
    assert "limit '0'" in answers[400].get_json()["description"]
    assert answers[404].get_json()["code"] == "NotFound" and answers[405].get_json()["code"] == "MethodNotAllowed"


def test_landing_page_and_conformance(client, login):
    login("planner")
    landing = client.get("/ogc").get_json()
    links = rels(landing)
    assert {"self", "service-desc", "conformance", "data"} <= set(links)
    assert all("href" in link and "type" in link for link in landing["links"])
    assert links["service-desc"]["type"] == "application/vnd.oai.openapi+json;version=3.0"
    document = client.get(links["service-desc"]["href"])
    # GDAL's OAPIF driver reads the document only when its Content-Type carries version=3.0
    assert document.headers["Content-Type"] == "application/vnd.oai.openapi+json;version=3.0"
    assert document.get_json()["openapi"].startswith("3.0")
    conformance = client.get("/ogc/conformance").get_json()["conformsTo"]
    assert CORE in conformance and GEOJSON in conformance


def test_collections_have_ids_links_and_extent(client, login, seeded):
    login("planner")
    body = client.get("/ogc/collections").get_json()
    assert "self" in rels(body)
    by_id = {c["id"]: c for c in body["collections"]}
    assert {"communes", "incidents", "hotspots"} <= set(by_id)
    for collection in body["collections"]:
        assert {"self", "items"} <= set(rels(collection)) and collection["itemType"] == "feature"
        bbox = collection["extent"]["spatial"]["bbox"][0]
        assert len(bbox) == 4 and bbox[0] <= bbox[2] and bbox[1] <= bbox[3]
    communes_bbox = by_id["communes"]["extent"]["spatial"]["bbox"][0]
    assert 105 < communes_bbox[0] < communes_bbox[2] < 106.2 and 10 < communes_bbox[1] < communes_bbox[3] < 11.2
    interval = by_id["incidents"]["extent"]["temporal"]["interval"][0]
    # stored times are Vietnam local time: written with their offset, as the items' properties are
    assert interval == ["2023-01-10T00:00:00+07:00", "2024-07-01T00:00:00+07:00"]
    within = client.get(f"/ogc/collections/incidents/items?limit=100&datetime={'/'.join(interval)}".replace(
        "+", "%2B")).get_json()
    assert within["numberMatched"] == seeded["total"] - 1  # filtering by the advertised extent loses nothing
    stamps = [f["properties"]["occurred_at"] for f in within["features"]]
    assert all(s.endswith("+07:00") for s in stamps) and min(stamps) == interval[0] and max(stamps) == interval[1]
    one = client.get("/ogc/collections/incidents").get_json()
    assert one["id"] == "incidents"
    assert client.get("/ogc/collections/nothing").status_code == 404


def test_items_paging_with_number_matched_and_next_link(client, login, seeded):
    login("planner")
    response = client.get("/ogc/collections/incidents/items?limit=5")
    assert response.mimetype == "application/geo+json"
    body = response.get_json()
    visible = seeded["total"] - 1  # the confidential case is no item for an uncleared planner
    assert body["type"] == "FeatureCollection" and body["numberMatched"] == visible
    assert body["numberReturned"] == 5 and len(body["features"]) == 5
    links = rels(body)
    assert "self" in links and "next" in links and "prev" not in links
    second = client.get(links["next"]["href"].replace("http://localhost", "")).get_json()
    assert second["numberReturned"] == 5 and "prev" in rels(second)
    assert {f["id"] for f in body["features"]}.isdisjoint(f["id"] for f in second["features"])
    last = client.get("/ogc/collections/incidents/items?limit=5&offset=10").get_json()
    assert last["numberReturned"] == visible - 10 and "next" not in rels(last)


def test_bbox_and_datetime_filters(client, login, seeded):
    login("planner")
    lon, lat = seeded["points"]["869"][1:]
    box = f"{lon - 0.001},{lat - 0.001},{lon + 0.001},{lat + 0.001}"
    inside = client.get(f"/ogc/collections/incidents/items?bbox={box}&limit=100").get_json()
    # 869's 7 cases less the confidential one, which has no location for this planner
    assert inside["numberMatched"] == 6 and all(f["properties"]["district_code"] == "869" for f in inside["features"])
    year = client.get("/ogc/collections/incidents/items?datetime=2024-01-01T00:00:00Z/2024-12-31T23:59:59Z").get_json()
    assert year["numberMatched"] == 9  # 10 cases in 2024, the confidential one no item for this planner
    open_start = client.get("/ogc/collections/incidents/items?datetime=../2023-12-31").get_json()
    assert open_start["numberMatched"] == 4
    day = client.get("/ogc/collections/incidents/items?datetime=2024-06-15").get_json()
    assert day["numberMatched"] == 1
    # 2024-06-15 00:00 in Vietnam is 2024-06-14T17:00Z: the same instant under either offset
    for instant in ("2024-06-15T00:00:00%2B07:00", "2024-06-14T17:00:00Z"):
        assert client.get(f"/ogc/collections/incidents/items?datetime={instant}").get_json()["numberMatched"] == 1
    for bad in ("bbox=1,2,3", "limit=0", "limit=abc", "offset=-1", "datetime=yesterday", "datetime=../..",
                "colour=red", "f=xml", "bbox-crs=EPSG:4326", "year=1800"):
        response = client.get(f"/ogc/collections/incidents/items?{bad}")
        assert response.status_code == 400, bad
        body = response.get_json()
        assert body["code"] == "InvalidParameterValue" and body["description"].startswith(bad.split("=")[0]), bad


def test_single_item_and_404(client, login, seeded):
    login("planner")
    code = seeded["communes"]["869"]
    feature = client.get(f"/ogc/collections/communes/items/{code}").get_json()
    assert feature["type"] == "Feature" and feature["id"] == code and feature["geometry"]["type"].endswith("Polygon")
    assert {"self", "collection"} <= set(rels(feature))
    assert client.get("/ogc/collections/communes/items/00000").status_code == 404


def test_confidential_case_is_no_record_for_an_uncleared_account(client, login, seeded):
    login("planner")
    path = f"/ogc/collections/incidents/items/{seeded['confidential']}"
    assert client.get(path).status_code == 404
    listed = client.get("/ogc/collections/incidents/items?limit=10000").get_json()
    assert seeded["confidential"] not in {f["id"] for f in listed["features"]}
    assert listed["numberMatched"] == seeded["total"] - 1
    # the commune counts still count it
    communes = client.get("/ogc/collections/communes/items?limit=10000&year=2024&category=human_trafficking").get_json()
    assert sum(f["properties"]["incident_count"] for f in communes["features"]) == 1
    login("district_866")
    mine = client.get("/ogc/collections/incidents/items?limit=100").get_json()
    assert mine["numberMatched"] == 7 and {f["properties"]["district_code"] for f in mine["features"]} == {"866"}
    assert client.get("/ogc/collections/incidents/items?district=869").status_code == 400


def test_cleared_account_sees_the_point(app, client, login, seeded):
    from sqlalchemy import update

    from store.models import User

    with app.extensions["db"].transaction() as session:
        session.execute(update(User).where(User.username == "admin").values(sensitive_clearance=True))
    login("admin")
    feature = client.get(f"/ogc/collections/incidents/items/{seeded['confidential']}").get_json()
    assert feature["geometry"]["type"] == "Point"


@pytest.fixture
def live_url(app):
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/ogc"
    server.shutdown()
    thread.join(timeout=5)
    server.server_close()


def test_owslib_reads_the_api_with_a_token(app, seeded, live_url):
    from owslib.ogcapi.features import Features
    from sqlalchemy import select

    from store.models import User
    from web.auth import issue_token

    with app.extensions["db"].transaction() as session:
        token = issue_token(session, session.scalar(select(User).where(User.username == "guard")), "qgis")
    client = Features(live_url, headers={"Authorization": f"Bearer {token}"})
    assert CORE in client.conformance()["conformsTo"]
    ids = [c["id"] for c in client.collections()["collections"]]
    assert "incidents" in ids and "communes" in ids
    page = client.collection_items("incidents", limit=3, datetime_="2024-01-01/2024-12-31")
    assert page["numberMatched"] == 9 and page["numberReturned"] == 3  # the confidential case is no item
    communes = client.collection_items("communes", limit=200)
    assert communes["numberMatched"] == 143
    one = client.collection_item("communes", seeded["communes"]["866"])
    assert one["id"] == seeded["communes"]["866"]


def test_queryables_per_collection(client, login, seeded):
    login("planner")
    for collection in client.get("/ogc/collections").get_json()["collections"]:
        link = rels(collection)["http://www.opengis.net/def/rel/ogc/1.0/queryables"]
        response = client.get(link["href"].replace("http://localhost", ""))
        assert response.status_code == 200 and response.mimetype == "application/schema+json"
        schema = response.get_json()
        assert schema["type"] == "object" and "year" in schema["properties"], collection["id"]
    incidents = client.get("/ogc/collections/incidents/queryables").get_json()["properties"]
    assert "human_trafficking" in incidents["category"]["enum"] and incidents["occurred_at"]["format"] == "date-time"
    assert "category" not in client.get("/ogc/collections/key_areas/queryables").get_json()["properties"]
    assert client.get("/ogc/collections/nothing/queryables").status_code == 404


def test_ogc_document_is_the_ogc_part_of_the_api_document(client, login):
    from web.openapi import openapi_document

    login("planner")
    ogc = client.get("/ogc/api").get_json()
    whole = openapi_document()
    assert ogc["servers"][0]["url"].endswith("/ogc")
    assert set(ogc["paths"]) == {p[len("/ogc"):] or "/" for p in whole["paths"] if p.startswith("/ogc")}
    items = "/collections/{collectionId}/items"
    assert ogc["paths"][items] == whole["paths"]["/ogc" + items]
    parameters = {p["name"]: p for p in ogc["paths"][items]["get"]["parameters"]}
    assert parameters["limit"]["schema"] == {"type": "integer", "default": 100, "minimum": 1, "maximum": 10_000}
    assert parameters["bbox"]["schema"]["type"] == "array"
    assert (parameters["bbox"]["style"], parameters["bbox"]["explode"]) == ("form", False)
    assert parameters["collectionId"]["in"] == "path"


@pytest.mark.parametrize("placed_table", [True, False], ids=["placed-table", "database"])
def test_incident_pages_are_read_in_the_database(app, client, login, seeded, monkeypatch, placed_table):
    """The incidents layer's pages equal slices of the whole layer, without building it: cut from the placed
    table kept per data version, or (a table too large to keep) paged by the database."""
    from sqlalchemy import select

    import store.incidents as store_incidents

    if not placed_table:
        monkeypatch.setattr(store_incidents, "PLACED_CACHE_MAX_ROWS", 0)
    store_incidents.clear_placed_cache()

    from store.models import User
    from web.exports import ExportFilters, incident_page, incident_points, read_filters

    db = app.extensions["db"]
    with db.transaction() as session:
        users = {name: session.scalar(select(User).where(User.username == name))
                 for name in ("planner", "district_866", "admin")}
        users["admin"].sensitive_clearance = True
    with db.transaction() as session, app.test_request_context("/ogc/collections/incidents/items"):
        for name, viewer in users.items():
            viewer = session.merge(viewer)
            filters = read_filters({}, viewer, {"866", "869"})
            whole = incident_points(session, viewer, filters)
            for limit, offset in ((5, 0), (5, 5), (3, 11), (100, 0)):
                page, matched = incident_page(session, viewer, filters, None, limit, offset)
                assert matched == len(whole), name
                assert page["id"].tolist() == whole["id"].iloc[offset:offset + limit].tolist(), (name, offset)
                assert page.drop(columns="geometry").astype(str).equals(
                    whole.drop(columns="geometry").iloc[offset:offset + limit].reset_index(drop=True).astype(str))
            lon, lat = seeded["points"]["869"][1:]
            boxed, matched = incident_page(session, viewer, ExportFilters(boundary_set=filters.boundary_set,
                                                                          district=filters.district,
                                                                          bbox=(lon - .001, lat - .001, lon + .001,
                                                                                lat + .001)), None, 100, 0)
            assert matched == len(boxed) == {"planner": 6, "admin": 7, "district_866": 0}[name]
    login("planner")
    monkeypatch.setattr("store.incidents.incident_frame", lambda *a, **k: 1 / 0)  # the whole-layer reader
    body = client.get("/ogc/collections/incidents/items?limit=2&offset=2").get_json()
    assert body["numberMatched"] == seeded["total"] - 1 and body["numberReturned"] == 2


def test_key_area_items_are_in_the_viewers_language_and_pages_are_slices_of_the_layer(app, client, login):
    """Layers built whole are kept per data version, viewer scope and language: a page is a slice of the
    kept features, and a planner who switches to English gets English labels, not the Vietnamese copy."""
    from tests.tracker_helpers import make_area

    db = app.extensions["db"]
    for number in range(3):
        make_area(db, name=f"Địa bàn {number}")
    login("planner")
    vietnamese = client.get("/ogc/collections/key_areas/items").get_json()
    assert vietnamese["numberMatched"] == 3 and vietnamese["features"][0]["properties"]["status_label"]
    pages = [client.get(f"/ogc/collections/key_areas/items?limit=1&offset={i}").get_json()["features"][0]
             for i in range(3)]
    assert pages == vietnamese["features"]
    client.get("/?lang=en")  # the language is kept in the session
    english = client.get("/ogc/collections/key_areas/items").get_json()
    assert [f["id"] for f in english["features"]] == [f["id"] for f in vietnamese["features"]]
    assert english["features"][0]["properties"]["status_label"] != vietnamese["features"][0]["properties"]["status_label"]

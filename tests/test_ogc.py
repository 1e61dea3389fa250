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


def test_anonymous_requests_get_401_json(client):
    response = client.get("/ogc/collections")
    assert response.status_code == 401 and response.is_json


def test_landing_page_and_conformance(client, login):
    login("planner")
    landing = client.get("/ogc").get_json()
    links = rels(landing)
    assert {"self", "service-desc", "conformance", "data"} <= set(links)
    assert all("href" in link and "type" in link for link in landing["links"])
    assert client.get(links["service-desc"]["href"]).get_json()["openapi"].startswith("3.0")
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
    assert interval == ["2023-01-10T00:00:00Z", "2024-07-01T00:00:00Z"]
    one = client.get("/ogc/collections/incidents").get_json()
    assert one["id"] == "incidents"
    assert client.get("/ogc/collections/nothing").status_code == 404


def test_items_paging_with_number_matched_and_next_link(client, login, seeded):
    login("planner")
    response = client.get("/ogc/collections/incidents/items?limit=5")
    assert response.mimetype == "application/geo+json"
    body = response.get_json()
    assert body["type"] == "FeatureCollection" and body["numberMatched"] == seeded["total"]
    assert body["numberReturned"] == 5 and len(body["features"]) == 5
    links = rels(body)
    assert "self" in links and "next" in links and "prev" not in links
    second = client.get(links["next"]["href"].replace("http://localhost", "")).get_json()
    assert second["numberReturned"] == 5 and "prev" in rels(second)
    assert {f["id"] for f in body["features"]}.isdisjoint(f["id"] for f in second["features"])
    last = client.get("/ogc/collections/incidents/items?limit=5&offset=10").get_json()
    assert last["numberReturned"] == seeded["total"] - 10 and "next" not in rels(last)


def test_bbox_and_datetime_filters(client, login, seeded):
    login("planner")
    lon, lat = seeded["points"]["869"][1:]
    box = f"{lon - 0.001},{lat - 0.001},{lon + 0.001},{lat + 0.001}"
    inside = client.get(f"/ogc/collections/incidents/items?bbox={box}&limit=100").get_json()
    # 869's 7 cases less the confidential one, which has no location for this planner
    assert inside["numberMatched"] == 6 and all(f["properties"]["district_code"] == "869" for f in inside["features"])
    year = client.get("/ogc/collections/incidents/items?datetime=2024-01-01T00:00:00Z/2024-12-31T23:59:59Z").get_json()
    assert year["numberMatched"] == 10
    open_start = client.get("/ogc/collections/incidents/items?datetime=../2023-12-31").get_json()
    assert open_start["numberMatched"] == 4
    day = client.get("/ogc/collections/incidents/items?datetime=2024-06-15").get_json()
    assert day["numberMatched"] == 1
    for bad in ("bbox=1,2,3", "limit=0", "limit=abc", "offset=-1", "datetime=yesterday", "datetime=../..",
                "colour=red", "f=xml"):
        response = client.get(f"/ogc/collections/incidents/items?{bad}")
        assert response.status_code == 400, bad
        assert response.get_json()["code"] == "InvalidParameterValue"


def test_single_item_and_404(client, login, seeded):
    login("planner")
    code = seeded["communes"]["869"]
    feature = client.get(f"/ogc/collections/communes/items/{code}").get_json()
    assert feature["type"] == "Feature" and feature["id"] == code and feature["geometry"]["type"].endswith("Polygon")
    assert {"self", "collection"} <= set(rels(feature))
    assert client.get("/ogc/collections/communes/items/00000").status_code == 404


def test_confidential_case_is_redacted_by_role(client, login, seeded):
    login("planner")
    path = f"/ogc/collections/incidents/items/{seeded['confidential']}"
    redacted = client.get(path).get_json()
    assert redacted["geometry"] is None and redacted["properties"]["description"] == ""
    assert redacted["properties"]["redacted"] is True
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
    assert page["numberMatched"] == 10 and page["numberReturned"] == 3
    communes = client.collection_items("communes", limit=200)
    assert communes["numberMatched"] == 143
    one = client.collection_item("communes", seeded["communes"]["866"])
    assert one["id"] == seeded["communes"]["866"]

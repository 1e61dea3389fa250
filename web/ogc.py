"""OGC API – Features (Part 1: Core, GeoJSON, OpenAPI 3.0) over the export layers, for QGIS and ArcGIS.

Collections are the layers of :data:`web.exports.LAYERS` (communes with counts, incidents by role, commune
hotspots, key areas). Items honour ``bbox``, ``limit`` (1–10,000, default 100), ``offset``, ``datetime``
(RFC 3339 instant or interval with ``..`` open ends, on the layer's temporal property) and the layer's
queryables ``year``, ``category``, ``district`` and ``set`` (the boundary set; the same filters as the map),
validated by the marshmallow schemas of ``web/api_schemas.py`` that also describe them in ``/ogc/api``.
Times are written as RFC 3339 with their offset (``2022-12-01T15:49:00+07:00``) in items and extents alike,
and ``datetime`` filters take any offset. The incidents layer is paged in the database; the others are built
once per data version and viewer scope (``web.view_cache``) and paged from there. Every answer under ``/ogc``,
errors included, is JSON; an error is the OGC exception ``{"code", "description"}``. Requests authenticate with
the session cookie or an API token (``Authorization: Bearer …``, issued by ``flask create-token``);
confidential incidents are no items at all for uncleared accounts (their single-item URL answers 404);
they are counted in the communes collection as on the map.

References: OGC 17-069r4 (OGC API – Features – Part 1: Core, 1.0.1), requirement classes /req/core,
/req/geojson, /req/oas30.
"""
from __future__ import annotations

import functools
import json
import re
from datetime import datetime, timezone

from flask import Blueprint, Response, current_app, request, url_for
from flask_login import current_user

from geo.errors import GeoInputError
from translations import message
from web import access, db_session
from web.access import allow
from web.api_schemas import CRS84, OgcFormat, OgcItemsQuery, load_query, rfc3339, rfc3339_column
from web.exports import LAYERS, ExportFilters, known_districts, read_filters
from web.i18n import current_language
from web.view_cache import cached_view, viewer_scope

bp = Blueprint("ogc", __name__, url_prefix="/ogc")

CONFORMANCE = [
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
]
GEOJSON = "application/geo+json"
JSON = "application/json"
OPENAPI = "application/vnd.oai.openapi+json;version=3.0"
SCHEMA_JSON = "application/schema+json"
QUERYABLES_REL = "http://www.opengis.net/def/rel/ogc/1.0/queryables"
# HTTP status → OGC exception code (OGC 17-069r4, 7.5.1: an exception carries a code and a description)
EXCEPTION_CODES = {400: "InvalidParameterValue", 401: "NotAuthenticated", 403: "Forbidden", 404: "NotFound",
                   405: "MethodNotAllowed", 406: "NotAcceptable", 413: "PayloadTooLarge",
                   429: "TooManyRequests", 500: "ServerError", 503: "ServiceUnavailable"}


def _json(body, mimetype=JSON, status=200):
    return Response(json.dumps(body, ensure_ascii=False), status=status, mimetype=mimetype)


def exception(status: int, description: str) -> Response:
    """The OGC exception answer for ``status`` (``{"code", "description"}``); 401 names the Bearer scheme."""
    response = _json({"code": EXCEPTION_CODES.get(status, "ServerError"), "description": description},
                     status=status)
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="bando138 OGC API"'
    return response


def _url(endpoint, **values):
    return url_for(endpoint, _external=True, **values)


def _format_only():
    load_query(OgcFormat(), request.args)


@bp.route("")
@bp.route("/")
@allow(*access.EVERYONE)
def landing():
    _format_only()
    return _json({
        "title": "Bản đồ 138 — OGC API Features",
        "description": "Lớp bản đồ của BCĐ 138 tỉnh Đồng Tháp (xã và số vụ, vụ việc theo quyền, điểm nóng, địa bàn "
                       "trọng điểm). Communes with counts, incidents (by role), hotspots, key areas.",
        "links": [
            {"href": _url("ogc.landing"), "rel": "self", "type": JSON, "title": "This document"},
            {"href": _url("ogc.openapi"), "rel": "service-desc", "type": OPENAPI, "title": "API definition"},
            {"href": _url("ogc.conformance"), "rel": "conformance", "type": JSON, "title": "Conformance classes"},
            {"href": _url("ogc.collections"), "rel": "data", "type": JSON, "title": "Collections"},
        ],
    })


@bp.route("/conformance")
@allow(*access.EVERYONE)
def conformance():
    _format_only()
    return _json({"conformsTo": CONFORMANCE})


def _session_key(*topics) -> tuple:
    from store.meta import data_version

    session = db_session()
    return (str(session.get_bind().url), data_version(session, *topics), viewer_scope(current_user))


def _extent(layer) -> dict:
    """Spatial and temporal extent from aggregate queries (incidents) or the cached boundaries — never by
    building the layer."""
    from store.incidents import spatial_extent, temporal_extent

    session = db_session()
    viewer = current_user._get_current_object()
    if layer.id == "incidents":
        bbox = spatial_extent(session, viewer)
    else:
        bbox = cached_view(("ogc-extent", layer.id) + _session_key("boundaries", "key_areas"),
                           lambda: _layer_bounds(layer))
    extent = {"spatial": {"bbox": [[round(v, 6) for v in bbox] if bbox else [-180.0, -90.0, 180.0, 90.0]],
                          "crs": CRS84}}
    if layer.temporal:
        first, last = temporal_extent(session, viewer)
        if first is not None:
            extent["temporal"] = {"interval": [[rfc3339(first), rfc3339(last)]],
                                  "trs": "http://www.opengis.net/def/uom/ISO-8601/0/Gregorian"}
    return extent


def _layer_bounds(layer):
    if layer.id in ("communes", "hotspots"):
        from store.boundaries import communes_frame

        communes = communes_frame(db_session(), _default_filters().boundary_set)
        return tuple(float(v) for v in communes.total_bounds) if len(communes) else None
    frame = _whole(layer, _default_filters())
    located = frame[frame.geometry.notna()] if len(frame) else frame
    return tuple(float(v) for v in located.total_bounds) if len(located) else None


def _default_filters() -> ExportFilters:
    return read_filters({}, current_user._get_current_object(), known_districts(db_session()))


def _collection(layer) -> dict:
    return {
        "id": layer.id, "title": layer.title[0], "description": f"{layer.description[0]} / {layer.description[1]}",
        "itemType": "feature", "crs": [CRS84], "storageCrs": CRS84, "extent": _extent(layer),
        "links": [
            {"href": _url("ogc.collection", collection_id=layer.id), "rel": "self", "type": JSON,
             "title": layer.title[0]},
            {"href": _url("ogc.items", collection_id=layer.id), "rel": "items", "type": GEOJSON,
             "title": "Items (GeoJSON)"},
            {"href": _url("ogc.queryables", collection_id=layer.id), "rel": QUERYABLES_REL, "type": SCHEMA_JSON,
             "title": "Queryables"},
        ],
    }


def _whole(layer, filters: ExportFilters):
    """The whole layer for these filters, built once per data version and viewer scope."""
    session = db_session()
    viewer = current_user._get_current_object()
    # the language too: a layer may write labels in it (key areas' status)
    key = ("ogc-layer", layer.id, filters, current_language()) + \
        _session_key("incidents", "boundaries", "population", "key_areas")
    return cached_view(key, lambda: layer.build(session, viewer, filters))


def _layer(collection_id):
    if collection_id not in LAYERS:
        raise OgcNotFound(f"collection {collection_id!r} is not one of: {', '.join(LAYERS)}")
    return LAYERS[collection_id]


class OgcNotFound(Exception):
    """No such collection or feature (answered 404 with the OGC exception)."""


@bp.errorhandler(OgcNotFound)
def not_found(error):
    return exception(404, str(error))


@bp.route("/collections")
@allow(*access.EVERYONE)
def collections():
    _format_only()
    return _json({
        "links": [{"href": _url("ogc.collections"), "rel": "self", "type": JSON, "title": "Collections"}],
        "collections": [_collection(layer) for layer in LAYERS.values()],
    })


@bp.route("/collections/<collection_id>")
@allow(*access.EVERYONE)
def collection(collection_id):
    _format_only()
    return _json(_collection(_layer(collection_id)))


@bp.route("/collections/<collection_id>/queryables")
@allow(*access.EVERYONE)
def queryables(collection_id):
    """The collection's queryables as a JSON Schema (OGC API – Features – Part 3, /req/queryables)."""
    from geo.taxonomy import category_selections

    _format_only()
    layer = _layer(collection_id)
    known = {
        "year": {"type": "integer", "minimum": 1900, "maximum": 2100, "title": "Năm / Calendar year"},
        "category": {"type": "string", "enum": sorted(category_selections()), "title": "Loại / Category"},
        "district": {"type": "string", "enum": sorted(known_districts(db_session())),
                     "title": "Huyện / District code"},
    }
    properties = {name: known[name] for name in layer.queryables if name in known}
    if layer.temporal:
        properties[layer.temporal] = {"type": "string", "format": "date-time",
                                      "title": "Thời điểm / Time (datetime parameter)"}
    properties["geometry"] = {"$ref": "https://geojson.org/schema/%s.json" % layer.geometry_type}
    return _json({"$schema": "https://json-schema.org/draft/2019-09/schema",
                  "$id": _url("ogc.queryables", collection_id=layer.id), "type": "object",
                  "title": layer.title[0], "properties": properties, "additionalProperties": False},
                 mimetype=SCHEMA_JSON)


_SAFE_ID = re.compile(r"[A-Za-z0-9_.~-]+")


def _feature_texts(frame, layer, *, links: bool = True):
    """The GeoJSON text of each feature of ``frame`` (:func:`geo.geojson.feature_texts`): times as RFC 3339
    with their offset, ``id`` from the ``id`` column and, with ``links``, each item's ``self`` link."""
    from urllib.parse import quote

    from geo.geojson import feature_texts

    columns = {}
    for name in frame.columns:
        if name in ("id", frame.geometry.name):
            continue
        values = frame[name]
        columns[name] = rfc3339_column(values) if name in (layer.temporal, "reported_at") else values
    ids = frame["id"].to_numpy()
    members = None
    if links:
        # url_for once: the href is the items URL and the quoted id (safe characters need no JSON escaping)
        prefix = json.dumps(_url("ogc.items", collection_id=layer.id) + "/")[:-1]
        quoted = [text if _SAFE_ID.fullmatch(text) else quote(text, safe="") for text in map(str, ids.tolist())]
        members = {"links": [f'[{{"href":{prefix}{q}","rel":"self","type":"{GEOJSON}"}}]' for q in quoted]}
    return feature_texts(frame.geometry.to_numpy(), columns, ids=ids, members=members)


def _in_interval(frame, layer, interval):
    """Which rows of ``frame`` lie in ``interval`` (boolean array; every row when there is none)."""
    import numpy as np
    import pandas as pd

    if interval is None or not len(frame):
        return np.ones(len(frame), dtype=bool)
    times = pd.to_datetime(frame[layer.temporal])
    keep = times.notna()
    if interval[0] is not None:
        keep &= times >= interval[0]
    if interval[1] is not None:
        keep &= times <= interval[1]
    return keep.to_numpy()


def _in_bbox(frame, bbox):
    """Which rows of ``frame`` intersect ``bbox`` (boolean array; every row when there is none)."""
    import numpy as np
    import shapely

    if bbox is None or not len(frame):
        return np.ones(len(frame), dtype=bool)
    minx, miny, maxx, maxy = bbox
    boxes = [shapely.box(minx, miny, maxx, maxy)] if minx <= maxx else \
        [shapely.box(minx, miny, 180, maxy), shapely.box(-180, miny, maxx, maxy)]  # across the antimeridian
    return (frame.geometry.notna() & frame.geometry.intersects(shapely.union_all(boxes))).to_numpy()


def _whole_texts(layer, filters: ExportFilters):
    """The whole layer and the text of each of its features, made once per data version and viewer scope:
    a page of a layer built whole is a slice of these texts."""
    frame = _whole(layer, filters)
    key = ("ogc-texts", layer.id, filters, current_language(), _url("ogc.items", collection_id=layer.id)) + \
        _session_key("incidents", "boundaries", "population", "key_areas")
    return frame, cached_view(key, lambda: _feature_texts(frame, layer))


@bp.route("/collections/<collection_id>/items")
@allow(*access.EVERYONE)
def items(collection_id):
    layer = _layer(collection_id)
    query = load_query(OgcItemsQuery(), request.args)
    limit, offset, bbox, interval = query["limit"], query["offset"], query.get("bbox"), query.get("datetime")
    if interval is not None and not layer.temporal:
        raise GeoInputError(message("ogc.error.not_temporal", collection=repr(layer.id)))
    session = db_session()
    viewer = current_user._get_current_object()
    filters = read_filters(request.args, viewer, known_districts(session))
    if layer.page is not None:
        import dataclasses

        page, matched = layer.page(session, viewer, dataclasses.replace(filters, bbox=bbox), interval,
                                   limit, offset)
        features = _feature_texts(page, layer)
    else:
        import numpy as np

        frame, texts = _whole_texts(layer, filters)
        chosen = np.flatnonzero(_in_bbox(frame, bbox) & _in_interval(frame, layer, interval))
        matched, features = len(chosen), texts[chosen[offset:offset + limit]]
    current_app.logger.debug("ogc items %s limit=%d offset=%d matched=%d", layer.id, limit, offset, matched)
    args = {k: v for k, v in request.args.items() if k not in ("offset", "limit")}
    links = [
        {"href": _url("ogc.items", collection_id=layer.id, offset=offset, limit=limit, **args), "rel": "self",
         "type": GEOJSON, "title": "This page"},
        {"href": _url("ogc.collection", collection_id=layer.id), "rel": "collection", "type": JSON},
    ]
    if offset + limit < matched:
        links.append({"href": _url("ogc.items", collection_id=layer.id, offset=offset + limit, limit=limit, **args),
                      "rel": "next", "type": GEOJSON, "title": "Next page"})
    if offset > 0:
        links.append({"href": _url("ogc.items", collection_id=layer.id, offset=max(0, offset - limit), limit=limit,
                                   **args), "rel": "prev", "type": GEOJSON, "title": "Previous page"})
    # The features are GeoJSON text already; the rest of the page is written around them.
    rest = json.dumps({"numberMatched": matched, "numberReturned": len(features),
                       "timeStamp": rfc3339(datetime.now(timezone.utc)), "links": links}, ensure_ascii=False)
    body = '{"type":"FeatureCollection","features":[' + ",".join(features.tolist()) + "]," + rest[1:]
    return Response(body, mimetype=GEOJSON)


@bp.route("/collections/<collection_id>/items/<feature_id>")
@allow(*access.EVERYONE)
def item(collection_id, feature_id):
    _format_only()
    layer = _layer(collection_id)
    session = db_session()
    frame = _whole(layer, read_filters({}, current_user._get_current_object(), known_districts(session)))
    match = frame[frame["id"].astype(str) == str(feature_id)] if len(frame) else frame
    if not len(match):
        # The id asked for is not echoed: the answer is the same whether it names a hidden case or nothing.
        raise OgcNotFound(f"no such feature in collection {layer.id!r}")
    feature = _feature_texts(match.iloc[:1], layer, links=False)[0]
    links = [
        {"href": _url("ogc.item", collection_id=layer.id, feature_id=feature_id), "rel": "self", "type": GEOJSON},
        {"href": _url("ogc.collection", collection_id=layer.id), "rel": "collection", "type": JSON},
    ]
    return Response(feature[:-1] + ',"links":' + json.dumps(links, ensure_ascii=False) + "}", mimetype=GEOJSON)


@bp.route("/api")
@allow(*access.EVERYONE)
def openapi():
    """The OpenAPI 3.0 definition of these endpoints (requirement class /req/oas30), cut from the one
    document of the JSON API (``web/openapi.py``) with ``/ogc`` as its server."""
    _format_only()
    return Response(_openapi_text(_url("ogc.landing").rstrip("/")), mimetype=OPENAPI)


@functools.lru_cache(maxsize=16)  # a few host names a proxy may send; the document is ≈ 40 kB
def _openapi_text(server_url: str) -> str:
    """The document as text, built once per process and server URL: apispec walks every schema to build
    it, and it depends on nothing else (not the data, the viewer or the language)."""
    from web.openapi import ogc_document

    return json.dumps(ogc_document(server_url), ensure_ascii=False)

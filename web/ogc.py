"""OGC API – Features (Part 1: Core, GeoJSON, OpenAPI 3.0) over the export layers, for QGIS and ArcGIS.

Collections are the layers of :data:`web.exports.LAYERS` (communes with counts, incidents by role, commune
hotspots, key areas). Items honour ``bbox``, ``limit`` (1–10,000, default 100), ``offset``, ``datetime``
(RFC 3339 instant or interval with ``..`` open ends, on the layer's temporal property) and the layer's
queryables ``year``, ``category``, ``district`` (the same filters as the map). Requests authenticate with
the session cookie or an API token (``Authorization: Bearer …``, issued by ``flask create-token``);
confidential incidents are redacted for uncleared accounts exactly as on the map.

References: OGC 17-069r4 (OGC API – Features – Part 1: Core, 1.0.1), requirement classes /req/core,
/req/geojson, /req/oas30.
"""
from __future__ import annotations

import dataclasses

import json
import math
from datetime import datetime, timezone

import pandas as pd
import shapely
from flask import Blueprint, Response, request, url_for
from flask_login import current_user

from geo.errors import GeoInputError
from web import access, db_session
from web.access import allow
from web.exports import LAYERS, ExportFilters, feature_dicts, known_districts, read_filters

bp = Blueprint("ogc", __name__, url_prefix="/ogc")

CONFORMANCE = [
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
]
CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
GEOJSON = "application/geo+json"
JSON = "application/json"
OPENAPI = "application/vnd.oai.openapi+json;version=3.0"
DEFAULT_LIMIT, MAX_LIMIT = 100, 10_000
KNOWN_PARAMS = {"f", "bbox", "bbox-crs", "limit", "offset", "datetime", "year", "category", "district", "lang"}


class OgcError(GeoInputError):
    """A bad OGC request parameter (answered 400 with the OGC exception JSON)."""


def _json(body, mimetype=JSON, status=200):
    return Response(json.dumps(body, ensure_ascii=False), status=status, mimetype=mimetype)


def _url(endpoint, **values):
    return url_for(endpoint, _external=True, **values)


def _check_format():
    fmt = request.args.get("f")
    if fmt not in (None, "json", "geojson"):
        raise OgcError(f"f {fmt!r} is not one of: json, geojson")


@bp.errorhandler(GeoInputError)
def bad_request(error):
    return _json({"code": "InvalidParameterValue", "description": str(error)}, status=400)


@bp.route("")
@bp.route("/")
@allow(*access.EVERYONE)
def landing():
    _check_format()
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
    _check_format()
    return _json({"conformsTo": CONFORMANCE})


def _extent(frame, layer) -> dict:
    located = frame[frame.geometry.notna()] if len(frame) else frame
    bbox = [round(v, 6) for v in located.total_bounds] if len(located) else [-180.0, -90.0, 180.0, 90.0]
    extent = {"spatial": {"bbox": [bbox], "crs": CRS84}}
    if layer.temporal and len(frame) and frame[layer.temporal].notna().any():
        times = pd.to_datetime(frame[layer.temporal])
        extent["temporal"] = {"interval": [[_rfc3339(times.min()), _rfc3339(times.max())]],
                              "trs": "http://www.opengis.net/def/uom/ISO-8601/0/Gregorian"}
    return extent


def _rfc3339(value) -> str:
    return pd.Timestamp(value).strftime("%Y-%m-%dT%H:%M:%SZ")


def _collection(layer, frame) -> dict:
    return {
        "id": layer.id, "title": layer.title[0], "description": f"{layer.description[0]} / {layer.description[1]}",
        "itemType": "feature", "crs": [CRS84], "storageCrs": CRS84, "extent": _extent(frame, layer),
        "links": [
            {"href": _url("ogc.collection", collection_id=layer.id), "rel": "self", "type": JSON,
             "title": layer.title[0]},
            {"href": _url("ogc.items", collection_id=layer.id), "rel": "items", "type": GEOJSON,
             "title": "Items (GeoJSON)"},
        ],
    }


def _frame(layer, filters: ExportFilters | None = None, bbox=None):
    session = db_session()
    viewer = current_user._get_current_object()
    filters = filters or read_filters(request.args, viewer, known_districts(session))
    if bbox is not None:
        filters = dataclasses.replace(filters, bbox=tuple(bbox))
    return layer.build(session, viewer, filters)


def _layer(collection_id):
    if collection_id not in LAYERS:
        return None
    return LAYERS[collection_id]


def _not_found(what):
    return _json({"code": "NotFound", "description": what}, status=404)


@bp.route("/collections")
@allow(*access.EVERYONE)
def collections():
    _check_format()
    return _json({
        "links": [{"href": _url("ogc.collections"), "rel": "self", "type": JSON, "title": "Collections"}],
        "collections": [_collection(layer, _frame(layer)) for layer in LAYERS.values()],
    })


@bp.route("/collections/<collection_id>")
@allow(*access.EVERYONE)
def collection(collection_id):
    _check_format()
    layer = _layer(collection_id)
    if layer is None:
        return _not_found(f"collection {collection_id!r} is not one of: {', '.join(LAYERS)}")
    return _json(_collection(layer, _frame(layer)))


def parse_bbox(text: str | None):
    if not text:
        return None
    try:
        values = [float(v) for v in text.split(",")]
    except ValueError:
        raise OgcError(f"bbox {text!r} is not 4 (or 6) comma-separated numbers") from None
    if len(values) == 6:
        values = [values[0], values[1], values[3], values[4]]
    if len(values) != 4 or not all(math.isfinite(v) for v in values):
        raise OgcError(f"bbox {text!r} is not 4 (or 6) comma-separated numbers")
    minx, miny, maxx, maxy = values
    if miny > maxy or not (-90 <= miny <= 90 and -90 <= maxy <= 90):
        raise OgcError(f"bbox {text!r}: latitudes must be within −90…90 with the lower first")
    return values


def _parse_instant(text: str, end: bool):
    text = text.strip()
    try:
        if len(text) == 10:
            day = pd.Timestamp(text)
            return day + pd.Timedelta(days=1) - pd.Timedelta(microseconds=1) if end else day
        stamp = pd.Timestamp(text)
    except (ValueError, TypeError):
        raise OgcError(f"datetime {text!r} is not an RFC 3339 date-time") from None
    if stamp.tzinfo is not None:  # stored times are local (Asia/Ho_Chi_Minh) without zone
        stamp = stamp.tz_convert("Asia/Ho_Chi_Minh").tz_localize(None)
    return stamp


def parse_datetime(text: str | None):
    """(start, end) inclusive timestamps or None for open ends; None if no filter."""
    if not text:
        return None
    if "/" in text:
        first, _, last = text.partition("/")
        start = None if first in ("", "..") else _parse_instant(first, end=False)
        finish = None if last in ("", "..") else _parse_instant(last, end=True)
        if start is None and finish is None:
            raise OgcError(f"datetime {text!r}: at least one end of the interval must be given")
        if start is not None and finish is not None and start > finish:
            raise OgcError(f"datetime {text!r}: the interval ends before it starts")
        return start, finish
    instant = _parse_instant(text, end=False)
    return instant, (_parse_instant(text, end=True) if len(text.strip()) == 10 else instant)


def _int_param(name, default, low, high):
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise OgcError(f"{name} {raw!r} is not an integer") from None
    if not low <= value <= high:
        raise OgcError(f"{name} {value} is not between {low} and {high}")
    return value


@bp.route("/collections/<collection_id>/items")
@allow(*access.EVERYONE)
def items(collection_id):
    _check_format()
    layer = _layer(collection_id)
    if layer is None:
        return _not_found(f"collection {collection_id!r} is not one of: {', '.join(LAYERS)}")
    unknown = sorted(set(request.args) - KNOWN_PARAMS)
    if unknown:
        raise OgcError(f"parameters {unknown} are not known; allowed: {', '.join(sorted(KNOWN_PARAMS))}")
    if request.args.get("bbox-crs") not in (None, "", CRS84):
        raise OgcError(f"bbox-crs {request.args.get('bbox-crs')!r} is not supported; use {CRS84}")
    limit = _int_param("limit", DEFAULT_LIMIT, 1, MAX_LIMIT)
    offset = _int_param("offset", 0, 0, 10**9)
    bbox = parse_bbox(request.args.get("bbox"))
    interval = parse_datetime(request.args.get("datetime"))
    frame = _frame(layer, bbox=bbox)
    if bbox is not None:
        minx, miny, maxx, maxy = bbox
        boxes = [shapely.box(minx, miny, maxx, maxy)] if minx <= maxx else \
            [shapely.box(minx, miny, 180, maxy), shapely.box(-180, miny, maxx, maxy)]  # across the antimeridian
        area = shapely.union_all(boxes)
        frame = frame[frame.geometry.notna() & frame.geometry.intersects(area)]
    if interval is not None:
        if not layer.temporal:
            raise OgcError(f"datetime: collection {layer.id!r} has no temporal property")
        times = pd.to_datetime(frame[layer.temporal])
        keep = times.notna()
        if interval[0] is not None:
            keep &= times >= interval[0]
        if interval[1] is not None:
            keep &= times <= interval[1]
        frame = frame[keep]
    matched = len(frame)
    page = frame.iloc[offset:offset + limit]
    features = feature_dicts(page)
    for feature in features:
        feature["links"] = [{"href": _url("ogc.item", collection_id=layer.id, feature_id=feature["id"]),
                             "rel": "self", "type": GEOJSON}]
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
    return _json({"type": "FeatureCollection", "features": features, "numberMatched": matched,
                  "numberReturned": len(features), "timeStamp": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
                  "links": links}, mimetype=GEOJSON)


@bp.route("/collections/<collection_id>/items/<feature_id>")
@allow(*access.EVERYONE)
def item(collection_id, feature_id):
    _check_format()
    layer = _layer(collection_id)
    if layer is None:
        return _not_found(f"collection {collection_id!r} is not one of: {', '.join(LAYERS)}")
    frame = _frame(layer)
    match = frame[frame["id"].astype(str) == str(feature_id)] if len(frame) else frame
    if not len(match):
        return _not_found(f"feature {feature_id!r} is not in collection {layer.id!r}")
    feature = feature_dicts(match.iloc[:1])[0]
    feature["links"] = [
        {"href": _url("ogc.item", collection_id=layer.id, feature_id=feature_id), "rel": "self", "type": GEOJSON},
        {"href": _url("ogc.collection", collection_id=layer.id), "rel": "collection", "type": JSON},
    ]
    return _json(feature, mimetype=GEOJSON)


@bp.route("/api")
@allow(*access.EVERYONE)
def openapi():
    """A minimal OpenAPI 3.0 definition of these endpoints (requirement class /req/oas30)."""
    def param(name, description, schema, where="query", required=False):
        return {"name": name, "in": where, "description": description, "required": required, "schema": schema}

    item_params = [
        param("bbox", "minLon,minLat,maxLon,maxLat (CRS84)", {"type": "array", "items": {"type": "number"},
                                                             "minItems": 4, "maxItems": 6}),
        param("limit", "items per page", {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT,
                                          "default": DEFAULT_LIMIT}),
        param("offset", "items to skip", {"type": "integer", "minimum": 0, "default": 0}),
        param("datetime", "RFC 3339 instant or interval (../end, start/..)", {"type": "string"}),
        param("year", "calendar year", {"type": "integer"}),
        param("category", "category code, social_order, border_corridor or group:<group>", {"type": "string"}),
        param("district", "district code", {"type": "string"}),
    ]
    collection_id = param("collectionId", "collection", {"type": "string", "enum": list(LAYERS)}, "path", True)
    ok = {"200": {"description": "OK"}}
    body = {
        "openapi": "3.0.3",
        "info": {"title": "Bản đồ 138 — OGC API Features", "version": "1.0.0"},
        "servers": [{"url": _url("ogc.landing").rstrip("/")}],
        "components": {"securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}},
        "security": [{"bearer": []}],
        "paths": {
            "/": {"get": {"summary": "Landing page", "operationId": "getLandingPage", "responses": ok}},
            "/conformance": {"get": {"summary": "Conformance classes", "operationId": "getConformance",
                                     "responses": ok}},
            "/collections": {"get": {"summary": "Collections", "operationId": "getCollections", "responses": ok}},
            "/collections/{collectionId}": {"get": {"summary": "A collection", "operationId": "describeCollection",
                                                    "parameters": [collection_id], "responses": ok}},
            "/collections/{collectionId}/items": {"get": {"summary": "Features", "operationId": "getFeatures",
                                                          "parameters": [collection_id] + item_params,
                                                          "responses": ok}},
            "/collections/{collectionId}/items/{featureId}": {"get": {
                "summary": "One feature", "operationId": "getFeature",
                "parameters": [collection_id, param("featureId", "feature id", {"type": "string"}, "path", True)],
                "responses": ok}},
        },
    }
    return _json(body, mimetype="application/vnd.oai.openapi+json")

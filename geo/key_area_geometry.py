"""Geometry of a key area (địa bàn trọng điểm): read a drawn or uploaded shape and check it.

A key area is a commune or a part of one (a hamlet, a market, a wharf, a route) — so its shape must be a
valid polygon lying inside its district. Shapes come from the map (Leaflet.draw sends GeoJSON), from an
uploaded GeoJSON file or from a KML file (Google Earth, QGIS exports). KML is read with the standard
library's XML parser: only ``Polygon`` / ``MultiGeometry`` of polygons are taken, as KML 2.2 (OGC 07-147r2)
defines them (``outerBoundaryIs`` / ``innerBoundaryIs`` rings of ``lon,lat[,alt]`` tuples).
"""
from __future__ import annotations

import json
import xml.etree.ElementTree as ET

import shapely
from shapely.geometry import MultiPolygon, Polygon, shape
from shapely.validation import explain_validity

from geo.crs import METRIC_CRS, WGS84
from geo.errors import GeoInputError

INSIDE_TOLERANCE_M = 100.0  # boundaries are digitised coarsely; a wharf on the river bank may poke out a little
MAX_VERTICES = 20_000


def parse_geojson(text: str):
    """A polygon geometry from GeoJSON text: a geometry, a Feature, or a FeatureCollection of polygons."""
    try:
        data = json.loads(text)
    except (TypeError, ValueError) as e:
        raise GeoInputError(f"geometry is not valid GeoJSON: {e}") from None
    if not isinstance(data, dict) or "type" not in data:
        raise GeoInputError("geometry must be a GeoJSON object with a 'type'")
    features = data.get("features") or []
    if data["type"] == "FeatureCollection" and not (isinstance(features, list)
                                                    and all(isinstance(f, dict) for f in features)):
        raise GeoInputError("geometry: 'features' of a FeatureCollection must be a list of Feature objects")
    if data["type"] == "FeatureCollection":
        parts = [f.get("geometry") for f in features]
    elif data["type"] == "Feature":
        parts = [data.get("geometry")]
    else:
        parts = [data]
    geoms = []
    for part in parts:
        if not part:
            continue
        if not isinstance(part, dict):
            raise GeoInputError(f"geometry must be a GeoJSON geometry object, not {type(part).__name__}")
        try:
            geoms.append(shape(part))
        except Exception as e:  # shapely raises several types for malformed coordinates
            raise GeoInputError(f"geometry of type {part.get('type')!r} could not be read: {e}") from None
    return _as_polygonal(geoms, "GeoJSON")


def parse_kml(text: str | bytes):
    """A polygon geometry from KML text (every ``Polygon`` in the document, merged)."""
    try:
        root = ET.fromstring(text)
    except ET.ParseError as e:
        raise GeoInputError(f"file is not valid KML/XML: {e}") from None
    polygons = []
    for element in root.iter():
        if _local(element.tag) != "Polygon":
            continue
        outer = [_ring(b) for b in element if _local(b.tag) == "outerBoundaryIs"]
        inner = [_ring(b) for b in element if _local(b.tag) == "innerBoundaryIs"]
        if not outer:
            raise GeoInputError("a KML Polygon has no outerBoundaryIs ring")
        polygons.append(Polygon(outer[0], inner))
    return _as_polygonal(polygons, "KML")


def read_area_file(filename: str, content: bytes):
    """Dispatch on the file extension: ``.geojson``/``.json`` or ``.kml``."""
    name = (filename or "").lower()
    if name.endswith((".geojson", ".json")):
        try:
            return parse_geojson(content.decode("utf-8-sig"))
        except UnicodeDecodeError:
            raise GeoInputError(f"file {filename!r} is not UTF-8 text") from None
    if name.endswith(".kml"):
        return parse_kml(content)
    raise GeoInputError(f"file {filename!r} must end with .geojson, .json or .kml")


def check_area_geometry(geometry, district_geometry, *, district_label: str = "huyện",
                        tolerance_m: float = INSIDE_TOLERANCE_M):
    """Check that ``geometry`` is a valid, non-empty polygon inside ``district_geometry``.

    Parameters
    ----------
    geometry : shapely Polygon or MultiPolygon, EPSG:4326
    district_geometry : shapely geometry, EPSG:4326
        The district (or province) the area must lie in.
    district_label : str
        Name used in the error message.
    tolerance_m : float
        Distance in metres the area may extend outside (coarse boundary digitising).

    Returns
    -------
    shapely geometry
        The same geometry, normalised (2-D).

    Raises
    ------
    GeoInputError
        In Vietnamese, naming what is wrong (type, self-intersection, outside the district).
    """
    if geometry is None or geometry.is_empty:
        raise GeoInputError("Hình vẽ trống: hãy vẽ hoặc tải lên một vùng (polygon).")
    if not isinstance(geometry, (Polygon, MultiPolygon)):
        raise GeoInputError(f"Địa bàn phải là vùng (Polygon/MultiPolygon), nhận được {geometry.geom_type}.")
    geometry = shapely.force_2d(geometry)
    if shapely.get_num_coordinates(geometry) > MAX_VERTICES:
        raise GeoInputError(f"Hình có quá nhiều đỉnh (> {MAX_VERTICES}); hãy đơn giản hóa trước khi tải lên.")
    if not geometry.is_valid:
        raise GeoInputError(f"Hình không hợp lệ ({explain_validity(geometry)}); hãy vẽ lại không tự cắt nhau.")
    minx, miny, maxx, maxy = geometry.bounds
    if not (-180 <= minx <= maxx <= 180 and -90 <= miny <= maxy <= 90):
        raise GeoInputError("Tọa độ phải là kinh độ/vĩ độ WGS84 (EPSG:4326).")
    import geopandas as gpd

    frame = gpd.GeoSeries([geometry, district_geometry], crs=WGS84).to_crs(METRIC_CRS)
    if frame.iloc[0].area <= 1.0:
        raise GeoInputError("Vùng có diện tích bằng 0; hãy vẽ một vùng thật.")
    if not frame.iloc[1].buffer(tolerance_m).covers(frame.iloc[0]):
        raise GeoInputError(f"Vùng nằm ngoài {district_label}; chỉ được chọn địa bàn trong {district_label}.")
    return geometry


def _as_polygonal(geoms, source: str):
    geoms = [g for g in geoms if g is not None and not g.is_empty]
    if not geoms:
        raise GeoInputError(f"{source} contains no polygon")
    bad = sorted({g.geom_type for g in geoms if not isinstance(g, (Polygon, MultiPolygon))})
    if bad:
        raise GeoInputError(f"Địa bàn phải là vùng (Polygon/MultiPolygon), {source} có: {', '.join(bad)}.")
    if len(geoms) == 1:
        return geoms[0]
    polygons = [p for g in geoms for p in (g.geoms if isinstance(g, MultiPolygon) else [g])]
    return MultiPolygon(polygons)


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _ring(boundary) -> list[tuple[float, float]]:
    for element in boundary.iter():
        if _local(element.tag) == "coordinates":
            points = []
            for token in (element.text or "").split():
                values = token.split(",")
                try:
                    points.append((float(values[0]), float(values[1])))
                except (IndexError, ValueError):
                    raise GeoInputError(f"KML coordinate {token!r} is not lon,lat[,alt]") from None
            if len(points) < 4:
                raise GeoInputError("a KML ring needs at least 4 points (closed)")
            return points
    raise GeoInputError("a KML boundary has no coordinates")

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
from translations import message

INSIDE_TOLERANCE_M = 100.0  # boundaries are digitised coarsely; a wharf on the river bank may poke out a little
MAX_VERTICES = 20_000


def parse_geojson(text: str):
    """A polygon geometry from GeoJSON text: a geometry, a Feature, or a FeatureCollection of polygons."""
    try:
        data = json.loads(text)
    except (TypeError, ValueError) as e:
        raise GeoInputError(message("geo.key_area_geometry.geometry_valid_geojson", e=e)) from None
    except RecursionError:  # the json module recurses once per nesting level
        raise GeoInputError(message("geo.key_area_geometry.geometry_valid_geojson_nested")) from None
    if not isinstance(data, dict) or "type" not in data:
        raise GeoInputError(message("geo.key_area_geometry.geometry_geojson_object_type"))
    features = data.get("features") or []
    if data["type"] == "FeatureCollection" and not (isinstance(features, list)
                                                    and all(isinstance(f, dict) for f in features)):
        raise GeoInputError(message("geo.key_area_geometry.geometry_features_featurecollection_list"))
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
            raise GeoInputError(message("geo.key_area_geometry.geometry_geojson_geometry_object",
                                        type_name=type(part).__name__))
        try:
            geoms.append(shape(part))
        except Exception as e:  # shapely raises several types for malformed coordinates
            raise GeoInputError(message("geo.key_area_geometry.geometry_type_could_read", part=part.get('type'),
                                        e=e)) from None
    return _as_polygonal(geoms, "GeoJSON")


def parse_kml(text: str | bytes):
    """A polygon geometry from KML text (every ``Polygon`` in the document, merged)."""
    try:
        root = ET.fromstring(text)
    except ET.ParseError as e:
        raise GeoInputError(message("geo.key_area_geometry.file_valid_kml_xml", e=e)) from None
    polygons = []
    for element in root.iter():
        if _local(element.tag) != "Polygon":
            continue
        outer = [_ring(b) for b in element if _local(b.tag) == "outerBoundaryIs"]
        inner = [_ring(b) for b in element if _local(b.tag) == "innerBoundaryIs"]
        if not outer:
            raise GeoInputError(message("geo.key_area_geometry.kml_polygon_outerboundaryis_ring"))
        polygons.append(Polygon(outer[0], inner))
    return _as_polygonal(polygons, "KML")


def read_area_file(filename: str, content: bytes):
    """Dispatch on the file extension: ``.geojson``/``.json`` or ``.kml``."""
    name = (filename or "").lower()
    if name.endswith((".geojson", ".json")):
        try:
            return parse_geojson(content.decode("utf-8-sig"))
        except UnicodeDecodeError:
            raise GeoInputError(message("geo.key_area_geometry.file_utf_text", filename=filename)) from None
    if name.endswith(".kml"):
        return parse_kml(content)
    raise GeoInputError(message("geo.key_area_geometry.file_end_geojson_json", filename=filename))


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
        raise GeoInputError(message("geo.key_area_geometry.empty_drawing"))
    if not isinstance(geometry, (Polygon, MultiPolygon)):
        raise GeoInputError(message("geo.key_area_geometry.must_be_polygon", geometry_geom_type=geometry.geom_type))
    geometry = shapely.force_2d(geometry)
    if shapely.get_num_coordinates(geometry) > MAX_VERTICES:
        raise GeoInputError(message("geo.key_area_geometry.too_many_vertices", max_vertices=MAX_VERTICES))
    if not geometry.is_valid:
        raise GeoInputError(message("geo.key_area_geometry.invalid_shape",
                                    explain_validity=explain_validity(geometry)))
    minx, miny, maxx, maxy = geometry.bounds
    if not (-180 <= minx <= maxx <= 180 and -90 <= miny <= maxy <= 90):
        raise GeoInputError(message("geo.key_area_geometry.coordinates_wgs84"))
    import geopandas as gpd

    frame = gpd.GeoSeries([geometry, district_geometry], crs=WGS84).to_crs(METRIC_CRS)
    if frame.iloc[0].area <= 1.0:
        raise GeoInputError(message("geo.key_area_geometry.zero_area"))
    if not frame.iloc[1].buffer(tolerance_m).covers(frame.iloc[0]):
        raise GeoInputError(message("geo.key_area_geometry.outside_district", district_label=district_label))
    return geometry


def _as_polygonal(geoms, source: str):
    geoms = [g for g in geoms if g is not None and not g.is_empty]
    if not geoms:
        raise GeoInputError(message("geo.key_area_geometry.contains_polygon", source=source))
    bad = sorted({g.geom_type for g in geoms if not isinstance(g, (Polygon, MultiPolygon))})
    if bad:
        raise GeoInputError(message("geo.key_area_geometry.must_be_polygon_source", source=source, bad=', '.join(bad)))
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
                    raise GeoInputError(message("geo.key_area_geometry.kml_coordinate_lon_lat", token=token)) from None
            if len(points) < 4:
                raise GeoInputError(message("geo.key_area_geometry.kml_ring_needs_least"))
            return points
    raise GeoInputError(message("geo.key_area_geometry.kml_boundary_coordinates"))

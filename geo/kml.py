"""KML 2.2 documents of a GeoDataFrame, written with ElementTree so that every text and attribute is escaped.

Attributes are typed: one ``<Schema>`` declares each column with its KML type (``int``, ``double``,
``bool``, ``string``) and every Placemark carries them as ``<SimpleData>`` in a ``<SchemaData>``
(OGC 07-147r2, KML 2.2, §9.8–9.9 and §9.13). Text that XML 1.0 cannot hold at all (control characters
other than tab and line breaks) is dropped, since no escaping can express it.
"""
from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import pandas as pd

from geo.export import plain_value

KML_NAMESPACE = "http://www.opengis.net/kml/2.2"
# XML 1.0 §2.2 Char: tab, line feed, carriage return and U+0020 onwards, less surrogates, U+FFFE and U+FFFF.
_NOT_XML_CHAR = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def xml_safe_text(value) -> str:
    """``value`` as text an XML 1.0 document can hold (the serializer still escapes ``<``, ``&`` …)."""
    return _NOT_XML_CHAR.sub("", "" if value is None else str(value))


def kml_type(dtype) -> str:
    """The KML SimpleField type of a pandas column (KML 2.2 §9.9.3)."""
    if pd.api.types.is_bool_dtype(dtype):
        return "bool"
    if pd.api.types.is_integer_dtype(dtype):
        return "int"
    if pd.api.types.is_float_dtype(dtype):
        return "double"
    return "string"


def _field_text(value, kind: str) -> str | None:
    """The text of one SimpleData, or None for a missing value (the element is then left out)."""
    value = plain_value(value)
    if value is None:
        return None
    if kind == "bool":
        return "true" if value else "false"
    return xml_safe_text(value)


def _coordinates(coords) -> str:
    return " ".join(f"{x:.7f},{y:.7f}" for x, y, *_ in coords)


def _geometry(parent, geometry) -> None:
    kind = geometry.geom_type
    if kind == "Point":
        ET.SubElement(ET.SubElement(parent, "Point"), "coordinates").text = _coordinates(geometry.coords)
    elif kind in ("LineString", "LinearRing"):
        ET.SubElement(ET.SubElement(parent, "LineString"), "coordinates").text = _coordinates(geometry.coords)
    elif kind == "Polygon":
        polygon = ET.SubElement(parent, "Polygon")
        outer = ET.SubElement(ET.SubElement(polygon, "outerBoundaryIs"), "LinearRing")
        ET.SubElement(outer, "coordinates").text = _coordinates(geometry.exterior.coords)
        for ring in geometry.interiors:
            inner = ET.SubElement(ET.SubElement(polygon, "innerBoundaryIs"), "LinearRing")
            ET.SubElement(inner, "coordinates").text = _coordinates(ring.coords)
    else:  # Multi* and collections
        parts = list(geometry.geoms)
        if len(parts) == 1:
            _geometry(parent, parts[0])
            return
        multi = ET.SubElement(parent, "MultiGeometry")
        for part in parts:
            _geometry(multi, part)


def kml_document(frame, *, title: str, description: str = "", names=None, colours=None,
                 schema_id: str = "attributes") -> bytes:
    """A KML 2.2 document with one Placemark per located row of ``frame`` (EPSG:4326).

    Parameters
    ----------
    frame : geopandas.GeoDataFrame
        Rows to write; rows without a geometry are left out (the caller says so in ``description``).
    title, description : str
        Document name and description.
    names : sequence of str, optional
        Placemark names, one per row of ``frame`` (default: the row number).
    colours : sequence of str, optional
        KML colours (``aabbggrr``), one per row, for the line and (translucent) fill of the Placemark.
    schema_id : str
        Id of the Schema typing the attribute columns.
    """
    root = ET.Element("kml", xmlns=KML_NAMESPACE)
    document = ET.SubElement(root, "Document")
    ET.SubElement(document, "name").text = xml_safe_text(title)
    if description:
        ET.SubElement(document, "description").text = xml_safe_text(description)
    columns = [c for c in frame.columns if c != frame.geometry.name]
    kinds = {c: kml_type(frame[c].dtype) for c in columns}
    schema = ET.SubElement(document, "Schema", name=xml_safe_text(schema_id), id=xml_safe_text(schema_id))
    for column in columns:
        ET.SubElement(schema, "SimpleField", name=xml_safe_text(column), type=kinds[column])
    records = frame[columns].to_dict("records")
    for i, (record, geometry) in enumerate(zip(records, frame.geometry)):
        if geometry is None or geometry.is_empty:
            continue
        placemark = ET.SubElement(document, "Placemark")
        ET.SubElement(placemark, "name").text = xml_safe_text(names[i] if names is not None else i + 1)
        if colours is not None:
            style = ET.SubElement(placemark, "Style")
            line = ET.SubElement(style, "LineStyle")
            ET.SubElement(line, "color").text = colours[i]
            ET.SubElement(line, "width").text = "4"
            ET.SubElement(ET.SubElement(style, "PolyStyle"), "color").text = "50" + colours[i][2:]
        data = ET.SubElement(ET.SubElement(placemark, "ExtendedData"), "SchemaData", schemaUrl=f"#{schema_id}")
        for column in columns:
            text = _field_text(record[column], kinds[column])
            if text is not None:
                ET.SubElement(data, "SimpleData", name=xml_safe_text(column)).text = text
        _geometry(placemark, geometry)
    ET.indent(root)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)

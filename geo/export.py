"""Turn incident tables into exchange formats (CSV, GeoJSON) without losing the redaction of sensitive rows."""
from __future__ import annotations

import io
import math

import pandas as pd

EXPORT_COLUMNS = ["id", "occurred_at", "reported_at", "category", "severity", "case_status", "lon", "lat",
                  "commune_code", "district_code", "sensitive", "description", "article", "clause"]


def incidents_to_csv(frame: pd.DataFrame) -> str:
    """CSV in the import schema (so an export can be re-imported); redacted rows have empty lon/lat.

    Redacted rows cannot be re-imported as they are, by design: their exact location is withheld.
    """
    columns = [c for c in EXPORT_COLUMNS if c in frame.columns]
    out = frame[columns].copy()
    for column in ("occurred_at", "reported_at"):
        if column in out:
            out[column] = pd.to_datetime(out[column]).dt.strftime("%Y-%m-%dT%H:%M:%S").fillna("")
    buffer = io.StringIO()
    out.to_csv(buffer, index=False, lineterminator="\n")
    return buffer.getvalue()


def incidents_to_geojson(frame: pd.DataFrame) -> dict:
    """A GeoJSON FeatureCollection in EPSG:4326; redacted rows keep their commune but have no geometry."""
    features = []
    columns = [c for c in EXPORT_COLUMNS if c in frame.columns and c not in ("lon", "lat")]
    for record in frame.to_dict("records"):
        lon, lat = record.get("lon"), record.get("lat")
        has_point = lon is not None and lat is not None and not (math.isnan(lon) or math.isnan(lat))
        properties = {c: _plain(record.get(c)) for c in columns}
        features.append({
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [lon, lat]} if has_point else None,
            "properties": properties,
        })
    return {"type": "FeatureCollection", "features": features}


def _plain(value):
    if value is None:
        return None
    if isinstance(value, pd.Timestamp) or hasattr(value, "isoformat"):
        return None if pd.isna(value) else value.isoformat()
    if isinstance(value, float) and math.isnan(value):
        return None
    if hasattr(value, "item"):
        return value.item()
    return value

"""Coordinate reference systems used by the tracker.

Storage and display use WGS 84 longitude/latitude (EPSG:4326). Every distance and area is computed in
UTM zone 48N (EPSG:32648), which covers Đồng Tháp (105.2–106.0° E) with negligible scale error.
"""
from __future__ import annotations

import numpy as np

from geo.errors import GeoInputError

WGS84 = "EPSG:4326"
METRIC_CRS = "EPSG:32648"


def to_wgs84(gdf):
    """Return ``gdf`` in EPSG:4326; a frame without a CRS is refused rather than guessed."""
    if gdf.crs is None:
        raise GeoInputError("the layer has no CRS; give one (for example EPSG:9210 for VN-2000 / TM-3 105°E)")
    return gdf if gdf.crs.to_string() == WGS84 else gdf.to_crs(WGS84)


def to_metric(gdf):
    """Return ``gdf`` in the metric CRS (EPSG:32648) used for every distance and area."""
    if gdf.crs is None:
        raise GeoInputError("the layer has no CRS; cannot compute distances in metres")
    return gdf if gdf.crs.to_string() == METRIC_CRS else gdf.to_crs(METRIC_CRS)


def lonlat_to_metric(lon, lat):
    """Project longitude/latitude arrays to EPSG:32648 metres; returns ``(x, y)`` float arrays."""
    from pyproj import Transformer

    transformer = _transformer(WGS84, METRIC_CRS)
    x, y = transformer.transform(np.asarray(lon, dtype=float), np.asarray(lat, dtype=float))
    return np.asarray(x), np.asarray(y)


def metric_to_lonlat(x, y):
    """Inverse of :func:`lonlat_to_metric`."""
    transformer = _transformer(METRIC_CRS, WGS84)
    lon, lat = transformer.transform(np.asarray(x, dtype=float), np.asarray(y, dtype=float))
    return np.asarray(lon), np.asarray(lat)


_TRANSFORMERS: dict = {}


def _transformer(src, dst):
    from pyproj import Transformer

    key = (src, dst)
    if key not in _TRANSFORMERS:
        _TRANSFORMERS[key] = Transformer.from_crs(src, dst, always_xy=True)
    return _TRANSFORMERS[key]


def require_metres(x, y, what="coordinates"):
    """Refuse coordinates that look like degrees where metres are needed.

    UTM 48N eastings of Đồng Tháp are about 5.6e5 and northings about 1.1e6; any array whose values all
    lie within ±180/±90 is almost certainly longitude/latitude passed by mistake.
    """
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    if x.size and np.nanmax(np.abs(x)) <= 180 and np.nanmax(np.abs(y)) <= 90:
        raise GeoInputError(
            f"{what} look like longitude/latitude degrees (x within ±180, y within ±90); "
            f"project them to metres ({METRIC_CRS}) first"
        )
    return x, y

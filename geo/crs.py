"""Coordinate reference systems used by the tracker.

Storage and display use WGS 84 longitude/latitude (EPSG:4326). Every distance and area is computed in
UTM zone 48N (EPSG:32648), which covers Đồng Tháp (105.2–106.0° E) with negligible scale error.
"""
from __future__ import annotations

import numpy as np

from geo.errors import GeoInputError
from translations import message

WGS84 = "EPSG:4326"
METRIC_CRS = "EPSG:32648"


def to_wgs84(gdf):
    """Return ``gdf`` in EPSG:4326; a frame without a CRS is refused rather than guessed."""
    if gdf.crs is None:
        raise GeoInputError(message("geo.crs.layer_crs_give_one"))
    return gdf if gdf.crs.to_string() == WGS84 else gdf.to_crs(WGS84)


def to_metric(gdf):
    """Return ``gdf`` in the metric CRS (EPSG:32648) used for every distance and area."""
    if gdf.crs is None:
        raise GeoInputError(message("geo.crs.layer_crs_cannot_compute"))
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


class DegreesNotMetresError(GeoInputError):
    """Coordinates given where metres are needed look like degrees; ``suggested_crs`` is their UTM zone."""

    def __init__(self, text, suggested_crs: str):
        super().__init__(text)
        self.suggested_crs = suggested_crs


def utm_crs_of(lon, lat) -> str:
    """The WGS 84 / UTM zone (``EPSG:326zz`` north, ``EPSG:327zz`` south) of the centroid of lon/lat points.

    Parameters
    ----------
    lon, lat : array_like
        Degrees; NaN values are ignored.

    Notes
    -----
    Zone ``floor((lon + 180) / 6) + 1`` (Snyder 1987, *Map Projections — A Working Manual*, p. 62), from
    the mean longitude and latitude of the points. The Norway/Svalbard exceptions are not applied; the
    suggestion is a starting point for a metric CRS, not a legal reference.
    """
    lon = np.asarray(lon, dtype=float).ravel()
    lat = np.asarray(lat, dtype=float).ravel()
    if not lon.size or not np.isfinite(lon).any() or not np.isfinite(lat).any():
        raise GeoInputError(message("geo.crs.finite_coordinates_cannot_choose"))
    centre_lon = float(np.nanmean(lon))
    centre_lat = float(np.nanmean(lat))
    zone = min(int(np.floor((centre_lon + 180.0) / 6.0)) + 1, 60)
    return f"EPSG:{32600 + zone if centre_lat >= 0 else 32700 + zone}"


def require_metres(x, y, what="coordinates"):
    """Refuse coordinates that look like degrees where metres are needed.

    UTM 48N eastings of Đồng Tháp are about 5.6e5 and northings about 1.1e6; any array whose values all
    lie within ±180/±90 is almost certainly longitude/latitude passed by mistake. The error
    (:class:`DegreesNotMetresError`) suggests the UTM zone of the data's own centroid
    (:func:`utm_crs_of`), not a fixed zone.
    """
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    if x.size and np.nanmax(np.abs(x)) <= 180 and np.nanmax(np.abs(y)) <= 90:
        suggested = utm_crs_of(x, y)
        raise DegreesNotMetresError(
            message("geo.crs.look_like_longitude_latitude", what=what, suggested=suggested),
            suggested)
    return x, y

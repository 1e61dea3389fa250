"""The prospective forecast as a map layer: next month's riskiest cells, labelled as a forecast.

The cells come from :func:`store.evaluation.forecast_features` (GeoJSON, EPSG:4326, with ``risk`` and ``rank``).
:func:`forecast_display` gives them as drawn; the hot spot page's ``static/js/hotspot_forecast.js`` fetches that
after the map has shown and adds the layer, off by default so it never hides the analysis it sits over, with a
tooltip on every cell that says FORECAST.
"""
from __future__ import annotations

import numpy as np
import shapely

from geo.geojson import collection_of
from layers.text import choose, format_number
from translations import CatalogTable

FORECAST_COLOUR = "#7c3aed"
#: Coordinates drawn to about 1 m, as the hot spot layers: the full 16 digits tripled the map script.
DISPLAY_DECIMALS = 5
_WORDS = CatalogTable("layers.forecast")


def forecast_display(collection: dict, *, lang: str = "vi") -> dict:
    """The flagged cells of ``collection`` as drawn: coordinates rounded to :data:`DISPLAY_DECIMALS`, a plain
    text FORECAST tooltip (``tip``) per cell, and ``properties`` with the layer's ``name`` and ``colour``.

    Parameters
    ----------
    collection : dict
        FeatureCollection whose features carry ``rank`` and ``risk`` and whose ``properties`` carry the
        ``horizon`` (``start``, ``end`` ISO dates), as :func:`store.evaluation.forecast_features` gives.
    """
    features = collection.get("features") or []
    if not isinstance(features, list):
        raise ValueError("collection['features'] must be a list of GeoJSON features")
    horizon = (collection.get("properties") or {}).get("horizon") or {}
    start, end = (_day(horizon.get(k, "")) for k in ("start", "end"))
    template = choose(_WORDS["tip"], lang)
    geometries, tips = [], []
    if features:
        geometries = shapely.transform(
            np.array([shapely.geometry.shape(f["geometry"]) for f in features], dtype=object),
            lambda xy: np.round(xy, DISPLAY_DECIMALS))
        for feature in features:
            props = feature.get("properties") or {}
            tips.append(template.format(start=start, end=end, rank=int(props.get("rank", 0)),
                                        risk=format_number(props.get("risk"), lang, 2)))
    return {**collection_of(list(geometries), {"tip": tips}),
            "properties": {"name": choose(_WORDS["name"], lang), "colour": FORECAST_COLOUR}}


def _day(iso: str) -> str:
    return f"{iso[8:10]}/{iso[5:7]}/{iso[0:4]}" if len(iso) >= 10 else ""

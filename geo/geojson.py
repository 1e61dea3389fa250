"""The GeoJSON writers: features of a GeoDataFrame, and the text of large analysis grids column by column.

:func:`feature_collection` is what every route, export and command uses for a GeoDataFrame: geopandas'
``GeoDataFrame.to_geo_dict`` after :func:`geo.export.plain_value` has made each property JSON-ready (dates
and times as ISO 8601 text, missing and non-finite numbers as ``null``, numpy scalars as Python ones).

:func:`feature_collection_text` is for grids of tens of thousands of cells. A writer that goes through one
mapping per feature (``GeoDataFrame.to_file``, ``json.dumps`` of a ``FeatureCollection``) spends most of its
time creating and walking those mappings. Here each property column is turned into JSON text in one
vectorised numpy step, geometries are written by GEOS (:func:`shapely.to_geojson` on the whole array), and
the feature strings are concatenated column-wise with :mod:`numpy.strings`. The output is RFC 7946 GeoJSON; a CRS other than WGS 84 is named with the
legacy ``crs`` member (GeoJSON 2008 §3), which GDAL, QGIS and geopandas read.
"""
from __future__ import annotations

import json
import sys
from json.encoder import encode_basestring

import numpy as np

from geo.errors import GeoInputError
from translations import message

_TEXT = np.dtypes.StringDType()
_NOT_JSON_NUMBERS = ("nan", "inf", "-inf")


def _json_values(values) -> np.ndarray:
    """JSON text of each value of one column, as ``json.dumps(plain_value(v))`` writes it, in vectorised steps.

    Numbers, booleans and strings (also in object columns with missing values: None, NaN, NaT, ``pd.NA`` are
    ``null``) are written column-wise; a column holding anything else (dates, lists, mixed types) goes through
    :func:`geo.export.plain_value` and ``json.dumps`` value by value.
    """
    # pandas only when it is loaded already: a pandas column, pd.NA or NaT cannot exist otherwise, and the
    # command-line grids (numpy columns) would pay a second of start-up for importing it.
    pd = sys.modules.get("pandas")
    if pd is not None and isinstance(getattr(values, "dtype", None), pd.api.extensions.ExtensionDtype):
        # nullable integers and booleans (Int64, boolean): numpy would make floats of them
        values = pd.array(values).to_numpy(dtype=object, na_value=None)
    array = np.asarray(values)
    if array.dtype == bool:
        return np.where(array, "true", "false").astype(_TEXT)
    if np.issubdtype(array.dtype, np.integer):
        return array.astype(_TEXT)
    if np.issubdtype(array.dtype, np.floating):
        # numpy prints the shortest text that reads back as the same double, as Python's repr does.
        text = array.astype(np.float64).astype(_TEXT)
        missing = ~np.isfinite(array)
        if missing.any():
            text[missing] = "null"
        return text
    if array.dtype.kind in ("U", "T"):
        return _json_strings(array.astype(object), np.zeros(array.shape, dtype=bool))
    if array.dtype.kind != "O":
        return _json_one_by_one(array)
    as_list = array.tolist()
    if not array.size:
        missing = np.zeros(0, dtype=bool)
    elif pd is not None:
        missing = np.asarray(pd.isna(array), dtype=bool)
    else:
        missing = np.array([v is None or (isinstance(v, float) and v != v) for v in as_list], dtype=bool)
    present = [v for v, gone in zip(as_list, missing.tolist()) if not gone]
    kinds = {type(v) for v in present}
    if kinds and kinds <= {bool, np.bool_}:
        text = np.where(np.array([bool(v) if not gone else False for v, gone in zip(as_list, missing.tolist())]),
                        "true", "false").astype(_TEXT)
    elif kinds and all(issubclass(k, (int, np.integer)) and not issubclass(k, (bool, np.bool_)) for k in kinds):
        text = np.array([0 if gone else int(v) for v, gone in zip(as_list, missing.tolist())],
                        dtype=np.int64).astype(_TEXT)
    elif kinds and all(issubclass(k, (int, float, np.integer, np.floating)) and not issubclass(k, (bool, np.bool_))
                       for k in kinds):
        return _json_values(np.array([np.nan if gone else float(v) for v, gone in zip(as_list, missing.tolist())]))
    elif not kinds or kinds <= {str, np.str_}:
        return _json_strings(array, missing)
    else:
        return _json_one_by_one(array)
    if missing.any():
        text[missing] = "null"
    return text


def _json_strings(array: np.ndarray, missing: np.ndarray) -> np.ndarray:
    # Few distinct labels per column (quadrants, categories, commune codes): json.dumps runs once per distinct value.
    filled = np.where(missing, "", array).astype(str)
    unique, inverse = np.unique(filled, return_inverse=True)
    # encode_basestring is the C encoder json.dumps(..., ensure_ascii=False) calls for a str, without its set-up
    encoded = np.array([encode_basestring(str(u)) for u in unique], dtype=_TEXT)
    text = encoded[inverse.ravel()] if unique.size else np.array([], dtype=_TEXT)
    if missing.any():
        text[missing] = "null"
    return text


def _json_one_by_one(array: np.ndarray) -> np.ndarray:
    from geo.export import plain_value

    return np.array([json.dumps(plain_value(v), ensure_ascii=False) for v in array.tolist()], dtype=_TEXT)


def crs_name(crs) -> str | None:
    """The OGC URN naming a CRS other than WGS 84 longitude/latitude, or None (the RFC 7946 default)."""
    if crs is None:
        return None
    from pyproj import CRS

    crs = CRS.from_user_input(crs)
    if crs.equals(CRS.from_epsg(4326), ignore_axis_order=True):
        return None
    authority = crs.to_authority()
    return f"urn:ogc:def:crs:{authority[0]}::{authority[1]}" if authority else crs.to_wkt()


def crs_member(crs) -> str:
    """The ``"crs"`` member for a CRS other than WGS 84 longitude/latitude, or ``""`` (RFC 7946 default)."""
    name = crs_name(crs)
    return "" if name is None else '"crs":{"type":"name","properties":{"name":%s}},' % json.dumps(name)


#: A property value :func:`collection_of` leaves out of its feature.
OMITTED = object()


def _check_lengths(columns: dict, n: int) -> None:
    """Refuse a column that has not one value per feature."""
    for name, values in columns.items():
        size = len(values) if not isinstance(values, np.ndarray) else values.shape[0]
        if size != n:
            raise GeoInputError(message("geo.geojson.column_values_features", name=name, np_shape=size, n=n))


def collection_of(geometry, columns: dict, *, ids=None) -> dict:
    """A FeatureCollection mapping of geometries and their property columns, ready for ``json.dumps``.

    The one builder of GeoJSON mappings (RFC 7946 §3.2-3.3): :func:`feature_collection` writes a GeoDataFrame
    through it, and the map layers (``layers/``) their display features, whose geometry is often
    already a mapping serialised once per boundary frame (:func:`layers.base.serialised_geometries`).

    Parameters
    ----------
    geometry : sequence
        One per feature: a shapely geometry, a GeoJSON geometry mapping (kept as it is), or None. A
        missing or empty geometry is written ``null``.
    columns : dict of str -> sequence
        Property name -> one JSON-ready value per feature, in the order to write. A value that is
        :data:`OMITTED` leaves that property out of that feature (a heading only some cells have).
    ids : sequence, optional
        The ``id`` member of each feature; without it features have no ``id``.

    Returns
    -------
    dict
        ``{"type": "FeatureCollection", "features": [...]}``.
    """
    import shapely.geometry

    geometries = list(geometry)
    n = len(geometries)
    _check_lengths({**columns, **({"id": ids} if ids is not None else {})}, n)
    names = list(columns)
    rows = zip(*(list(columns[name]) for name in names)) if names else ((),) * n
    id_values = list(ids) if ids is not None else [None] * n
    features = []
    for shape, values, fid in zip(geometries, rows, id_values):
        if shape is None or isinstance(shape, dict):
            mapped = shape
        elif shape.is_empty:
            mapped = None
        else:
            mapped = shapely.geometry.mapping(shape)
        feature = {"type": "Feature"}
        if ids is not None:
            feature["id"] = fid
        feature["properties"] = {name: value for name, value in zip(names, values) if value is not OMITTED}
        feature["geometry"] = mapped
        features.append(feature)
    return {"type": "FeatureCollection", "features": features}


def feature_collection(frame, *, id_column: str | None = None) -> dict:
    """A GeoDataFrame as a GeoJSON FeatureCollection mapping, ready for ``json.dumps``.

    Parameters
    ----------
    frame : geopandas.GeoDataFrame
        Features in any CRS; a CRS other than WGS 84 is named in a ``crs`` member (as ``to_json`` does).
    id_column : str, optional
        Column whose value becomes each feature's ``id`` (and is not repeated in ``properties``); without
        it features have no ``id``.

    Returns
    -------
    dict
        ``{"type": "FeatureCollection", "features": [...]}``. A missing or empty geometry is ``null``;
        properties go through :func:`geo.export.plain_value` (dates and times as ISO 8601 text, missing and
        non-finite numbers as ``null``, numpy scalars as Python ones), then :func:`collection_of`.
    """
    from geo.export import plain_value

    geometry_name = frame.geometry.name
    columns = {c: [plain_value(v) for v in frame[c].tolist()]
               for c in frame.columns if c not in (geometry_name, id_column)}
    ids = None
    if id_column is not None and id_column in frame.columns:
        ids = [plain_value(v) for v in frame[id_column].tolist()]
    collection = collection_of(frame.geometry.values, columns, ids=ids)
    name = crs_name(frame.crs)
    if name is not None:
        collection["crs"] = {"type": "name", "properties": {"name": name}}
    return collection


def feature_texts(geometry, columns: dict, *, ids=None, members: dict | None = None) -> np.ndarray:
    """The text of one GeoJSON Feature per row, built column by column.

    Each property column becomes JSON text in one vectorised step (:func:`_json_values`), the geometries are
    written by GEOS (:func:`shapely.to_geojson` on the whole array, full double precision) and the pieces are
    joined column-wise with :mod:`numpy.strings`; no mapping is created per feature, which is where
    ``GeoDataFrame.to_geo_dict`` + ``json.dumps`` spend most of their time (RFC 7946, §3.2 Feature objects).

    Parameters
    ----------
    geometry : array_like of shapely geometries
        One per feature; a missing or empty geometry is written ``null``.
    columns : dict of str -> array_like
        Property name -> one value per feature (numbers, booleans, text; see :func:`_json_values`).
    ids : array_like, optional
        The ``id`` member of each feature (a number or a string); without it features have no ``id``.
    members : dict of str -> array_like of str, optional
        Further members of each feature, given as JSON text (e.g. the ``links`` of OGC API – Features items).

    Returns
    -------
    numpy.ndarray
        One ``{"type":"Feature",…}`` text per row (numpy ``StringDType``): a page of features is a slice
        of it, joined with commas.
    """
    import shapely

    geometry = np.asarray(geometry, dtype=object)
    n = geometry.size
    _check_lengths({**columns, **({"id": ids} if ids is not None else {}), **(members or {})}, n)
    features = np.full(n, '{"type":"Feature",', dtype=_TEXT)
    if ids is not None:
        features = np.strings.add(np.strings.add(features, '"id":'), np.strings.add(_json_values(ids), ","))
    features = np.strings.add(features, '"properties":{')
    for i, (name, values) in enumerate(columns.items()):
        key = ("," if i else "") + json.dumps(str(name), ensure_ascii=False) + ":"
        features = np.strings.add(np.strings.add(features, key), _json_values(values))
    missing = shapely.is_missing(geometry) | shapely.is_empty(geometry)  # both null, as to_geo_dict writes them
    geometry_text = np.full(n, "null", dtype=object)
    if (~missing).any():
        geometry_text[~missing] = shapely.to_geojson(geometry[~missing])
    features = np.strings.add(np.strings.add(features, '},"geometry":'), geometry_text.astype(_TEXT))
    for name, texts in (members or {}).items():
        key = "," + json.dumps(str(name), ensure_ascii=False) + ":"
        features = np.strings.add(np.strings.add(features, key), np.asarray(texts, dtype=object).astype(_TEXT))
    return np.strings.add(features, "}")


def feature_collection_text(geometry, columns: dict, crs=None) -> str:
    """Serialise polygons (or any shapely geometries) and their property columns as a FeatureCollection.

    Parameters
    ----------
    geometry : ndarray of shapely geometries
        One per feature, already in ``crs``.
    columns : dict of str -> array_like
        Property name -> one value per feature (numeric, boolean or text), in the order to write.
    crs : str or pyproj.CRS, optional
        CRS of the coordinates; named in the output unless it is WGS 84 longitude/latitude.

    Returns
    -------
    str
        The GeoJSON document (the features of :func:`feature_texts`).
    """
    features = feature_texts(geometry, columns)
    head = '{"type":"FeatureCollection",' + crs_member(crs) + '"features":[\n'
    return head + ",\n".join(features.tolist()) + "\n]}\n"


__all__ = ["OMITTED", "collection_of", "crs_name", "crs_member", "feature_collection", "feature_collection_text", "feature_texts"]

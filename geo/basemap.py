"""A small labelled vector basemap as one PMTiles file: layers clipped to web-mercator tiles, encoded as MVT.

The app has no internet on police intranets, so its own basemap is built from what it holds (province,
communes, former districts, Prey Veng, the border line, optional rivers and roads) and served as a single
file that the browser reads with HTTP range requests (Protomaps PMTiles v3).

Tiles follow the XYZ / web-mercator (EPSG:3857) scheme of the OSM slippy map; each tile is a Mapbox Vector
Tile (spec 2.1) of extent 4096 encoded by ``mapbox-vector-tile`` and gzip-compressed; the archive is written
by the ``pmtiles`` package (spec: https://github.com/protomaps/PMTiles/blob/main/spec/v3/spec.md).
"""
from __future__ import annotations

import gzip
import math
from dataclasses import dataclass

import geopandas as gpd
import mapbox_vector_tile
import numpy as np
import shapely
from pmtiles.tile import Compression, TileType, zxy_to_tileid
from pmtiles.writer import write as write_archive

from geo.errors import GeoInputError
from translations import message

WEB_MERCATOR = "EPSG:3857"
#: Half the width of the web-mercator world in metres (EPSG:3857 x runs from -HALF_WORLD to +HALF_WORLD).
HALF_WORLD = 20037508.342789244
EXTENT = 4096
#: Features are kept this far (in tile units) beyond a tile's edge, so strokes and polygons join seamlessly.
BUFFER = 64
#: Marks an archive built here: the map draws it with the app's own style (a Protomaps build uses its flavour).
SCHEMA = "bando138-basemap/1"
MAX_ZOOM_LIMIT = 15

LAYER_DESCRIPTIONS = {
    "neighbour": "neighbouring provinces (Prey Veng, Cambodia)",
    "province": "the province outline",
    "districts": "former districts (outlines)",
    "communes": "communes, wards and townships (outlines, name, code)",
    "water": "rivers and water bodies from a given vector file",
    "roads": "roads from a given vector file",
    "border": "the national border line",
    "places": "label points: kind = province, district, commune, neighbour; name",
}


@dataclass(frozen=True)
class BasemapSummary:
    """What a build wrote: zoom range, tile count, file size and the feature count per layer."""

    min_zoom: int
    max_zoom: int
    tiles: int
    bytes: int
    features: dict


def tile_bounds(z: int, x: int, y: int) -> tuple[float, float, float, float]:
    """Web-mercator bounds (minx, miny, maxx, maxy) in metres of XYZ tile ``z/x/y`` (y counted from the north)."""
    size = 2 * HALF_WORLD / (1 << z)
    minx = -HALF_WORLD + x * size
    maxy = HALF_WORLD - y * size
    return minx, maxy - size, minx + size, maxy


def tiles_covering(bounds_mercator, z: int):
    """Yield every (x, y) of zoom ``z`` whose tile meets ``bounds_mercator`` (minx, miny, maxx, maxy in EPSG:3857)."""
    minx, miny, maxx, maxy = bounds_mercator
    size = 2 * HALF_WORLD / (1 << z)
    last = (1 << z) - 1
    x0 = max(0, int(math.floor((minx + HALF_WORLD) / size)))
    x1 = min(last, int(math.floor((maxx + HALF_WORLD) / size)))
    y0 = max(0, int(math.floor((HALF_WORLD - maxy) / size)))
    y1 = min(last, int(math.floor((HALF_WORLD - miny) / size)))
    for x in range(x0, x1 + 1):
        for y in range(y0, y1 + 1):
            yield x, y


def _check_layers(layers: dict) -> dict[str, gpd.GeoDataFrame]:
    unknown = sorted(set(layers) - set(LAYER_DESCRIPTIONS))
    if unknown:
        raise GeoInputError(message("geo.basemap.layers_among", unknown=unknown,
                                    layer_descriptions=', '.join(LAYER_DESCRIPTIONS)))
    checked = {}
    for name, frame in layers.items():
        if frame is None or not len(frame):
            continue
        if frame.crs is None:
            raise GeoInputError(message("geo.basemap.layer_crs_give_coordinate", name=name))
        frame = frame[frame.geometry.notna() & ~frame.geometry.is_empty]
        checked[name] = frame.to_crs(WEB_MERCATOR).reset_index(drop=True)
    if not checked:
        raise GeoInputError(message("geo.basemap.layer_any_feature_load"))
    return checked


def _properties(row: dict) -> dict:
    clean = {}
    for key, value in row.items():
        if key == "geometry" or value is None or (isinstance(value, float) and math.isnan(value)):
            continue
        clean[key] = value.item() if isinstance(value, np.generic) else value
    return clean


class _Layer:
    """One layer in web mercator, simplified per zoom and indexed for tile queries."""

    def __init__(self, frame: gpd.GeoDataFrame):
        self.geometries = np.asarray(frame.geometry.values, dtype=object)
        self.properties = [_properties(row) for row in frame.drop(columns="geometry").to_dict("records")]
        self.points = all(g.geom_type in ("Point", "MultiPoint") for g in self.geometries)
        self._zoom = None

    def at_zoom(self, z: int):
        if self._zoom != z:
            # Douglas-Peucker at a quarter of one tile unit: invisible at this zoom, and the tiles stay small.
            tolerance = 2 * HALF_WORLD / (1 << z) / EXTENT / 4
            simplified = self.geometries if self.points else shapely.simplify(self.geometries, tolerance,
                                                                             preserve_topology=True)
            self._simplified = simplified
            self._tree = shapely.STRtree(simplified)
            self._zoom = z
        return self._simplified, self._tree


def _to_tile_units(geometry, minx: float, miny: float, size: float):
    # Quantised here with shapely 2's vectorised transform (mapbox-vector-tile's own quantize_bounds goes
    # through the deprecated shapely.ops.transform); y stays upwards, the encoder flips it (y_coord_down=False).
    return shapely.transform(geometry, lambda xy: np.round((xy - (minx, miny)) * (EXTENT / size)))


def encode_tile(layers: dict[str, _Layer], z: int, x: int, y: int) -> bytes | None:
    """The gzip-compressed MVT of tile ``z/x/y`` with every layer's features clipped to it; None when empty."""
    minx, miny, maxx, maxy = tile_bounds(z, x, y)
    pad = (maxx - minx) * BUFFER / EXTENT
    box = (minx - pad, miny - pad, maxx + pad, maxy + pad)
    encoded = []
    for name, layer in layers.items():
        geometries, tree = layer.at_zoom(z)
        hits = tree.query(shapely.box(*box))
        features = []
        for index in sorted(hits):
            geometry = geometries[index]
            if not layer.points:
                geometry = shapely.clip_by_rect(geometry, *box)
                if geometry.is_empty:
                    continue
                if geometry.geom_type == "GeometryCollection":
                    parts = [g for g in geometry.geoms if g.dimension == geometries[index].dimension]
                    if not parts:
                        continue
                    geometry = shapely.union_all(parts)
            elif not (box[0] <= geometry.x <= box[2] and box[1] <= geometry.y <= box[3]):
                continue
            features.append({"geometry": _to_tile_units(geometry, minx, miny, maxx - minx),
                             "properties": layer.properties[index]})
        if features:
            encoded.append({"name": name, "features": features})
    if not encoded:
        return None
    data = mapbox_vector_tile.encode(encoded, default_options={"extents": EXTENT, "y_coord_down": False})
    return gzip.compress(data, mtime=0)


def write_basemap(layers: dict, path, *, min_zoom: int = 7, max_zoom: int = 13, name: str = "Bản đồ nền",
                  attribution: str = "", description: str = "") -> BasemapSummary:
    """Write ``layers`` (name → GeoDataFrame in any CRS) as a PMTiles v3 archive of MVT tiles at ``path``.

    Parameters
    ----------
    layers : dict
        Keys among :data:`LAYER_DESCRIPTIONS`; every column but the geometry becomes a feature property.
        Empty or missing layers are left out.
    min_zoom, max_zoom : int
        Zoom levels written (0 ≤ min ≤ max ≤ 15). The map shows a tile of zoom z+1 from data of zoom z
        (protomaps-leaflet's ``levelDiff``) and over-zooms past ``max_zoom``.
    name, attribution, description : str
        Written into the archive's JSON metadata with ``vector_layers`` and ``schema`` (:data:`SCHEMA`).

    Returns
    -------
    BasemapSummary

    Notes
    -----
    Only tiles holding at least one feature are written; the map treats a missing tile as empty.
    """
    if not (0 <= int(min_zoom) <= int(max_zoom) <= MAX_ZOOM_LIMIT):
        raise GeoInputError(message("geo.basemap.zooms_satisfy_min_zoom", max_zoom_limit=MAX_ZOOM_LIMIT,
                                    min_zoom=min_zoom, max_zoom=max_zoom))
    frames = _check_layers(layers)
    prepared = {name_: _Layer(frame) for name_, frame in frames.items()}
    bounds = np.array([frame.total_bounds for frame in frames.values()])
    extent = (bounds[:, 0].min(), bounds[:, 1].min(), bounds[:, 2].max(), bounds[:, 3].max())
    lonlat = gpd.GeoSeries([shapely.box(*extent)], crs=WEB_MERCATOR).to_crs("EPSG:4326").total_bounds
    tiles = []
    for z in range(int(min_zoom), int(max_zoom) + 1):
        for x, y in tiles_covering(extent, z):
            data = encode_tile(prepared, z, x, y)
            if data is not None:
                tiles.append((zxy_to_tileid(z, x, y), data))
    if not tiles:
        raise GeoInputError(message("geo.basemap.layers_produced_tile_these"))
    tiles.sort(key=lambda item: item[0])
    centre_lon, centre_lat = (lonlat[0] + lonlat[2]) / 2, (lonlat[1] + lonlat[3]) / 2
    header = {
        "tile_type": TileType.MVT, "tile_compression": Compression.GZIP,
        "min_lon_e7": int(lonlat[0] * 1e7), "min_lat_e7": int(lonlat[1] * 1e7),
        "max_lon_e7": int(lonlat[2] * 1e7), "max_lat_e7": int(lonlat[3] * 1e7),
        "center_zoom": int(min_zoom) + 2, "center_lon_e7": int(centre_lon * 1e7), "center_lat_e7": int(centre_lat * 1e7),
    }
    vector_layers = [{"id": layer, "description": LAYER_DESCRIPTIONS[layer], "minzoom": int(min_zoom),
                      "maxzoom": int(max_zoom),
                      "fields": {key: "String" for props in prepared[layer].properties[:1] for key in props}}
                     for layer in prepared]
    metadata = {"name": name, "attribution": attribution, "description": description, "schema": SCHEMA,
                "type": "baselayer", "format": "pbf", "vector_layers": vector_layers}
    with write_archive(str(path)) as writer:
        for tile_id, data in tiles:
            writer.write_tile(tile_id, data)
        writer.finalize(header, metadata)
    from pathlib import Path

    return BasemapSummary(min_zoom=int(min_zoom), max_zoom=int(max_zoom), tiles=len(tiles),
                          bytes=Path(path).stat().st_size, features={k: len(v) for k, v in frames.items()})

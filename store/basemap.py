"""The app's own basemap layers from what the store and the data folder hold (see :mod:`geo.basemap`).

Communes of the set in force today (name, code), their former districts, the province outline, Prey Veng
and the border line (from the corridor's files), and optionally rivers and roads from any vector file.
"""
from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import shapely

from geo import VECTOR_ENGINE
from geo.errors import GeoInputError
from store.boundaries import active_boundary_set, communes_frame
from translations import message

#: Columns tried, in order, for the name of a river or road in a given vector file.
NAME_FIELDS = ("name", "ten", "Ten", "TEN", "NAME", "Name", "name_vi", "ten_song", "ten_duong")
#: Margin (degrees) around the province kept from a given rivers/roads file.
EXTRA_MARGIN_DEG = 0.3


def _labels(frame: gpd.GeoDataFrame, kind: str) -> gpd.GeoDataFrame:
    # A representative point lies inside its polygon (a centroid of a crescent-shaped commune may not).
    return gpd.GeoDataFrame({"kind": kind, "name": frame["name"].to_numpy()},
                            geometry=frame.geometry.representative_point().to_numpy(), crs=frame.crs)


def read_extra_lines(path, *, kind: str, clip_to) -> gpd.GeoDataFrame:
    """Features of a rivers or roads file (any format and CRS fiona reads) near ``clip_to`` (EPSG:4326 bounds).

    Raises
    ------
    GeoInputError
        When the file cannot be read, has no CRS, or has no line or polygon near the province.
    """
    path = Path(path)
    try:
        frame = gpd.read_file(path, engine=VECTOR_ENGINE)
    except Exception as error:  # fiona raises its own error types for each driver
        raise GeoInputError(message("store.basemap.unreadable", kind=kind, path=repr(str(path)), error=str(error))) from None
    if frame.crs is None:
        raise GeoInputError(message("store.basemap.no_crs", kind=kind, path=repr(str(path))))
    frame = frame.to_crs("EPSG:4326")
    minx, miny, maxx, maxy = clip_to
    frame = frame.cx[minx - EXTRA_MARGIN_DEG:maxx + EXTRA_MARGIN_DEG, miny - EXTRA_MARGIN_DEG:maxy + EXTRA_MARGIN_DEG]
    frame = frame[frame.geometry.notna() & frame.geom_type.isin(
        ["LineString", "MultiLineString", "Polygon", "MultiPolygon"])]
    if not len(frame):
        raise GeoInputError(message("store.basemap.nothing_near", kind=kind, path=repr(str(path)),
                                    margin=EXTRA_MARGIN_DEG))
    name_field = next((field for field in NAME_FIELDS if field in frame.columns), None)
    names = frame[name_field].fillna("").astype(str).to_numpy() if name_field else [""] * len(frame)
    return gpd.GeoDataFrame({"kind": kind, "name": names, "area": frame.geom_type.str.contains("Polygon").to_numpy()},
                            geometry=frame.geometry.to_numpy(), crs="EPSG:4326")


def basemap_layers(session, data_dir, *, rivers=None, roads=None) -> dict[str, gpd.GeoDataFrame]:
    """Layers for :func:`geo.basemap.write_basemap` from the store (set in force today) and ``data_dir``.

    Raises
    ------
    GeoInputError
        When no boundary set is loaded.
    """
    from store.corridor import corridor_geometry

    if active_boundary_set(session) is None:
        raise GeoInputError(message("store.no_boundary_set_loaded"))
    communes = communes_frame(session)
    has_districts = communes.attrs.get("has_districts", True)
    code_column, name_column = ("district_code", "district_name") if has_districts else (
        "former_district_code", "former_district_name")
    commune_layer = gpd.GeoDataFrame({"code": communes["commune_code"], "name": communes["commune_name"],
                                      "type": communes["commune_type"]}, geometry=communes.geometry, crs=communes.crs)
    with_district = communes[communes[code_column].astype(str) != ""]
    districts = with_district.dissolve(by=code_column, aggfunc={name_column: "first"}).reset_index()
    districts = gpd.GeoDataFrame({"code": districts[code_column], "name": districts[name_column]},
                                 geometry=districts.geometry.map(shapely.make_valid), crs=communes.crs)
    province_name = communes.attrs.get("province_name") or ""
    province = gpd.GeoDataFrame({"name": [province_name]},
                                geometry=[shapely.make_valid(communes.union_all())], crs=communes.crs)
    layers = {"province": province, "districts": districts, "communes": commune_layer}
    labels = [_labels(province, "province"), _labels(districts, "district"), _labels(commune_layer, "commune")]
    try:
        corridor = corridor_geometry(session, data_dir)
    except GeoInputError:
        corridor = None  # no border file nor Prey Veng: the basemap simply has no border
    if corridor is not None:
        layers["border"] = gpd.GeoDataFrame({"name": ["Biên giới Việt Nam – Campuchia"]},
                                            geometry=list(corridor.border_line.geometry[:1]),
                                            crs=corridor.border_line.crs)
        if corridor.prey_veng is not None:
            neighbour = corridor.prey_veng[["name", "geometry"]].reset_index(drop=True)
            layers["neighbour"] = neighbour
            labels.append(_labels(neighbour, "neighbour").to_crs(communes.crs))
    bounds = communes.total_bounds
    if rivers:
        layers["water"] = read_extra_lines(rivers, kind="rivers", clip_to=bounds)
    if roads:
        layers["roads"] = read_extra_lines(roads, kind="roads", clip_to=bounds)
    layers["places"] = gpd.GeoDataFrame(
        {"kind": [k for frame in labels for k in frame["kind"]], "name": [n for frame in labels for n in frame["name"]]},
        geometry=[g for frame in labels for g in frame.to_crs(communes.crs).geometry], crs=communes.crs)
    return layers

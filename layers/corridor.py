"""Folium layers of the Prey Veng border corridor: Prey Veng, border line, distance bands, border communes,
border segments coloured by incidents per km or Gi* bin, gates (approximate ones marked) and incidents.

Inputs are the GeoDataFrames of :mod:`geo.corridor_geometry` (any CRS; drawn in EPSG:4326). Every text that comes
from data (names, labels) is HTML-escaped here and bound from pre-escaped strings, as in
:mod:`layers.communes`.
"""
from __future__ import annotations

import html
import math
from dataclasses import dataclass

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from folium.utilities import JsCode

from geo.corridor_geometry import segment_label
from geo.crs import to_metric, to_wgs84
from geo.geojson import OMITTED, collection_of
from layers import palette
from layers.base import PreSerialisedGeoJson, make_map, per_frame, serialised_geometries
from layers.communes import class_breaks, colour_for, _palette_for
from layers.incidents import DEFAULT_MAX_POINTS, PointSummary, add_incident_points, legend_entries
from layers.legend import Legend
from layers.text import choose, format_number, text
from translations import CatalogTable

COLOUR_MODES = ("per_km", "gi_bin")
BORDER_COLOUR = "#a3111a"
PREY_VENG_COLOUR = "#c8c8c8"
BORDER_COMMUNE_COLOUR = "#01665e"
BAND_COLOURS = ("#54278f", "#807dba", "#bcbddc", "#dadaeb", "#efedf5", "#f7f6fb")
ZERO_SEGMENT_COLOUR = "#8c8c8c"
#: ArcGIS Hot Spot Analysis colours, bin -3 … +3.
GI_COLOURS = {**palette.GI_STAR_BINS, 0: palette.NOT_SIGNIFICANT_LINE}
GATE_COLOURS = {"international": "#08306b", "main": "#2171b5", "secondary": "#41ab5d"}
DISPLAY_DECIMALS = 5

_TEXT = CatalogTable("layers.corridor")


def _t(key: str, lang: str):
    return choose(_TEXT[key], lang)


@dataclass
class CorridorMap:
    """The map plus what it shows (for the page's side panel)."""

    map: folium.Map
    legend: Legend
    points: PointSummary


def _display(frame: gpd.GeoDataFrame, simplify_m: float = 0.0) -> gpd.GeoDataFrame:
    """EPSG:4326 copy with coordinates rounded (about 1 m), optionally simplified first (in metres)."""
    out = frame.copy()
    if simplify_m > 0:
        metric = to_metric(out)
        metric.geometry = metric.geometry.simplify(simplify_m, preserve_topology=True)
        out = metric
    out = to_wgs84(out)
    out.geometry = gpd.GeoSeries(shapely.transform(out.geometry.values, lambda xy: np.round(xy, DISPLAY_DECIMALS)),
                                 index=out.index, crs=out.crs)
    return out


def _display_once(frame: gpd.GeoDataFrame, simplify_m: float = 0.0) -> gpd.GeoDataFrame:
    """:func:`_display` once per frame object: the corridor's geometry is built once per boundary set and
    border file (``store.corridor``), so only the per-filter figures are computed per request."""
    return per_frame(frame, f"corridor-display-{simplify_m}", lambda: _display(frame, simplify_m))


def _collection(frame: gpd.GeoDataFrame, properties, records=None, order=None) -> tuple[dict, list[str]]:
    """A FeatureCollection of the non-empty geometries of ``frame`` (a display frame from
    :func:`_display_once`) with ``properties(record)``, and their JSON texts for
    :class:`layers.base.PreSerialisedGeoJson`. ``order`` (positions in ``frame``, default its own order)
    orders the features; ``records`` (one per position of ``order``; default the frame's own rows) replaces
    the rows' properties, e.g. with per-request figures joined."""
    serialised = serialised_geometries(frame)
    positions = range(len(frame)) if order is None else [int(i) for i in order]
    rows = frame.drop(columns="geometry").to_dict("records") if records is None else records
    if records is None and order is not None:
        rows = [rows[i] for i in positions]
    geometries = frame.geometry.array
    drawn = [(record, i) for record, i in zip(rows, positions)
             if geometries[i] is not None and not geometries[i].is_empty]
    shown = [properties(record) for record, _ in drawn]
    names = list(dict.fromkeys(name for props in shown for name in props))
    columns = {name: [props.get(name, OMITTED) for props in shown] for name in names}
    return (collection_of([serialised.mappings[i] for _, i in drawn], columns),
            [serialised.texts[i] for _, i in drawn])


_BIND_TIP = JsCode("function (feature, layer) { layer.bindTooltip(feature.properties.tip, {sticky: true}); }")


def _km(value_km: float, lang: str, decimals: int = 1) -> str:
    return f"{format_number(value_km, lang, decimals)} km"


def segment_colours(segments: pd.DataFrame, colour_by: str) -> tuple[list[str], list[float]]:
    """Colour of each segment, by incidents per km (quantile classes, with their upper bounds) or Gi* bin."""
    if colour_by == "gi_bin":
        bins = segments["gi_bin"].fillna(0).astype(int) if "gi_bin" in segments else pd.Series(0, index=segments.index)
        return [GI_COLOURS[int(np.clip(b, -3, 3))] for b in bins], []
    per_km = segments["per_km"].fillna(0).to_numpy(float) if "per_km" in segments else np.zeros(len(segments))
    bounds = class_breaks(per_km)
    colours = [ZERO_SEGMENT_COLOUR if v <= 0 else colour_for(v, bounds) for v in per_km]
    return colours, bounds


def corridor_map(*, border_line: gpd.GeoDataFrame, bands: gpd.GeoDataFrame, segments: gpd.GeoDataFrame,
                 segment_figures: pd.DataFrame | None = None,
                 gates: gpd.GeoDataFrame, incidents: pd.DataFrame, prey_veng: gpd.GeoDataFrame | None = None,
                 border_communes: gpd.GeoDataFrame | None = None, colour_by: str = "per_km", lang: str = "vi",
                 caption: str = "", notes=(), commune_names: dict | None = None, tile_url: str = "",
                 tile_attribution: str = "", basemap=None, vendor_url: str = "/vendor", map_id: str | None = "corridor",
                 max_points: int = DEFAULT_MAX_POINTS) -> CorridorMap:
    """Build the corridor map.

    Parameters
    ----------
    border_line, bands, segments : GeoDataFrame
        From :func:`geo.corridor_geometry.read_border_line`, :func:`~geo.corridor_geometry.corridor_bands` and
        :func:`~geo.corridor_geometry.border_segments`; ``segments`` may carry ``count``, ``per_km``, ``gi_z`` and
        ``gi_bin`` (:func:`~geo.corridor_statistics.linear_hotspot`).
    segment_figures : DataFrame, optional
        ``segment_id`` with ``count``, ``per_km``, ``gi_z``, ``gi_bin`` of this request, joined to ``segments``
        (then the corridor's own cached frame, so its display geometry is computed once).
    gates : GeoDataFrame
        Placed gates: ``name``, ``gate_class``, ``gate_class_label``, ``approximate``, ``uncertainty_m``.
    incidents : DataFrame
        Incidents in the corridor for this viewer (``lon``, ``lat``, ``redacted`` …, see
        :func:`layers.incidents.add_incident_points`); redacted rows are never drawn.
    prey_veng, border_communes : GeoDataFrame, optional
        Context: the neighbouring province and the communes touching the border (``commune_name``,
        ``border_length_km``).
    colour_by : {"per_km", "gi_bin"}
        Segments coloured by incidents per km (quantile classes, ColorBrewer YlOrRd) or by Gi* bin.
    caption, notes : str, sequence of str
        Plain-text legend lines (period, categories, withheld cases).
    """
    if colour_by not in COLOUR_MODES:
        raise ValueError(f"colour_by {colour_by!r} is not one of: {', '.join(COLOUR_MODES)}")
    m = make_map(tile_url=tile_url, tile_attribution=tile_attribution, vendor_url=vendor_url, map_id=map_id,
                 basemap=basemap, lang=lang)
    band_display = _display_once(bands)
    extent = band_display[~band_display.geometry.is_empty]
    west, south, east, north = (extent if len(extent) else _display_once(border_line)).total_bounds
    # Room on the right for the legend, so it does not hide the eastern end of the corridor.
    m.fit_bounds([[float(south), float(west)], [float(north), float(east)]], padding_top_left=(10, 10),
                 padding_bottom_right=(250, 10))

    if prey_veng is not None and len(prey_veng):
        name = html.escape(_t("prey_veng", lang))
        PreSerialisedGeoJson(*_collection(_display_once(prey_veng, 60.0), lambda r: {"tip": name}),
                       name=_t("prey_veng", lang),
                       style_function=lambda f: {"fillColor": PREY_VENG_COLOUR, "fillOpacity": 0.45,
                                                 "color": "#7a7a7a", "weight": 1, "dashArray": "4 4"},
                       on_each_feature=_BIND_TIP, class_name="corridor-prey-veng").add_to(m)

    colours = {int(b): BAND_COLOURS[min(int(b), len(BAND_COLOURS) - 1)] for b in bands["band"]}

    def band_props(r):
        tip = (f"<strong>{html.escape(_t('bands', lang))}: {html.escape(str(r['label']))}</strong><br>"
               f"{html.escape(_t('area', lang))}: {format_number(r['area_km2'], lang, 1)} km²")
        return {"tip": tip, "fill": colours[int(r["band"])]}

    PreSerialisedGeoJson(*_collection(band_display, band_props), name=_t("bands", lang),
                   style_function=lambda f: {"fillColor": f["properties"]["fill"], "fillOpacity": 0.3,
                                             "color": f["properties"]["fill"], "weight": 0.8},
                   on_each_feature=_BIND_TIP, class_name="corridor-band").add_to(m)

    if border_communes is not None and len(border_communes):
        def commune_props(r):
            tip = f"<strong>{html.escape(str(r.get('commune_name', '')))}</strong>"
            if "border_length_km" in r:
                tip += f"<br>{html.escape(_t('border_length', lang))}: {_km(r['border_length_km'], lang)}"
            return {"tip": tip}

        PreSerialisedGeoJson(*_collection(_display_once(border_communes, 20.0), commune_props),
                             name=_t("border_communes", lang),
                       style_function=lambda f: {"fill": True, "fillOpacity": 0.0, "color": BORDER_COMMUNE_COLOUR,
                                                 "weight": 1.6, "dashArray": "6 3"},
                       on_each_feature=_BIND_TIP, class_name="corridor-border-commune").add_to(m)

    border_tip = html.escape(str(border_line["name"].iloc[0])) if "name" in border_line else ""
    if "length_m" in border_line:
        border_tip += f"<br>{html.escape(_t('length', lang))}: {_km(border_line['length_m'].iloc[0] / 1000, lang)}"
    PreSerialisedGeoJson(*_collection(_display_once(border_line), lambda r: {"tip": border_tip}),
                         name=_t("border", lang),
                   style_function=lambda f: {"color": BORDER_COLOUR, "weight": 3, "dashArray": "10 6"},
                   on_each_feature=_BIND_TIP, class_name="corridor-border").add_to(m)

    if segment_figures is not None:
        figures = segment_figures.drop(columns=[c for c in ("from_km", "to_km", "geometry")
                                                if c in segment_figures.columns])
        seg = pd.DataFrame(segments.drop(columns="geometry")).merge(figures, on="segment_id", how="left")
    else:
        seg = pd.DataFrame(segments.drop(columns="geometry"))
    order = np.argsort(seg["from_km"].to_numpy(dtype=float), kind="stable")
    seg = seg.iloc[order].reset_index(drop=True)
    seg_colours, bounds = segment_colours(seg, colour_by)
    gi_names = tuple(_t(f"gi_bin_{b}", lang) for b in range(-3, 4))

    def segment_props(r):
        lines = [f"<strong>{html.escape(segment_label(r['segment_id'], r['from_km'], r['to_km'], lang))}</strong>"]
        if "count" in r and pd.notna(r["count"]):
            lines.append(f"{html.escape(_t('count', lang))}: {format_number(r['count'], lang)}")
        if "per_km" in r and pd.notna(r["per_km"]):
            lines.append(f"{html.escape(_t('per_km', lang))}: {format_number(r['per_km'], lang, 2)}")
        if "gi_z" in r and pd.notna(r["gi_z"]):
            lines.append(f"Gi* z = {format_number(r['gi_z'], lang, 2)}")
        if "gi_bin" in r and pd.notna(r["gi_bin"]):
            lines.append(html.escape(gi_names[int(np.clip(r["gi_bin"], -3, 3)) + 3]))
        return {"tip": "<br>".join(lines), "colour": r["_colour"]}

    seg_collection, seg_texts = _collection(_display_once(segments), segment_props, order=order,
                                            records=seg.assign(_colour=seg_colours).to_dict("records"))
    PreSerialisedGeoJson(seg_collection, seg_texts, name=_t("segments", lang),
                   style_function=lambda f: {"color": f["properties"]["colour"], "weight": 8, "opacity": 0.9,
                                             "lineCap": "butt"},
                   highlight_function=lambda f: {"weight": 11},
                   on_each_feature=_BIND_TIP, class_name="corridor-segment").add_to(m)

    gate_group = folium.FeatureGroup(name=_t("gates", lang))
    if len(gates):
        for record, point in zip(gates.drop(columns="geometry").to_dict("records"), to_wgs84(gates).geometry):
            colour = GATE_COLOURS.get(record.get("gate_class"), "#444444")
            approximate = bool(record.get("approximate", True))
            uncertainty = record.get("uncertainty_m")
            known = uncertainty is not None and not (isinstance(uncertainty, float) and math.isnan(uncertainty))
            lines = [f"<strong>{html.escape(str(record['name']))}</strong>",
                     html.escape(str(record.get("gate_class_label") or record.get("gate_class") or ""))]
            if approximate:
                lines.append(html.escape(_t("approximate", lang).format(m=format_number(uncertainty, lang))
                                         if known else _t("approximate_unknown", lang)))
            tip = "<br>".join(lines)
            location = [round(point.y, DISPLAY_DECIMALS), round(point.x, DISPLAY_DECIMALS)]
            if approximate and known and uncertainty > 0:
                folium.Circle(location, radius=float(uncertainty), color=colour, weight=1.2, dash_array="5 5",
                              fill=True, fill_opacity=0.06, interactive=False).add_to(gate_group)
            folium.CircleMarker(location, radius=9, color="#ffffff", weight=2.5, fill=True, fill_color=colour,
                                fill_opacity=0.65 if approximate else 1.0, dash_array="3 2" if approximate else None,
                                tooltip=folium.Tooltip(tip), class_name="corridor-gate").add_to(gate_group)
    gate_group.add_to(m)

    points = add_incident_points(m, incidents, commune_names=commune_names, lang=lang, max_points=max_points,
                                 name=_t("incidents", lang))

    entries = [(BORDER_COLOUR, _t("border", lang)), (PREY_VENG_COLOUR, _t("prey_veng", lang)),
               (BORDER_COMMUNE_COLOUR, _t("border_communes", lang))]
    entries += [(colours[int(b)], f"{_t('bands', lang)} {label}") for b, label in zip(bands["band"], bands["label"])]
    if colour_by == "gi_bin":
        entries += [(GI_COLOURS[b], f"{_t('segments', lang)}: {gi_names[b + 3]}") for b in (3, 2, 1, 0, -1, -2, -3)]
    else:
        entries.append((ZERO_SEGMENT_COLOUR, f"{_t('segments', lang)}: {_t('zero', lang)}"))
        lower = 0.0
        for bound, colour in zip(bounds, _palette_for(len(bounds))):
            entries.append((colour, f"{_t('per_km', lang)} > {format_number(lower, lang, 2)} – "
                                    f"{format_number(bound, lang, 2)}"))
            lower = bound
    entries += [(GATE_COLOURS[c], label) for c, label in (
        ("international", _t("gate_international", lang)), ("main", _t("gate_main", lang)),
        ("secondary", _t("gate_secondary", lang)))]
    legend_notes = [caption] if caption else []
    legend_notes.append(_t("approximate_note", lang))
    legend_notes.extend(str(n) for n in notes if n)
    legend_notes.extend(points.notes(lang))
    legend = Legend(_t("legend_title", lang), entries, notes=legend_notes, position="bottomright")
    if points.layer is not None:
        legend.add_layer_section(points.layer, text("legend_points", lang), legend_entries(points, lang))
    m.add_child(legend)
    folium.LayerControl(collapsed=True).add_to(m)
    return CorridorMap(map=m, legend=legend, points=points)



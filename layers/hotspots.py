"""Hot spot results on the map: Gi* confidence bins, LISA clusters, kernel density, emerging hot spot classes.

Colours follow the tools planners know: the ArcGIS *Hot Spot Analysis* renderer for Gi* bins (hot red at
99/95/90 % confidence, cold blue, pale "not significant"), the GeoDa cluster map for LISA, and a sequential
yellow-to-red ramp for density. Only significant units are drawn by default (the rest of the study area is
the background), which is also what keeps a province-wide map page small.

Each feature carries a few short, already-escaped strings (class index, formatted count, z and p); the
popup is assembled in the browser from one label table, so a thousand cells do not repeat the same words
a thousand times. Every text from data (unit names) is HTML-escaped here.
"""
from __future__ import annotations

import html
import json
from dataclasses import dataclass, field

import folium
import numpy as np
import shapely
from folium.utilities import JsCode

from geo.emerging import CLASS_LABELS
from geo.geojson import OMITTED, collection_of
from geo.lisa import QUADRANT_LABELS
from layers.legend import Legend, js_string
from layers import palette
from layers.text import choose, format_number, format_numbers
from translations import CatalogTable

STATISTICS = ("gistar", "lisa", "kde", "emerging")
DISPLAY_DECIMALS = 5
#: Simplification of drawn cells, in degrees (about 2 m): far below a 250 m cell, far above the boundary's detail.
DISPLAY_SIMPLIFY_DEGREES = 2e-5
NOT_SIGNIFICANT_COLOUR = palette.NOT_SIGNIFICANT
HOTSPOT_CLASS = "hotspot-cell"

#: ArcGIS Hot Spot Analysis (Getis-Ord Gi*) default renderer, bin → colour.
GI_BIN_COLOURS = palette.GI_STAR_BINS
GI_BIN_LABELS = CatalogTable("layers.gi_bin")  # keyed by the bin as text: "3" … "-3"

#: GeoDa LISA cluster map colours.
LISA_COLOURS = palette.LISA_CLUSTERS

#: Density classes: equal intervals of the maximum, ColorBrewer YlOrRd; cells under the first bound are not drawn.
DENSITY_COLOURS = palette.SEQUENTIAL_COUNTS
DENSITY_MIN_SHARE = 0.05
MAX_DENSITY_CELLS = 3000
#: Above this many units, "draw every unit" falls back to the significant ones (a 500 m province grid has
#: 16,000 cells, about 5 MB of GeoJSON).
MAX_ALL_UNITS = 5000
#: At most this many significant units are drawn, the most significant first (a 250 m grid of the 2025
#: province can have 10,000 significant hexagons: 3.5 MB of map script); the legend says so.
MAX_DRAWN_UNITS = 5000

EMERGING_COLOURS = {
    "new_hot": "#e31a1c", "consecutive_hot": "#fb6a4a", "intensifying_hot": "#99000d",
    "persistent_hot": "#cb181d", "diminishing_hot": "#fcae91", "sporadic_hot": "#fd8d3c",
    "oscillating_hot": "#d94801", "historical_hot": "#fdd0a2",
    "new_cold": "#2171b5", "consecutive_cold": "#6baed6", "intensifying_cold": "#08306b",
    "persistent_cold": "#08519c", "diminishing_cold": "#c6dbef", "sporadic_cold": "#4292c6",
    "oscillating_cold": "#3f007d", "historical_cold": "#9ecae1",
    "no_pattern": NOT_SIGNIFICANT_COLOUR,
}

WORDS = CatalogTable("layers.hotspots")


def word(key: str, lang: str = "vi") -> str:
    return choose(WORDS[key], lang)


@dataclass
class HotspotLayer:
    """What a hot spot layer shows: ``total`` units, ``drawn`` features, hot/cold counts, its legend."""

    statistic: str
    total: int
    drawn: int
    hot: int = 0
    cold: int = 0
    capped: bool = False
    legend: Legend | None = None
    layer: object = None
    notes: list = field(default_factory=list)
    #: What the legend says about the units left out of the drawing ("" when every unit is drawn).
    subset_note: str = ""


def gi_bin_label(level: int, lang: str = "vi") -> str:
    return choose(GI_BIN_LABELS[str(int(level))], lang)


def lisa_label(code: str, lang: str = "vi") -> str:
    return choose(QUADRANT_LABELS[code], lang)


def emerging_label(code: str, lang: str = "vi") -> str:
    return choose(CLASS_LABELS[code], lang)


def _display_frame(frame):
    """Units in EPSG:4326 with coordinates rounded to about 1 m (finer digits only add bytes).

    Cells clipped to the province follow its boundary vertex by vertex; simplified to
    :data:`DISPLAY_SIMPLIFY_DEGREES` (Douglas-Peucker, topology kept) they draw the same at any zoom with
    a fraction of the vertices. Whole grid cells have no vertex to spare and keep all of them.
    """
    shown = frame if frame.crs is not None and frame.crs.to_epsg() == 4326 else frame.to_crs(4326)
    geometry = shapely.simplify(shown.geometry.values, DISPLAY_SIMPLIFY_DEGREES, preserve_topology=True)
    geometry = shapely.transform(geometry, lambda xy: np.round(xy, DISPLAY_DECIMALS))
    return shown.set_geometry(shapely.make_valid(geometry))


class ClassStyledGeoJson(folium.GeoJson):
    """A folium GeoJson styled by each feature's class index (``properties.k``).

    folium writes its style table as one ``case`` per feature id; keyed by the class instead, the table has one
    case per class, and the features need neither an id nor their colour. The features are written as
    compact JSON (no blank after ``,`` and ``:``: 8 % of a fine grid's script), HTML-safe as Jinja's
    ``tojson`` writes them (:func:`layers.base.raw_text` puts the text in place).
    """

    def find_identifier(self) -> str:
        return "feature.properties.k"

    def render(self, **kwargs):
        from folium.features import GeoJsonStyleMapper
        from folium.utilities import get_obj_in_upper_tree

        self.parent_map = get_obj_in_upper_tree(self, folium.Map)
        if (self.style or self.highlight) and self.data["features"]:
            mapper = GeoJsonStyleMapper(self.data, self.feature_identifier, self)
            if self.style:
                self.style_map = _one_case_per_class(mapper.get_style_map(self.style_function))
            if self.highlight:
                self.highlight_map = _one_case_per_class(mapper.get_highlight_map(self.highlight_function))
        from layers.base import raw_text

        shown = self.data
        self.data = {**shown, "features": raw_text(self, _compact_json(shown["features"]), "features")}
        try:
            folium.map.Layer.render(self, **kwargs)  # GeoJson.render would build the per-feature table again
        finally:
            self.data = shown


#: What Jinja's ``tojson`` escapes so that JSON can stand inside HTML (markupsafe's htmlsafe_json_dumps).
_HTML_SAFE = str.maketrans({"<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "'": "\\u0027"})


def _compact_json(value) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).translate(_HTML_SAFE)


def _one_case_per_class(mapping: dict) -> dict:
    return {style: (ids if style == "default" else sorted(set(ids))) for style, ids in mapping.items()}


def _headings(frame, lang):
    for column in ("commune_name", "name", "unit_name"):
        if column in frame.columns:
            return [html.escape(str(v)) for v in frame[column]]
    return [""] * len(frame)  # grid cells: the popup shows the class and figures only


def _popup_script(labels: dict) -> JsCode:
    """on_each_feature: tooltip = class label; popup = heading, class and the unit's figures."""
    return JsCode(
        "function (feature, layer) {"
        f" var L = {js_string_object(labels)};"
        " var p = feature.properties; var lines = [];"
        " if (p.h) { lines.push('<strong>' + p.h + '</strong>'); }"
        " lines.push(L.cls + ': ' + L.k[p.k]);"
        " [['n', L.n], ['v', L.v], ['z', L.z], ['p', L.p], ['d', L.d], ['t', L.t]].forEach(function (pair) {"
        "   if (p[pair[0]] !== undefined) { lines.push(pair[1] + ': ' + p[pair[0]]); } });"
        " layer.bindTooltip((p.h ? p.h + ' — ' : '') + L.k[p.k], {sticky: true});"
        " layer.bindPopup(lines.join('<br>')); }"
    )


def js_string_object(labels: dict) -> str:
    """A JS object literal of escaped strings (labels are HTML-escaped, then JS-escaped)."""
    items = []
    for key, value in labels.items():
        if isinstance(value, (list, tuple)):
            items.append(f"{key}: [{', '.join(js_string(html.escape(v)) for v in value)}]")
        else:
            items.append(f"{key}: {js_string(html.escape(value))}")
    return "{" + ", ".join(items) + "}"


def _add_features(m, frame, keep, class_index, colours_by_index, labels, properties, *, lang, name, show,
                  fill_opacity=0.72):
    if m is None:  # a summary of what would be drawn (the page's figures), without the features
        return None
    shown = _display_frame(frame[keep])
    headings = _headings(shown, lang)
    columns = {"k": [int(k) for k in class_index[:len(shown)]],
               "h": [heading if heading else OMITTED for heading in headings],
               **{key: list(values[:len(shown)]) for key, values in properties.items()}}
    data = collection_of(shown.geometry.values, columns)

    def style(feature):
        colour = colours_by_index[feature["properties"]["k"]]
        # Outlined in their own colour, neighbouring cells of one class read as one area, as in ArcGIS.
        return {"fillColor": colour, "color": colour, "weight": 0.8, "fillOpacity": fill_opacity}

    layer = ClassStyledGeoJson(
        data,
        name=name,
        show=show,
        style_function=style,
        highlight_function=lambda feature: {"weight": 2, "color": "#111111"},
        on_each_feature=_popup_script(labels),
        class_name=HOTSPOT_CLASS,
        # Leaflet's default simplification turns hexagons of a few pixels into bricks with gaps between them.
        smooth_factor=0.1,
    )
    layer.add_to(m)
    return layer


def _common_labels(lang, class_labels):
    return {"cls": word("class", lang), "k": class_labels, "n": word("count", lang),
            "v": word("value", lang), "z": word("z", lang), "p": word("p", lang), "d": word("density", lang),
            "t": word("trend", lang)}


def _p_texts(values, lang):
    """p-values to three decimals, those under 0.001 as "< 0,001", missing ones as "–" (HTML-escaped)."""
    values = np.asarray(values, dtype=float)
    texts = format_numbers(values, lang, 3)
    below = html.escape("< " + format_number(0.001, lang, 3))
    return [below if v < 0.001 else html.escape(text) for v, text in zip(values, texts)]


def _figures(frame, keep, lang, *, z=None, p=None, density=None, trend=None):
    """Short formatted strings per drawn unit (count, value when it differs from the count, z, p, ...)."""
    out = {}
    sub = frame[keep]
    if "count" in sub.columns:
        out["n"] = format_numbers(sub["count"], lang)
    if "value" in sub.columns and ("count" not in sub.columns or
                                   not np.allclose(sub["value"].to_numpy(float), sub["count"].to_numpy(float))):
        out["v"] = format_numbers(sub["value"], lang, 2)
    if z is not None:
        out["z"] = format_numbers(sub[z], lang, 2)
    if p is not None:
        out["p"] = _p_texts(sub[p], lang)
    if density is not None:
        out["d"] = format_numbers(sub[density], lang, 2)
    if trend is not None:
        out["t"] = format_numbers(sub[trend], lang, 2)
    return out


def _legend(m, title, entries, notes, legend):
    if not legend or m is None:
        return None
    box = Legend(title, entries, notes=notes)
    m.add_child(box)
    return box


def add_gi_star_layer(m, frame, *, lang="vi", significant_only=True, name=None, notes=(), show=True,
                      legend=True, max_all=MAX_ALL_UNITS, max_drawn=MAX_DRAWN_UNITS) -> HotspotLayer:
    """Gi* confidence bins (``gi_bin``) as an ArcGIS-coloured choropleth with popups of count, z and p.

    Parameters
    ----------
    m : folium.Map
    frame : GeoDataFrame
        From :func:`geo.hotspot_pipeline.run_hotspot_analysis` (``gi_bin``, ``gi_z``, ``gi_p``; ``count``/
        ``value``; ``commune_name`` or ``cell_id`` for the heading), any CRS.
    significant_only : bool, default True
        Draw only units with a non-zero bin.
    notes : sequence of str
        Extra plain-text legend lines (period, parameters, "illustrative data").
    """
    bins = frame["gi_bin"].to_numpy().astype(int)
    keep, fallback = _which(bins != 0, significant_only, max_all, lang, max_drawn=max_drawn,
                            priority=np.abs(np.nan_to_num(frame["gi_z"].to_numpy(dtype=float))))
    significant_only = significant_only or fallback is not None
    levels = [3, 2, 1, 0, -1, -2, -3]
    class_index = np.array([levels.index(b) for b in bins[keep]], dtype=int)
    labels = _common_labels(lang, [gi_bin_label(level, lang) for level in levels])
    figures = _figures(frame, keep, lang, z="gi_z", p="gi_p") if m is not None else {}
    layer = _add_features(m, frame, keep, class_index, [GI_BIN_COLOURS[level] for level in levels], labels,
                          figures, lang=lang, name=name or word("gistar_title", lang), show=show)
    hot, cold = int((bins > 0).sum()), int((bins < 0).sum())
    subset = fallback or _drawn_note(int(keep.sum()), bins.size, significant_only, lang)
    all_notes = list(notes) + [subset]
    entries = [(GI_BIN_COLOURS[level], gi_bin_label(level, lang)) for level in levels
               if level != 0 or not significant_only]
    box = _legend(m, word("gistar_title", lang), entries, all_notes, legend)
    return HotspotLayer("gistar", bins.size, int(keep.sum()), hot, cold, legend=box, layer=layer, notes=all_notes,
                        subset_note=subset if keep.sum() < bins.size else "")


def _which(significant, significant_only, max_all, lang, priority=None, max_drawn=MAX_DRAWN_UNITS):
    """Mask of the units to draw and an optional note (fallback to significant only, or the most significant).

    ``priority`` orders the significant units (larger first) when more than ``max_drawn`` of them are.
    """
    note = None
    if not significant_only and significant.size <= max_all:
        return np.ones(significant.size, dtype=bool), None
    if not significant_only:
        note = word("too_many_units", lang).format(total=format_number(significant.size, lang))
    n_significant = int(significant.sum())
    if priority is not None and n_significant > max_drawn:
        order = np.flatnonzero(significant)[np.argsort(-np.asarray(priority, dtype=float)[significant],
                                                       kind="stable")]
        keep = np.zeros(significant.size, dtype=bool)
        keep[order[:max_drawn]] = True
        capped = word("most_significant", lang).format(drawn=format_number(max_drawn, lang),
                                                       significant=format_number(n_significant, lang))
        return keep, capped if note is None else f"{note}; {capped}"
    return significant, note


def _drawn_note(drawn, total, significant_only, lang):
    if not significant_only:
        return ""
    if drawn == 0:
        return word("none_significant", lang)
    return word("only_significant", lang).format(drawn=format_number(drawn, lang), total=format_number(total, lang))


def add_lisa_layer(m, frame, *, lang="vi", significant_only=True, name=None, notes=(), show=True,
                   legend=True, max_all=MAX_ALL_UNITS, max_drawn=MAX_DRAWN_UNITS) -> HotspotLayer:
    """LISA clusters (``lisa_cluster``: HH, LL, HL, LH) in GeoDa colours, popups with count, I's p-value."""
    codes = ["HH", "LL", "HL", "LH", "not significant"]
    cluster = frame["lisa_cluster"].astype(str).to_numpy()
    p_values = frame["lisa_p"].to_numpy(dtype=float) if "lisa_p" in frame.columns else np.zeros(cluster.size)
    # Smallest pseudo p first; among equal p (999 permutations give few distinct values) the largest |I|.
    strength = np.abs(np.nan_to_num(frame["lisa_i"].to_numpy(dtype=float)))
    priority = -np.nan_to_num(p_values, nan=1.0) * 1e6 + strength / (strength.max() + 1.0)
    keep, fallback = _which(cluster != "not significant", significant_only, max_all, lang, priority=priority,
                            max_drawn=max_drawn)
    significant_only = significant_only or fallback is not None
    class_index = np.array([codes.index(c) for c in cluster[keep]], dtype=int)
    labels = _common_labels(lang, [lisa_label(c, lang) for c in codes])
    labels["z"] = "I"
    figures = (_figures(frame.assign(_lisa_i=frame["lisa_i"]), keep, lang, z="_lisa_i", p="lisa_p")
               if m is not None else {})
    layer = _add_features(m, frame, keep, class_index, [LISA_COLOURS[c] for c in codes], labels, figures,
                          lang=lang, name=name or word("lisa_title", lang), show=show)
    subset = fallback or _drawn_note(int(keep.sum()), cluster.size, significant_only, lang)
    all_notes = list(notes) + [subset]
    entries = [(LISA_COLOURS[c], lisa_label(c, lang)) for c in codes if c != "not significant" or not significant_only]
    box = _legend(m, word("lisa_title", lang), entries, all_notes, legend)
    return HotspotLayer("lisa", cluster.size, int(keep.sum()), int((cluster == "HH").sum()),
                        int((cluster == "LL").sum()), legend=box, layer=layer, notes=all_notes,
                        subset_note=subset if keep.sum() < cluster.size else "")


def density_bounds(maximum: float, k: int = len(DENSITY_COLOURS), min_share: float = DENSITY_MIN_SHARE):
    """Lower bounds of ``k`` density classes: ``min_share`` of the maximum, then equal intervals."""
    if not maximum > 0:
        return []
    return [maximum * min_share] + [maximum * i / k for i in range(1, k)]


def add_density_layer(m, frame, *, lang="vi", name=None, notes=(), show=True, legend=True,
                      min_share=DENSITY_MIN_SHARE, max_cells=MAX_DENSITY_CELLS) -> HotspotLayer:
    """Kernel density (``density`` per km²) in equal-interval classes of the maximum.

    Cells below ``min_share`` of the maximum density are not drawn; of the rest, at most ``max_cells``
    (the densest) are, so the page stays small whatever the grid.
    """
    density = frame["density"].to_numpy(dtype=float)
    maximum = float(np.nanmax(density)) if density.size else 0.0
    bounds = density_bounds(maximum, min_share=min_share)
    keep = density >= bounds[0] if bounds else np.zeros(density.size, dtype=bool)
    capped = False
    if keep.sum() > max_cells:
        threshold = np.sort(density[keep])[-max_cells]
        keep &= density >= threshold
        capped = True
    class_index = np.searchsorted(bounds, density[keep], side="right") - 1 if bounds else np.empty(0, int)
    class_labels = []
    for i, low in enumerate(bounds):
        high = bounds[i + 1] if i + 1 < len(bounds) else maximum
        class_labels.append(f"{format_number(low, lang, 2)} – {format_number(high, lang, 2)}")
    labels = _common_labels(lang, class_labels)
    figures = _figures(frame, keep, lang, density="density") if m is not None else {}
    layer = _add_features(m, frame, keep, class_index, list(DENSITY_COLOURS[:len(bounds)]), labels, figures,
                          lang=lang, name=name or word("kde_title", lang), show=show, fill_opacity=0.65)
    subset = [word("density_drawn", lang).format(drawn=format_number(int(keep.sum()), lang),
                                                 total=format_number(density.size, lang),
                                                 share=format_number(min_share * 100, lang))]
    if capped:
        subset.append(word("density_capped", lang).format(cap=format_number(max_cells, lang)))
    all_notes = list(notes) + subset
    entries = list(zip(DENSITY_COLOURS, class_labels))
    box = _legend(m, word("kde_title", lang), entries, all_notes, legend)
    return HotspotLayer("kde", density.size, int(keep.sum()), capped=capped, legend=box, layer=layer,
                        notes=all_notes, subset_note="; ".join(subset) if keep.sum() < density.size else "")


def add_emerging_layer(m, frame, *, lang="vi", significant_only=True, name=None, notes=(), show=True,
                       legend=True, max_all=MAX_ALL_UNITS, max_drawn=MAX_DRAWN_UNITS) -> HotspotLayer:
    """Emerging hot spot classes (``category``, :data:`geo.emerging.CLASSES`), ``no_pattern`` hidden by default."""
    codes = list(EMERGING_COLOURS)
    category = frame["category"].astype(str).to_numpy()
    trend = np.abs(np.nan_to_num(frame["trend_z"].to_numpy(dtype=float))) if "trend_z" in frame.columns else None
    keep, fallback = _which(category != "no_pattern", significant_only, max_all, lang, priority=trend,
                            max_drawn=max_drawn)
    significant_only = significant_only or fallback is not None
    class_index = np.array([codes.index(c) for c in category[keep]], dtype=int)
    labels = _common_labels(lang, [emerging_label(c, lang) for c in codes])
    figures = _figures(frame, keep, lang, trend="trend_z" if "trend_z" in frame.columns else None,
                       p="trend_p" if "trend_p" in frame.columns else None) if m is not None else {}
    layer = _add_features(m, frame, keep, class_index, [EMERGING_COLOURS[c] for c in codes], labels, figures,
                          lang=lang, name=name or word("emerging_title", lang), show=show)
    present = [c for c in codes if (category == c).any() and (c != "no_pattern" or not significant_only)]
    subset = fallback or _drawn_note(int(keep.sum()), category.size, significant_only, lang)
    all_notes = list(notes) + [subset]
    entries = [(EMERGING_COLOURS[c], emerging_label(c, lang)) for c in present]
    box = _legend(m, word("emerging_title", lang), entries, all_notes, legend)
    return HotspotLayer("emerging", category.size, int(keep.sum()),
                        int(np.char.endswith(category.astype(str), "_hot").sum()),
                        int(np.char.endswith(category.astype(str), "_cold").sum()), legend=box, layer=layer,
                        notes=all_notes, subset_note=subset if keep.sum() < category.size else "")


_ADDERS = {"gistar": add_gi_star_layer, "lisa": add_lisa_layer, "kde": add_density_layer,
           "emerging": add_emerging_layer}


def add_hotspot_layer(m, frame, statistic: str, **options) -> HotspotLayer:
    """Add the layer for ``statistic`` (gistar, lisa, kde or emerging); ``options`` go to its adder.

    With ``m=None`` nothing is drawn: the returned layer (``layer`` and ``legend`` None) only says what would
    be — units drawn, subset note, hot and cold counts — which a page shows beside a map served elsewhere.
    """
    if statistic not in _ADDERS:
        raise ValueError(f"statistic {statistic!r} is not one of: {', '.join(STATISTICS)}")
    return _ADDERS[statistic](m, frame, **options)


def gi_star_legend_entries(lang: str = "vi", *, not_significant: bool = False) -> list[tuple[str, str]]:
    """The Gi* bins with their colour and wording, hot to cold, for a legend naming an overlay's classes
    (``not_significant``: also the class drawn when every unit is, not only the significant ones)."""
    return [(GI_BIN_COLOURS[level], gi_bin_label(level, lang)) for level in (3, 2, 1, 0, -1, -2, -3)
            if level != 0 or not_significant]


def add_overview_hotspot_layer(m, frame, statistic: str = "gistar", *, lang: str = "vi") -> HotspotLayer:
    """A hot spot overlay for the overview map: off until ticked in the layer control, no second legend."""
    return add_hotspot_layer(m, frame, statistic, lang=lang, show=False, legend=False)


__all__ = [
    "DENSITY_COLOURS", "EMERGING_COLOURS", "GI_BIN_COLOURS", "LISA_COLOURS", "HotspotLayer", "add_density_layer",
    "add_emerging_layer", "add_gi_star_layer", "add_hotspot_layer", "add_lisa_layer", "add_overview_hotspot_layer",
    "density_bounds", "emerging_label", "gi_bin_label", "gi_star_legend_entries", "lisa_label",
]

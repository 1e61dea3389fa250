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
from dataclasses import dataclass, field

import folium
import numpy as np
import shapely
from folium.utilities import JsCode

from geo.emerging import CLASS_LABELS_VI
from geo.lisa import QUADRANT_LABELS_VI
from layers.legend import Legend, js_string
from layers.text import choose, format_number

STATISTICS = ("gistar", "lisa", "kde", "emerging")
DISPLAY_DECIMALS = 5
NOT_SIGNIFICANT_COLOUR = "#f2f1ea"
HOTSPOT_CLASS = "hotspot-cell"

#: ArcGIS Hot Spot Analysis (Getis-Ord Gi*) default renderer, bin → colour.
GI_BIN_COLOURS = {
    3: "#d62f27", 2: "#ed7551", 1: "#fab984", 0: NOT_SIGNIFICANT_COLOUR,
    -1: "#c0ccbe", -2: "#849eba", -3: "#4575b5",
}
GI_BIN_LABELS = {
    3: ("Điểm nóng — độ tin cậy 99%", "Hot spot — 99% confidence"),
    2: ("Điểm nóng — độ tin cậy 95%", "Hot spot — 95% confidence"),
    1: ("Điểm nóng — độ tin cậy 90%", "Hot spot — 90% confidence"),
    0: ("Không có ý nghĩa thống kê", "Not significant"),
    -1: ("Điểm lạnh — độ tin cậy 90%", "Cold spot — 90% confidence"),
    -2: ("Điểm lạnh — độ tin cậy 95%", "Cold spot — 95% confidence"),
    -3: ("Điểm lạnh — độ tin cậy 99%", "Cold spot — 99% confidence"),
}

#: GeoDa LISA cluster map colours.
LISA_COLOURS = {"HH": "#e31a1c", "HL": "#f4a6a1", "LH": "#a6b4f5", "LL": "#1f4fd6",
                "not significant": NOT_SIGNIFICANT_COLOUR}
LISA_LABELS_EN = {"HH": "High – High (hot spot)", "LL": "Low – Low (cold spot)", "HL": "High – Low (high outlier)",
                  "LH": "Low – High (low outlier)", "not significant": "Not significant"}

#: Density classes: equal intervals of the maximum, ColorBrewer YlOrRd; cells under the first bound are not drawn.
DENSITY_COLOURS = ("#ffffb2", "#fecc5c", "#fd8d3c", "#f03b20", "#bd0026")
DENSITY_MIN_SHARE = 0.05
MAX_DENSITY_CELLS = 3000
#: Above this many units, "draw every unit" falls back to the significant ones (a 500 m province grid has
#: 16,000 cells, about 5 MB of GeoJSON).
MAX_ALL_UNITS = 5000

EMERGING_COLOURS = {
    "new_hot": "#e31a1c", "consecutive_hot": "#fb6a4a", "intensifying_hot": "#99000d",
    "persistent_hot": "#cb181d", "diminishing_hot": "#fcae91", "sporadic_hot": "#fd8d3c",
    "oscillating_hot": "#d94801", "historical_hot": "#fdd0a2",
    "new_cold": "#2171b5", "consecutive_cold": "#6baed6", "intensifying_cold": "#08306b",
    "persistent_cold": "#08519c", "diminishing_cold": "#c6dbef", "sporadic_cold": "#4292c6",
    "oscillating_cold": "#3f007d", "historical_cold": "#9ecae1",
    "no_pattern": NOT_SIGNIFICANT_COLOUR,
}
EMERGING_LABELS_EN = {
    "new_hot": "New hot spot", "consecutive_hot": "Consecutive hot spot", "intensifying_hot": "Intensifying hot spot",
    "persistent_hot": "Persistent hot spot", "diminishing_hot": "Diminishing hot spot",
    "sporadic_hot": "Sporadic hot spot", "oscillating_hot": "Oscillating hot spot",
    "historical_hot": "Historical hot spot", "new_cold": "New cold spot", "consecutive_cold": "Consecutive cold spot",
    "intensifying_cold": "Intensifying cold spot", "persistent_cold": "Persistent cold spot",
    "diminishing_cold": "Diminishing cold spot", "sporadic_cold": "Sporadic cold spot",
    "oscillating_cold": "Oscillating cold spot", "historical_cold": "Historical cold spot",
    "no_pattern": "No pattern detected",
}

WORDS = {
    "gistar_title": ("Điểm nóng Getis-Ord Gi*", "Getis-Ord Gi* hot spots"),
    "lisa_title": ("Cụm và ngoại lai (Local Moran's I)", "Clusters and outliers (Local Moran's I)"),
    "kde_title": ("Mật độ vụ việc (số vụ/km²)", "Incident density (per km²)"),
    "emerging_title": ("Xu hướng điểm nóng theo thời gian", "Emerging hot spots"),
    "class": ("Phân loại", "Class"),
    "count": ("Số vụ", "Incidents"),
    "value": ("Giá trị phân tích", "Analysed value"),
    "z": ("Điểm z", "z-score"),
    "p": ("Giá trị p", "p-value"),
    "density": ("Mật độ /km²", "Density /km²"),
    "trend": ("Xu hướng Mann-Kendall (z)", "Mann-Kendall trend (z)"),
    "only_significant": ("Chỉ vẽ {drawn}/{total} đơn vị có ý nghĩa thống kê", "{drawn} of {total} units drawn "
                         "(significant only)"),
    "density_drawn": ("Vẽ {drawn}/{total} ô có mật độ ≥ {share}% mức cao nhất",
                      "{drawn} of {total} cells drawn (density ≥ {share}% of the maximum)"),
    "density_capped": ("Chỉ vẽ {cap} ô có mật độ cao nhất", "Only the {cap} densest cells are drawn"),
    "none_significant": ("Không có đơn vị nào có ý nghĩa thống kê", "No unit is statistically significant"),
    "too_many_units": ("{total} đơn vị: quá nhiều để vẽ tất cả, chỉ vẽ đơn vị có ý nghĩa thống kê",
                       "{total} units are too many to draw them all: significant units only"),
}


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


def gi_bin_label(level: int, lang: str = "vi") -> str:
    vi, en = GI_BIN_LABELS[int(level)]
    return en if lang == "en" else vi


def lisa_label(code: str, lang: str = "vi") -> str:
    return LISA_LABELS_EN[code] if lang == "en" else QUADRANT_LABELS_VI[code]


def emerging_label(code: str, lang: str = "vi") -> str:
    return EMERGING_LABELS_EN[code] if lang == "en" else CLASS_LABELS_VI[code]


def _p_text(p, lang):
    if p is None or not np.isfinite(p):
        return "–"
    if p < 0.001:
        return "< " + format_number(0.001, lang, 3)
    return format_number(p, lang, 3)


def _display_frame(frame):
    """Units in EPSG:4326 with coordinates rounded to about 1 m (finer digits only add bytes)."""
    shown = frame if frame.crs is not None and frame.crs.to_epsg() == 4326 else frame.to_crs(4326)
    geometry = shapely.transform(shown.geometry.values, lambda xy: np.round(xy, DISPLAY_DECIMALS))
    return shown.set_geometry(shapely.make_valid(geometry))


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
    shown = _display_frame(frame[keep])
    headings = _headings(shown, lang)
    features = []
    for i, (geometry, heading) in enumerate(zip(shown.geometry.values, headings)):
        k = int(class_index[i])
        props = {"k": k, "f": colours_by_index[k]}
        if heading:
            props["h"] = heading
        for key, values in properties.items():
            props[key] = values[i]
        # A short feature id keeps folium's per-feature style table to a few bytes per unit.
        features.append({"type": "Feature", "id": i, "properties": props, "geometry": shapely.geometry.mapping(geometry)})
    layer = folium.GeoJson(
        {"type": "FeatureCollection", "features": features},
        name=name,
        show=show,
        # Outlined in their own colour, neighbouring cells of one class read as one area, as in ArcGIS.
        style_function=lambda feature: {"fillColor": feature["properties"]["f"], "color": feature["properties"]["f"],
                                        "weight": 0.8, "fillOpacity": fill_opacity},
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


def _figures(frame, keep, lang, *, z=None, p=None, density=None, trend=None):
    """Short formatted strings per drawn unit (count, value when it differs from the count, z, p, ...)."""
    out = {}
    sub = frame[keep]
    if "count" in sub.columns:
        out["n"] = [format_number(v, lang) for v in sub["count"]]
    if "value" in sub.columns and ("count" not in sub.columns or
                                   not np.allclose(sub["value"].to_numpy(float), sub["count"].to_numpy(float))):
        out["v"] = [format_number(v, lang, 2) for v in sub["value"]]
    if z is not None:
        out["z"] = [format_number(v, lang, 2) for v in sub[z]]
    if p is not None:
        out["p"] = [html.escape(_p_text(v, lang)) for v in sub[p]]
    if density is not None:
        out["d"] = [format_number(v, lang, 2) for v in sub[density]]
    if trend is not None:
        out["t"] = [format_number(v, lang, 2) for v in sub[trend]]
    return out


def _legend(m, title, entries, notes, legend):
    if not legend:
        return None
    box = Legend(title, entries, notes=notes)
    m.add_child(box)
    return box


def add_gi_star_layer(m, frame, *, lang="vi", significant_only=True, name=None, notes=(), show=True,
                      legend=True, max_all=MAX_ALL_UNITS) -> HotspotLayer:
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
    keep, fallback = _which(bins != 0, significant_only, max_all, lang)
    significant_only = significant_only or fallback is not None
    levels = [3, 2, 1, 0, -1, -2, -3]
    class_index = np.array([levels.index(b) for b in bins[keep]], dtype=int)
    labels = _common_labels(lang, [gi_bin_label(level, lang) for level in levels])
    figures = _figures(frame, keep, lang, z="gi_z", p="gi_p")
    layer = _add_features(m, frame, keep, class_index, [GI_BIN_COLOURS[level] for level in levels], labels,
                          figures, lang=lang, name=name or word("gistar_title", lang), show=show)
    hot, cold = int((bins > 0).sum()), int((bins < 0).sum())
    all_notes = list(notes) + [fallback or _drawn_note(int(keep.sum()), bins.size, significant_only, lang)]
    entries = [(GI_BIN_COLOURS[level], gi_bin_label(level, lang)) for level in levels
               if level != 0 or not significant_only]
    box = _legend(m, word("gistar_title", lang), entries, all_notes, legend)
    return HotspotLayer("gistar", bins.size, int(keep.sum()), hot, cold, legend=box, layer=layer, notes=all_notes)


def _which(significant, significant_only, max_all, lang):
    """Mask of the units to draw and an optional note (when "all" had to fall back to significant only)."""
    if significant_only:
        return significant, None
    if significant.size > max_all:
        return significant, word("too_many_units", lang).format(total=format_number(significant.size, lang))
    return np.ones(significant.size, dtype=bool), None


def _drawn_note(drawn, total, significant_only, lang):
    if not significant_only:
        return ""
    if drawn == 0:
        return word("none_significant", lang)
    return word("only_significant", lang).format(drawn=format_number(drawn, lang), total=format_number(total, lang))


def add_lisa_layer(m, frame, *, lang="vi", significant_only=True, name=None, notes=(), show=True,
                   legend=True, max_all=MAX_ALL_UNITS) -> HotspotLayer:
    """LISA clusters (``lisa_cluster``: HH, LL, HL, LH) in GeoDa colours, popups with count, I's p-value."""
    codes = ["HH", "LL", "HL", "LH", "not significant"]
    cluster = frame["lisa_cluster"].astype(str).to_numpy()
    keep, fallback = _which(cluster != "not significant", significant_only, max_all, lang)
    significant_only = significant_only or fallback is not None
    class_index = np.array([codes.index(c) for c in cluster[keep]], dtype=int)
    labels = _common_labels(lang, [lisa_label(c, lang) for c in codes])
    labels["z"] = "I"
    frame = frame.assign(_lisa_i=frame["lisa_i"])
    figures = _figures(frame, keep, lang, z="_lisa_i", p="lisa_p")
    layer = _add_features(m, frame, keep, class_index, [LISA_COLOURS[c] for c in codes], labels, figures,
                          lang=lang, name=name or word("lisa_title", lang), show=show)
    all_notes = list(notes) + [fallback or _drawn_note(int(keep.sum()), cluster.size, significant_only, lang)]
    entries = [(LISA_COLOURS[c], lisa_label(c, lang)) for c in codes if c != "not significant" or not significant_only]
    box = _legend(m, word("lisa_title", lang), entries, all_notes, legend)
    return HotspotLayer("lisa", cluster.size, int(keep.sum()), int((cluster == "HH").sum()),
                        int((cluster == "LL").sum()), legend=box, layer=layer, notes=all_notes)


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
    figures = _figures(frame, keep, lang, density="density")
    layer = _add_features(m, frame, keep, class_index, list(DENSITY_COLOURS[:len(bounds)]), labels, figures,
                          lang=lang, name=name or word("kde_title", lang), show=show, fill_opacity=0.65)
    all_notes = list(notes)
    all_notes.append(word("density_drawn", lang).format(drawn=format_number(int(keep.sum()), lang),
                                                        total=format_number(density.size, lang),
                                                        share=format_number(min_share * 100, lang)))
    if capped:
        all_notes.append(word("density_capped", lang).format(cap=format_number(max_cells, lang)))
    entries = list(zip(DENSITY_COLOURS, class_labels))
    box = _legend(m, word("kde_title", lang), entries, all_notes, legend)
    return HotspotLayer("kde", density.size, int(keep.sum()), capped=capped, legend=box, layer=layer,
                        notes=all_notes)


def add_emerging_layer(m, frame, *, lang="vi", significant_only=True, name=None, notes=(), show=True,
                       legend=True, max_all=MAX_ALL_UNITS) -> HotspotLayer:
    """Emerging hot spot classes (``category``, :data:`geo.emerging.CLASSES`), ``no_pattern`` hidden by default."""
    codes = list(EMERGING_COLOURS)
    category = frame["category"].astype(str).to_numpy()
    keep, fallback = _which(category != "no_pattern", significant_only, max_all, lang)
    significant_only = significant_only or fallback is not None
    class_index = np.array([codes.index(c) for c in category[keep]], dtype=int)
    labels = _common_labels(lang, [emerging_label(c, lang) for c in codes])
    figures = _figures(frame, keep, lang, trend="trend_z" if "trend_z" in frame.columns else None,
                       p="trend_p" if "trend_p" in frame.columns else None)
    layer = _add_features(m, frame, keep, class_index, [EMERGING_COLOURS[c] for c in codes], labels, figures,
                          lang=lang, name=name or word("emerging_title", lang), show=show)
    present = [c for c in codes if (category == c).any() and (c != "no_pattern" or not significant_only)]
    all_notes = list(notes) + [fallback or _drawn_note(int(keep.sum()), category.size, significant_only, lang)]
    entries = [(EMERGING_COLOURS[c], emerging_label(c, lang)) for c in present]
    box = _legend(m, word("emerging_title", lang), entries, all_notes, legend)
    return HotspotLayer("emerging", category.size, int(keep.sum()),
                        int(np.char.endswith(category.astype(str), "_hot").sum()),
                        int(np.char.endswith(category.astype(str), "_cold").sum()), legend=box, layer=layer,
                        notes=all_notes)


_ADDERS = {"gistar": add_gi_star_layer, "lisa": add_lisa_layer, "kde": add_density_layer,
           "emerging": add_emerging_layer}


def add_hotspot_layer(m, frame, statistic: str, **options) -> HotspotLayer:
    """Add the layer for ``statistic`` (gistar, lisa, kde or emerging); ``options`` go to its adder."""
    if statistic not in _ADDERS:
        raise ValueError(f"statistic {statistic!r} is not one of: {', '.join(STATISTICS)}")
    return _ADDERS[statistic](m, frame, **options)


def add_overview_hotspot_layer(m, frame, statistic: str = "gistar", *, lang: str = "vi") -> HotspotLayer:
    """A hot spot overlay for the overview map: off until ticked in the layer control, no second legend."""
    return add_hotspot_layer(m, frame, statistic, lang=lang, show=False, legend=False)


__all__ = [
    "DENSITY_COLOURS", "EMERGING_COLOURS", "GI_BIN_COLOURS", "LISA_COLOURS", "HotspotLayer", "add_density_layer",
    "add_emerging_layer", "add_gi_star_layer", "add_hotspot_layer", "add_lisa_layer", "add_overview_hotspot_layer",
    "density_bounds", "emerging_label", "gi_bin_label", "lisa_label",
]

"""Printable maps: the layers of a page's folium map drawn on an A4 landscape sheet (PDF or PNG) with matplotlib.

The sheet is drawn on the server from the very map the page shows — its GeoJSON layers with their own style
functions, circle markers, incident points and legends — so the print cannot drift from the screen, and it
needs no browser, no tiles and no network. Layers hidden on opening (``show=False``) stay off the print, as
on the screen; basemaps are not printed (the layers are drawn on white, with the boundaries as context).

Layout: title and subtitle lines on top; the map on the left at the page's own view (its ``fit_bounds``:
the province, or the district or unit chosen), with a scale bar and a north arrow; on the right the legend
(the map's own legend boxes), the data-through date, "Dữ liệu minh họa" for demo data, the sources and the
date printed. Distances for the scale bar are measured in UTM zone 48N (EPSG:32648), where grid north and
true north differ by less than 0.2° over the province.
"""
from __future__ import annotations

import io
import json
import math
import re
import textwrap
from dataclasses import dataclass, field
from datetime import datetime

import geopandas as gpd
import matplotlib

matplotlib.use("Agg")  # before pyplot: no display on the server
import matplotlib.pyplot as plt  # noqa: E402
import shapely  # noqa: E402
from folium.map import FitBounds, Layer  # noqa: E402
from folium.plugins import FastMarkerCluster  # noqa: E402
from folium.raster_layers import TileLayer  # noqa: E402
from folium.features import GeoJson  # noqa: E402
from folium.vector_layers import Circle, CircleMarker  # noqa: E402
from matplotlib.patches import Circle as CirclePatch, Ellipse, Rectangle  # noqa: E402

from geo.crs import METRIC_CRS  # noqa: E402
from layers.basemap import EmptyBaseLayer, PMTilesLayer  # noqa: E402
from layers.incidents import SEVERITY_COLOURS, UNKNOWN_COLOUR  # noqa: E402
from layers.legend import Legend  # noqa: E402
from translations import LANGUAGES, CatalogTable, format_date, format_datetime  # noqa: E402

A4_LANDSCAPE_IN = (11.69, 8.27)
PNG_DPI = 150
FORMATS = ("pdf", "png")
# Leaflet's path defaults (L.Path options), used when a style function leaves a key out.
LEAFLET_DEFAULTS = {"color": "#3388ff", "weight": 3, "opacity": 1.0, "fillOpacity": 0.2}
# A Leaflet pixel is 1/96 in on screen; a printed line of the same px weight in points reads about right at 0.6.
PX_TO_PT = 0.6
MAP_BOX = (0.025, 0.085, 0.655, 0.78)   # left, bottom, width, height (figure fractions)
PANEL_LEFT = 0.70
PANEL_BOTTOM = 0.06  # the footer line sits below this
PANEL_SCALES = (1.0, 0.85, 0.72, 0.6)

#: The sheet's own words (legend heading, data-through line, demo warning, footer) from the catalogs' report.print.*.
WORDS = CatalogTable("report.print")


@dataclass
class PrintSheet:
    """What the sheet says around the map (plain text; the map's legends come from the map itself).

    ``lines`` are the subtitle lines: period, boundary set, filters; ``data_through`` a date or None.
    """

    title: str
    lines: list[str] = field(default_factory=list)
    data_through: object = None
    demo: bool = False
    sources: list[str] = field(default_factory=list)
    printed_at: datetime | None = None
    printed_by: str = ""
    lang: str = "vi"


def _visible(element):
    """Children of ``element`` drawn on opening, depth first, without basemaps or hidden layers."""
    for child in list(element._children.values()):
        if isinstance(child, (TileLayer, PMTilesLayer, EmptyBaseLayer)):
            continue
        if isinstance(child, Layer) and not child.show:
            continue
        yield child
        yield from _visible(child)


def _dash(value):
    if not value:
        return "solid"
    numbers = [float(part) * PX_TO_PT for part in str(value).replace(",", " ").split() if part]
    return (0, tuple(numbers)) if numbers else "solid"


def _draw_geojson(ax, layer: GeoJson, zorder: int) -> int:
    """Draw one GeoJSON layer with its own style function, one matplotlib call per distinct style."""
    features = [f for f in (layer.data or {}).get("features", []) if f.get("geometry")]
    if not features:
        return 0
    geometries = gpd.GeoSeries([shapely.geometry.shape(f["geometry"]) for f in features],
                               crs="EPSG:4326").to_crs(METRIC_CRS)
    style_of = layer.style_function
    fills, strokes, points = {}, {}, []
    for feature, geometry in zip(features, geometries):
        style = {**LEAFLET_DEFAULTS, **(style_of(feature) if style_of else {})}
        stroke = bool(style.get("stroke", True)) and float(style.get("weight") or 0) > 0
        width = float(style.get("weight") or 0) * PX_TO_PT
        line = (style["color"], max(width, 0.3), float(style.get("opacity", 1.0)), str(style.get("dashArray") or ""))
        kind = geometry.geom_type
        if "Polygon" in kind:
            opacity = float(style.get("fillOpacity", 0.2))
            if style.get("fill", True) and opacity > 0:
                fills.setdefault((style.get("fillColor") or style["color"], opacity), []).append(geometry)
            if stroke:
                strokes.setdefault(line, []).append(geometry.boundary)
        elif "LineString" in kind:
            strokes.setdefault(line, []).append(geometry)
        elif "Point" in kind:
            points.extend((p, style) for p in getattr(geometry, "geoms", [geometry]))
    for (colour, opacity), parts in fills.items():
        gpd.GeoSeries(parts).plot(ax=ax, color=colour, alpha=opacity, linewidth=0, zorder=zorder)
    for (colour, width, opacity, dash), parts in strokes.items():
        gpd.GeoSeries(parts).plot(ax=ax, color=colour, linewidth=width, alpha=opacity, linestyle=_dash(dash),
                                  zorder=zorder + 0.5)
    for point, style in points:
        ax.add_patch(CirclePatch((point.x, point.y), radius=_pixel_m(ax) * 4,
                                 facecolor=style.get("fillColor") or style["color"], edgecolor=style["color"],
                                 linewidth=0.5, zorder=zorder + 1))
    return len(features)


def _pixel_m(ax) -> float:
    """Metres per printed point at the current view (to size markers given in screen pixels)."""
    x0, x1 = ax.get_xlim()
    width_pt = ax.get_window_extent().width * 72 / ax.figure.dpi
    return abs(x1 - x0) / max(width_pt, 1)


def _to_metric(lat: float, lon: float):
    point = gpd.GeoSeries.from_xy([lon], [lat], crs="EPSG:4326").to_crs(METRIC_CRS)
    return float(point.x.iloc[0]), float(point.y.iloc[0])


def _draw_marker(ax, marker, zorder: int) -> None:
    options = marker.options
    x, y = _to_metric(*marker.location)
    stroke = options.get("stroke", True)
    face = options.get("fillColor") if options.get("fill", isinstance(marker, CircleMarker)) else "none"
    radius = float(options.get("radius", 10))
    radius_m = radius if isinstance(marker, Circle) else radius * _pixel_m(ax) * PX_TO_PT * 1.2
    ax.add_patch(CirclePatch((x, y), radius=radius_m, facecolor=face or "none",
                             alpha=None if face == "none" else max(float(options.get("fillOpacity", 0.2)), 0.15),
                             edgecolor=options.get("color", "#3388ff") if stroke else "none",
                             linewidth=float(options.get("weight", 3)) * PX_TO_PT,
                             linestyle=_dash(options.get("dashArray")), zorder=zorder))


def _callback_palette(cluster) -> list:
    # layers.incidents passes the severity colours to its marker callback as the JSON array K, indexed by row[5].
    match = re.search(r"K = (\[[^\]]*\])", str(getattr(cluster, "callback", "") or ""))
    try:
        return json.loads(match.group(1)) if match else []
    except ValueError:
        return []


def _severity_colour(value, palette) -> str:
    if isinstance(value, int) and 0 <= value < len(palette):
        return palette[value]
    return SEVERITY_COLOURS.get(value, UNKNOWN_COLOUR)


def _draw_points(ax, cluster: FastMarkerCluster, zorder: int) -> int:
    rows = [row for row in (cluster.data or []) if len(row) >= 2]
    if not rows:
        return 0
    points = gpd.GeoSeries.from_xy([r[1] for r in rows], [r[0] for r in rows], crs="EPSG:4326").to_crs(METRIC_CRS)
    colours = [_severity_colour(r[5], palette) if len(r) > 5 else UNKNOWN_COLOUR
               for palette in [_callback_palette(cluster)] for r in rows]
    ax.scatter(points.x, points.y, s=9, c=colours, edgecolors="#222222", linewidths=0.3, zorder=zorder)
    return len(rows)


def _view(m, ax, drawn_bounds):
    """The page's own view: its fit_bounds (province or chosen unit), else everything drawn."""
    fits = [child for child in m._children.values() if isinstance(child, FitBounds)]
    if fits:
        (south, west), (north, east) = fits[-1].bounds
        x0, y0 = _to_metric(south, west)
        x1, y1 = _to_metric(north, east)
        minx, miny, maxx, maxy = min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1)
    else:
        minx, miny, maxx, maxy = drawn_bounds
    pad = max(maxx - minx, maxy - miny, 1.0) * 0.03
    minx, miny, maxx, maxy = minx - pad, miny - pad, maxx + pad, maxy + pad
    # Widen one side so one metre is as long across as up the box: equal scale without moving the box.
    box = ax.get_position()
    box_ratio = (box.width * A4_LANDSCAPE_IN[0]) / (box.height * A4_LANDSCAPE_IN[1])
    cx, cy = (minx + maxx) / 2, (miny + maxy) / 2
    dx, dy = maxx - minx, maxy - miny
    if dx / dy < box_ratio:
        dx = dy * box_ratio
    else:
        dy = dx / box_ratio
    ax.set_xlim(cx - dx / 2, cx + dx / 2)
    ax.set_ylim(cy - dy / 2, cy + dy / 2)


def nice_length(span_m: float) -> float:
    """The largest 1, 2 or 5 × 10^k metres not above a fifth of ``span_m`` (a scale bar's length)."""
    target = max(span_m / 5.0, 1.0)
    exponent = 10 ** math.floor(math.log10(target))
    return max(step * exponent for step in (1, 2, 5) if step * exponent <= target)


def _scale_bar(ax) -> float:
    x0, x1 = ax.get_xlim()
    y0, y1 = ax.get_ylim()
    length = nice_length(x1 - x0)
    left, bottom = x0 + (x1 - x0) * 0.03, y0 + (y1 - y0) * 0.04
    height = (y1 - y0) * 0.012
    half = length / 2
    for index, colour in enumerate(("#222222", "#ffffff")):
        ax.add_patch(Rectangle((left + index * half, bottom), half, height, facecolor=colour, edgecolor="#222222",
                               linewidth=0.6, zorder=50))
    label = f"{length / 1000:g} km" if length >= 1000 else f"{length:g} m"
    for x, text in ((left, "0"), (left + length, label)):
        ax.text(x, bottom + height * 1.6, text, ha="center", va="bottom", fontsize=7, zorder=50,
                bbox={"facecolor": "white", "edgecolor": "none", "alpha": 0.7, "pad": 0.5})
    return length


def _north_arrow(ax, letter: str) -> None:
    ax.annotate("", xy=(0.955, 0.95), xytext=(0.955, 0.85), xycoords="axes fraction",
                arrowprops={"facecolor": "#222222", "edgecolor": "#222222", "width": 3, "headwidth": 10,
                            "headlength": 10}, zorder=50)
    ax.text(0.955, 0.955, letter, transform=ax.transAxes, ha="center", va="bottom", fontsize=12,
            fontweight="bold", zorder=50)


def _symbol(colour: str, shape: str, centre):
    """A legend symbol as the map draws it (layers.legend.swatch): area, dot, cluster bubble or dashed outline."""
    x, y = centre
    half_w, half_h = 0.008, 0.0075
    if shape == "dot":
        return Ellipse((x, y), 0.011, 0.0155, facecolor=colour, edgecolor="#222222", linewidth=0.6)
    if shape == "bubble":
        return Ellipse((x, y), 0.015, 0.021, facecolor=colour, alpha=0.75, edgecolor="#555555", linewidth=0.5)
    if shape == "dashed":
        return Rectangle((x - half_w, y - half_h), 2 * half_w, 2 * half_h, facecolor="none", edgecolor=colour,
                         linewidth=1.6, linestyle=(0, (3, 1.5)))
    return Rectangle((x - half_w, y - half_h), 2 * half_w, 2 * half_h, facecolor=colour, edgecolor="#555555",
                     linewidth=0.5)


def _panel(fig, legends: list[Legend], sheet: PrintSheet, words: dict, shown_layers=frozenset(), *,
           scale: float = 1.0, created: list | None = None) -> float:
    """Legend boxes, then the data-through date, demo notice and sources, top to bottom, at ``scale`` of the
    normal type size; returns where the text ended (figure fraction) and appends what it drew to ``created``."""
    created = created if created is not None else []
    y = 0.865
    step = 0.021 * scale

    def line(text, *, size=8.0, weight="normal", colour="#222222", indent=0.0, wrap=52):
        nonlocal y
        for part in textwrap.wrap(str(text), int(wrap / scale)) or [""]:
            created.append(fig.text(PANEL_LEFT + indent, y, part, fontsize=size * scale, fontweight=weight,
                                    color=colour, va="top"))
            y -= step * size / 8.0

    def entry(colour, label, shape):
        symbol = _symbol(colour, shape, (PANEL_LEFT + 0.008, y - 0.006 * scale))
        symbol.set(transform=fig.transFigure, figure=fig)
        fig.patches.append(symbol)
        created.append(symbol)
        line(label, indent=0.022, wrap=46)

    line(words["legend"], size=11, weight="bold")
    y -= 0.004
    for legend in legends:
        line(legend.title, size=8.5, weight="bold")
        for colour, label, shape in legend.entries:
            entry(colour, label, shape)
        for layer_name, title, entries in getattr(legend, "sections", []):
            if layer_name not in shown_layers:
                continue  # a section of a layer switched off on opening, as on the screen
            line(title, size=8, weight="bold")
            for colour, label, shape in entries:
                entry(colour, label, shape)
        for note in legend.notes:
            line(note, size=6.8, colour="#555555", wrap=62)
        y -= 0.01 * scale
    y = min(y, 0.30)
    if sheet.data_through is not None:
        day = (format_date(sheet.data_through, words["lang"]) if hasattr(sheet.data_through, "strftime")
               else sheet.data_through)
        line(words["through"].format(date=day), size=8.5, weight="bold")
    if sheet.demo:
        created.append(fig.text(PANEL_LEFT, y, words["demo"], fontsize=11 * scale, fontweight="bold", color="#8a1c12",
                                va="top", bbox={"facecolor": "#fff3cd", "edgecolor": "#8a1c12", "pad": 3}))
        y -= 0.032 * scale
        line(words["demo_note"], size=7, colour="#8a1c12")
    if sheet.sources:
        line(f"{words['sources']}:", size=7.5, weight="bold")
        for source in sheet.sources:
            line(source, size=7, colour="#444444", wrap=64)
    return y


def _fit_panel(fig, legends, sheet, words, shown_layers) -> None:
    """The panel at the largest type size that keeps it above the footer (a long legend prints smaller)."""
    for scale in PANEL_SCALES:
        created: list = []
        end = _panel(fig, legends, sheet, words, shown_layers, scale=scale, created=created)
        if end >= PANEL_BOTTOM or scale == PANEL_SCALES[-1]:
            return
        for artist in created:
            if artist in fig.patches:
                fig.patches.remove(artist)
            else:
                artist.remove()


def print_map(m, sheet: PrintSheet, fmt: str = "pdf") -> bytes:
    """The A4 landscape sheet of folium map ``m`` as PDF or PNG bytes.

    Parameters
    ----------
    m : folium.Map
        The page's map as built for the screen (not rendered again here: its elements are read).
    sheet : PrintSheet
        Title, subtitle lines, data-through date, demo flag, sources, print time and language.
    fmt : {"pdf", "png"}
    """
    if fmt not in FORMATS:
        raise ValueError(f"fmt {fmt!r} is not one of: {', '.join(FORMATS)}")
    lang = sheet.lang if sheet.lang in LANGUAGES else "vi"
    words = {key: pair[1] if lang == "en" else pair[0] for key, pair in WORDS.items()}
    words["lang"] = lang
    printed_at = sheet.printed_at or datetime.now()
    with plt.rc_context({"font.family": "DejaVu Sans", "pdf.fonttype": 42}):
        fig = plt.figure(figsize=A4_LANDSCAPE_IN)
        fig.text(0.025, 0.965, sheet.title, fontsize=16, fontweight="bold", va="top")
        fig.text(0.025, 0.925, "  ·  ".join(line for line in sheet.lines if line), fontsize=9, va="top",
                 color="#333333", wrap=True)
        ax = fig.add_axes(MAP_BOX)
        ax.set_facecolor("#ffffff")
        ax.set_xticks([])
        ax.set_yticks([])
        for spine in ax.spines.values():
            spine.set_linewidth(0.8)
        # A first view so markers given in screen pixels can be sized; set again after drawing.
        _view(m, ax, (0, 0, 1, 1))
        legends, zorder, drawn, shown_layers = [], 2, [], set()
        for element in _visible(m):
            if isinstance(element, Layer):
                shown_layers.add(element.get_name())
            if isinstance(element, Legend):
                legends.append(element)
            elif isinstance(element, GeoJson):
                if _draw_geojson(ax, element, zorder):
                    drawn.append(element)
                zorder += 1
            elif isinstance(element, (CircleMarker, Circle)):
                _draw_marker(ax, element, zorder + 5)
            elif isinstance(element, FastMarkerCluster):
                _draw_points(ax, element, zorder + 10)
        x0, y0, width, height = ax.dataLim.bounds
        if not all(math.isfinite(v) for v in (x0, y0, width, height)):
            # Nothing drawn and no fit_bounds: the map's opening view (its centre, a zoom-wide span).
            lat, lon = m.location
            half = 180.0 / 2 ** float(m.options.get("zoom", 9)) * 2
            (x0, y0), (x1, y1) = _to_metric(lat - half / 2, lon - half), _to_metric(lat + half / 2, lon + half)
            width, height = x1 - x0, y1 - y0
        _view(m, ax, (x0, y0, x0 + width, y0 + height))
        ax.set_xlabel("")
        ax.set_ylabel("")
        _scale_bar(ax)
        _north_arrow(ax, words["north"])
        _fit_panel(fig, legends, sheet, words, shown_layers)
        stamp = words["printed"].format(date=format_datetime(printed_at, lang))
        if sheet.printed_by:
            stamp += "  ·  " + words["by"].format(user=sheet.printed_by)
        fig.text(0.025, 0.035, words["footer"], fontsize=7.5, color="#555555")
        fig.text(0.975, 0.035, stamp, fontsize=7.5, color="#555555", ha="right")
        buffer = io.BytesIO()
        metadata = ({"Title": sheet.title, "Creator": "Bản đồ 138"} if fmt == "pdf" else {"Title": sheet.title})
        fig.savefig(buffer, format=fmt, dpi=PNG_DPI, facecolor="white", metadata=metadata)
        plt.close(fig)
    return buffer.getvalue()

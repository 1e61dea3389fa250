"""Map images for printed reports, drawn with matplotlib's Agg backend from the commune polygons (no tiles).

Pure functions: GeoDataFrames in, PNG bytes out. Colours are the web maps' (``layers.palette``):
the ArcGIS hot spot legend for Gi* bins, the key-area status colours of the web pages.
"""
from __future__ import annotations

import io
import textwrap

import matplotlib

matplotlib.use("Agg")  # before pyplot: no display on the server
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.patches import Patch  # noqa: E402

from geo.crs import to_metric  # noqa: E402
from layers import palette  # noqa: E402
from translations import translate  # noqa: E402

HOT_COLOURS = palette.GI_STAR_BINS
HOT_BINS = (3, 2, 1, 0, -1, -2, -3)
KEY_AREA_COLOURS = palette.KEY_AREA_STATUS
FIGURE_SIZE = (7.0, 6.2)
DPI = 150


def hot_label(gi_bin: int, lang: str = "vi") -> str:
    """The legend's name of a Gi* confidence bin (``report.map.hot_3`` … ``report.map.hot_-3``)."""
    return translate(f"report.map.hot_{gi_bin}", lang)


def _png(fig) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=DPI, bbox_inches="tight", facecolor="white")
    plt.close(fig)
    return buffer.getvalue()


def _frame_axes(ax, communes_metric, focus_district):
    focus = communes_metric if not focus_district else communes_metric[communes_metric["district_code"] == focus_district]
    if len(focus):
        minx, miny, maxx, maxy = focus.total_bounds
        pad = max(maxx - minx, maxy - miny) * 0.04
        ax.set_xlim(minx - pad, maxx + pad)
        ax.set_ylim(miny - pad, maxy + pad)
    ax.set_aspect("equal")
    ax.set_axis_off()


def _district_outlines(ax, communes_metric):
    districts = communes_metric.dissolve(by="district_code")
    districts.boundary.plot(ax=ax, color="#333333", linewidth=0.8)


def hotspot_map_png(communes, bins, *, title: str, focus_district: str | None = None, note: str = "",
                    lang: str = "vi") -> bytes:
    """Communes coloured by Gi* confidence bin (−3…+3).

    Parameters
    ----------
    communes : GeoDataFrame
        Commune polygons (any CRS) with ``district_code``; drawn in EPSG:32648.
    bins : array_like of int
        Gi* bin per commune, aligned with ``communes``.
    title : str
        Caption above the map.
    focus_district : str, optional
        Zoom to this district (the others stay as context).
    note : str
        Small text under the legend (method, period, data version).
    lang : str
        Language of the legend (``vi``, ``en``).
    """
    frame = to_metric(communes).assign(bin=list(bins))
    fig, ax = plt.subplots(figsize=FIGURE_SIZE)
    frame.plot(ax=ax, color=[HOT_COLOURS.get(int(b), palette.NOT_SIGNIFICANT) for b in frame["bin"]], edgecolor="#999999",
               linewidth=0.3)
    _district_outlines(ax, frame)
    _frame_axes(ax, frame, focus_district)
    ax.set_title(title, fontsize=10)
    handles = [Patch(facecolor=HOT_COLOURS[b], edgecolor="#999999", label=hot_label(b, lang)) for b in HOT_BINS]
    ax.legend(handles=handles, loc="lower left", fontsize=7, frameon=True)
    if note:
        fig.text(0.01, 0.005, textwrap.fill(note, 120), fontsize=6, color="#555555", va="bottom")
    return _png(fig)


def key_area_map_png(communes, areas, *, title: str, status_labels: dict[str, str], focus_district: str | None = None,
                     note: str = "", lang: str = "vi") -> bytes:
    """Key complex areas coloured by conversion status over the commune polygons.

    Parameters
    ----------
    communes : GeoDataFrame
        Commune polygons with ``district_code``.
    areas : GeoDataFrame
        Key areas with ``status`` (codes of ``store.key_areas.STATUSES``); may be empty.
    status_labels : dict
        Status code → label for the legend.
    lang : str
        Language of the map's own words (``vi``, ``en``).
    """
    base = to_metric(communes)
    fig, ax = plt.subplots(figsize=FIGURE_SIZE)
    base.plot(ax=ax, color="#f4f4f4", edgecolor="#bbbbbb", linewidth=0.3)
    _district_outlines(ax, base)
    shown = []
    if len(areas):
        areas_metric = to_metric(areas)
        for status, colour in KEY_AREA_COLOURS.items():
            part = areas_metric[areas_metric["status"] == status]
            if len(part):
                part.plot(ax=ax, color=colour, edgecolor="#222222", linewidth=0.5, alpha=0.85)
                shown.append(status)
    _frame_axes(ax, base, focus_district)
    ax.set_title(title, fontsize=10)
    handles = [Patch(facecolor=KEY_AREA_COLOURS[s], edgecolor="#222222", label=status_labels.get(s, s))
               for s in KEY_AREA_COLOURS if s in shown]
    if handles:
        ax.legend(handles=handles, loc="lower left", fontsize=7, frameon=True)
    else:
        ax.text(0.5, 0.5, translate("report.map.no_key_areas", lang), transform=ax.transAxes, ha="center", fontsize=9)
    if note:
        fig.text(0.01, 0.005, textwrap.fill(note, 120), fontsize=6, color="#555555", va="bottom")
    return _png(fig)


def trend_chart_png(labels, series: dict[str, list], *, title: str, percent: bool = False,
                    target: float | None = None, lang: str = "vi") -> bytes:
    """A small per-quarter line chart (for the report's trend figure)."""
    fig, ax = plt.subplots(figsize=(6.0, 2.6))
    for index, (name, values) in enumerate(series.items()):
        ax.plot(labels, [v if v is not None else float("nan") for v in values], marker="o",
                linestyle="-" if index == 0 else "--", label=name)
    if target is not None:
        ax.axhline(target, color=palette.TARGET_LINE, linewidth=0.8, linestyle=":", label=translate("report.map.target", lang))
    if percent:
        ax.set_ylim(0, 100)
    ax.set_title(title, fontsize=9)
    ax.tick_params(labelsize=7)
    ax.legend(fontsize=7)
    ax.grid(alpha=0.3)
    return _png(fig)

"""Incident points, clustered with Leaflet.markercluster, with a bounded number of embedded points."""
from __future__ import annotations

import html
import json
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd
from folium.plugins import FastMarkerCluster

from geo.taxonomy import CASE_STATUSES, CATEGORIES, SEVERITIES
from layers import palette
from layers.text import text
from translations import format_date

#: Above this many drawable points the map shows commune totals only. 3,000 compact rows weigh about
#: 200 kB of script, which keeps a year of province data well under the 2 MB page budget.
DEFAULT_MAX_POINTS = 3000
SEVERITY_COLOURS = palette.INCIDENT_SEVERITY
UNKNOWN_COLOUR = palette.UNKNOWN_SEVERITY
POINT_CLASS = "incident-point"


@dataclass(frozen=True)
class PointSummary:
    """What the point layer shows: ``total`` rows given, ``shown`` drawn, ``redacted`` hidden (no
    location for this viewer), ``capped`` when more than ``cap`` drawable points meant none were drawn."""

    total: int
    shown: int
    redacted: int
    capped: bool
    cap: int
    layer: object = field(default=None, compare=False, repr=False)  # the cluster layer, when points are drawn
    severities: tuple = ()  # severity codes of the drawn points, in legend order

    def notes(self, lang: str = "vi") -> list[str]:
        lines = []
        if self.capped:
            lines.append(text("points_capped", lang).format(total=self.total - self.redacted, cap=self.cap))
        if self.redacted:
            lines.append(text("points_redacted", lang).format(n=self.redacted))
        return lines


def _rgba(colour: str, alpha: float) -> str:
    red, green, blue = (int(colour[i:i + 2], 16) for i in (1, 3, 5))
    return f"rgba({red}, {green}, {blue}, {alpha})"


def cluster_icon_script() -> str:
    """Leaflet.markercluster ``iconCreateFunction`` drawing bubbles in :data:`layers.palette.CLUSTER_BUBBLES`
    (neutral greys by size, as the plugin's own size classes: under 10, under 100, more) instead of the
    plugin's green-yellow-orange, since green reads as "safe" on a crime map."""
    fills = {size: colour for size, colour in palette.CLUSTER_BUBBLES.items()}
    rings = {size: _rgba(colour, 0.55) for size, colour in palette.CLUSTER_BUBBLES.items()}
    return (
        "function (cluster) {"
        " var n = cluster.getChildCount();"
        " var size = n < 10 ? 'small' : (n < 100 ? 'medium' : 'large');"
        f" var fill = {_js(fills)}[size], ring = {_js(rings)}[size], ink = {_js(palette.CLUSTER_TEXT)}[size];"
        " return L.divIcon({html: '<div style=\"background-color:' + fill + ';box-shadow:0 0 0 5px ' + ring"
        "  + ';color:' + ink + '\"><span>' + n + '</span></div>',"
        "  className: 'marker-cluster incident-cluster incident-cluster-' + size, iconSize: new L.Point(40, 40)});"
        "}"
    )


def legend_entries(points: "PointSummary", lang: str = "vi") -> list[tuple[str, str, str]]:
    """What the point layer draws, for its legend: one dot per severity drawn, and the cluster bubbles."""
    entries = [(SEVERITY_COLOURS.get(code, UNKNOWN_COLOUR), _label(SEVERITIES, code, lang) or text("unknown", lang),
                "dot") for code in points.severities]
    entries.append((palette.CLUSTER_BUBBLES["medium"], text("legend_cluster", lang), "bubble"))
    return entries


def _js(value) -> str:
    return (json.dumps(value, ensure_ascii=False).replace("<", "\\u003c").replace(">", "\\u003e")
            .replace("&", "\\u0026"))


def _label(table: dict, code, lang: str) -> str:
    entry = table.get(code)
    if entry is None:
        return "" if code is None or (isinstance(code, float) and np.isnan(code)) else str(code)
    return entry.label_en if lang == "en" else entry.label_vi


def _index(values: pd.Series, labels) -> tuple[list[int], list[str]]:
    """Codes → small integers plus the (escaped) label table, so each point carries a few digits only."""
    codes = list(dict.fromkeys(values.tolist()))
    position = {code: i for i, code in enumerate(codes)}
    return [position[v] for v in values.tolist()], [html.escape(labels(code)) for code in codes]


def drawable(incidents: pd.DataFrame) -> pd.Series:
    """Rows that may be drawn as points: not redacted and with finite coordinates."""
    if incidents.empty:
        return pd.Series([], dtype=bool)
    redacted = incidents["redacted"].astype(bool) if "redacted" in incidents.columns else False
    finite = np.isfinite(pd.to_numeric(incidents["lon"], errors="coerce")) & \
        np.isfinite(pd.to_numeric(incidents["lat"], errors="coerce"))
    return finite & ~redacted


def add_incident_points(m, incidents: pd.DataFrame, *, commune_names: dict | None = None, lang: str = "vi",
                        max_points: int = DEFAULT_MAX_POINTS, name: str | None = None,
                        show: bool = True) -> PointSummary:
    """Add clustered incident points with popups (case id, date, category, severity, status, commune).

    Parameters
    ----------
    m : folium.Map
    incidents : DataFrame
        id, occurred_at, category, severity, case_status, lon, lat, commune_code and optionally
        ``redacted`` (from ``store.incidents.incident_frame``). Redacted rows and rows without finite
        coordinates are never drawn.
    commune_names : dict, optional
        commune_code -> name for the popups.
    lang : {"vi", "en"}
    max_points : int
        When more rows are drawable, no point is embedded (the page would grow without bound); the
        returned summary says so and the caller shows commune totals.

    Returns
    -------
    PointSummary
    """
    summary, points = _summary(incidents, max_points)
    if not summary.shown:
        return summary

    names = commune_names or {}
    categories, category_labels = _index(points["category"], lambda c: _label(CATEGORIES, c, lang))
    severities, severity_labels = _index(points["severity"], lambda c: _label(SEVERITIES, c, lang))
    statuses, status_labels = _index(points["case_status"], lambda c: _label(CASE_STATUSES, c, lang))
    communes, commune_labels = _index(points["commune_code"], lambda c: str(names.get(c, c or "")))
    severity_colours = [SEVERITY_COLOURS.get(code, UNKNOWN_COLOUR)
                        for code in dict.fromkeys(points["severity"].tolist())]
    days = pd.to_datetime(points["occurred_at"]).dt.normalize()
    # Babel words each distinct day once: a map shows thousands of points on a few hundred days.
    worded_days = {day: format_date(day.date(), lang) for day in days.dropna().drop_duplicates()}
    dates = days.map(worded_days)
    rows = [
        [round(float(lat), 5), round(float(lon), 5), html.escape(str(case_id)), str(date), c, s, st, co]
        for lat, lon, case_id, date, c, s, st, co in zip(
            points["lat"], points["lon"], points["id"], dates.fillna(""), categories, severities, statuses,
            communes)
    ]
    labels = [html.escape(text(key, lang)) for key in
              ("popup_id", "popup_date", "popup_category", "popup_severity", "popup_status", "popup_commune")]
    callback = (
        "(function () {"
        f" var C = {_js(category_labels)}, S = {_js(severity_labels)}, T = {_js(status_labels)},"
        f" X = {_js(commune_labels)}, K = {_js(severity_colours)}, H = {_js(labels)};"
        " return function (row) {"
        "  var marker = L.circleMarker([row[0], row[1]], {radius: 6, weight: 1, color: '#222',"
        f"   fillColor: K[row[5]], fillOpacity: 0.9, className: {_js(POINT_CLASS)}}});"
        "  marker.bindPopup('<strong>' + H[0] + ':</strong> ' + row[2] + '<br>' + H[1] + ': ' + row[3]"
        "   + '<br>' + H[2] + ': ' + C[row[4]] + '<br>' + H[3] + ': ' + S[row[5]]"
        "   + '<br>' + H[4] + ': ' + T[row[6]] + '<br>' + H[5] + ': ' + X[row[7]]);"
        "  return marker; };"
        "})()"
    )
    layer = FastMarkerCluster(rows, callback=callback, name=name or text("layer_points", lang), show=show,
                              icon_create_function=cluster_icon_script(), chunked_loading=True,
                              max_cluster_radius=45, spiderfy_on_max_zoom=True)
    layer.add_to(m)
    return replace(summary, layer=layer)


def point_summary(incidents: pd.DataFrame, *, max_points: int = DEFAULT_MAX_POINTS) -> PointSummary:
    """What :func:`add_incident_points` would draw (totals, cap, severities), without building the layer: for
    a page that shows the figures while its map script is served by another request."""
    return _summary(incidents, max_points)[0]


def _summary(incidents: pd.DataFrame, max_points: int) -> tuple[PointSummary, pd.DataFrame]:
    """The summary of the point layer and the rows it draws (none when capped)."""
    if max_points < 0:
        raise ValueError(f"max_points must be ≥ 0; got {max_points!r}")
    required = {"id", "occurred_at", "category", "severity", "case_status", "lon", "lat", "commune_code"}
    missing = required - set(incidents.columns)
    if missing:
        raise ValueError(f"incidents lacks column(s): {', '.join(sorted(missing))}")
    total = len(incidents)
    mask = drawable(incidents)
    redacted = int(incidents["redacted"].astype(bool).sum()) if "redacted" in incidents.columns and total else 0
    points = incidents[mask] if total else incidents
    if len(points) > max_points:
        return PointSummary(total=total, shown=0, redacted=redacted, capped=True, cap=max_points), points.iloc[:0]
    if points.empty:
        return PointSummary(total=total, shown=0, redacted=redacted, capped=False, cap=max_points), points
    drawn = set(points["severity"].tolist())
    order = [code for code in SEVERITIES if code in drawn] + sorted(str(c) for c in drawn - set(SEVERITIES))
    return PointSummary(total=total, shown=len(points), redacted=redacted, capped=False, cap=max_points,
                        severities=tuple(order)), points

"""Commune choropleth (incident counts or rates per 10,000 residents) and district outlines."""
from __future__ import annotations

import html
import math

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from folium.utilities import JsCode

from geo.boundaries import dissolve_districts, simplify_for_display
from layers.legend import Legend
from layers.text import format_number, text

MEASURES = ("count", "rate")
RATE_PER = 10_000

#: ColorBrewer YlOrRd, 5 classes (sequential, colour-blind safe, prints in grey in order).
PALETTE = ("#ffffb2", "#fecc5c", "#fd8d3c", "#f03b20", "#bd0026")
ZERO_COLOUR = "#f4f4f0"
NO_DATA_COLOUR = "#bdbdbd"
COMMUNE_CLASS = "commune-shape"
DISPLAY_TOLERANCE_M = 40.0
DISPLAY_DECIMALS = 5  # about 1 m at this latitude: finer digits only add bytes


def commune_statistics(communes: gpd.GeoDataFrame, incidents: pd.DataFrame,
                       population: pd.DataFrame | None = None) -> pd.DataFrame:
    """Incidents per commune and per 10,000 residents, one row for every commune (zeros included).

    Parameters
    ----------
    communes : GeoDataFrame
        commune_code, commune_name, district_code, district_name (geometry not used).
    incidents : DataFrame
        One row per incident with ``commune_code``; redacted rows (no coordinates) count like the others.
    population : DataFrame, optional
        commune_code, population (residents in the reference year).

    Returns
    -------
    DataFrame
        commune_code, commune_name, district_code, district_name, count (int), population (float, NaN when
        unknown), rate (incidents per 10,000 residents; NaN without a population > 0), sorted by code.
    """
    for column in ("commune_code", "commune_name", "district_code", "district_name"):
        if column not in communes.columns:
            raise ValueError(f"communes lacks column {column!r}; columns are: {', '.join(communes.columns)}")
    if "commune_code" not in incidents.columns:
        raise ValueError("incidents lacks column 'commune_code'")
    table = pd.DataFrame(communes[["commune_code", "commune_name", "district_code", "district_name"]]).copy()
    counts = incidents["commune_code"].dropna().astype(str).value_counts()
    table["count"] = table["commune_code"].map(counts).fillna(0).astype("int64")
    if population is not None and len(population):
        residents = population.set_index(population["commune_code"].astype(str))["population"]
        table["population"] = table["commune_code"].map(residents).astype(float)
    else:
        table["population"] = np.nan
    valid = table["population"] > 0
    table["rate"] = np.where(valid, table["count"] / table["population"].where(valid) * RATE_PER, np.nan)
    return table.sort_values("commune_code").reset_index(drop=True)


def class_breaks(values, k: int = len(PALETTE), integer: bool = False) -> list[float]:
    """Upper bounds of up to ``k`` classes of the positive ``values`` (quantile classes).

    Quantile classes, as mapclassify's ``Quantiles``, give each colour about the same number of
    communes, which suits the skewed distribution of incident counts (a few town wards carry most
    cases). Zero is its own class, drawn apart. Bounds are rounded up (to integers for counts, two
    significant figures for rates) so the legend reads cleanly; duplicates are merged.
    """
    positive = np.asarray([v for v in values if v is not None and np.isfinite(v) and v > 0], dtype=float)
    if positive.size == 0:
        return []
    quantiles = np.quantile(positive, np.linspace(0, 1, k + 1)[1:])
    bounds: list[float] = []
    for q in quantiles:
        bound = float(math.ceil(q)) if integer else _round_up_2sig(q)
        if not bounds or bound > bounds[-1]:
            bounds.append(bound)
    bounds[-1] = max(bounds[-1], float(positive.max()))
    return bounds


def _round_up_2sig(value: float) -> float:
    if value <= 0:
        return 0.0
    scale = 10 ** (math.floor(math.log10(value)) - 1)
    return round(math.ceil(value / scale - 1e-9) * scale, 10)


def colour_for(value, bounds: list[float]) -> str:
    if value is None or not np.isfinite(value):
        return NO_DATA_COLOUR
    if value <= 0:
        return ZERO_COLOUR
    palette = _palette_for(len(bounds))
    for bound, colour in zip(bounds, palette):
        if value <= bound:
            return colour
    return palette[-1]


def _palette_for(n: int) -> tuple[str, ...]:
    if n >= len(PALETTE):
        return PALETTE
    picks = np.linspace(0, len(PALETTE) - 1, n).round().astype(int) if n > 1 else [len(PALETTE) - 1]
    return tuple(PALETTE[i] for i in picks)


def legend_entries(bounds: list[float], measure: str, lang: str = "vi", has_missing: bool = False):
    """``(colour, label)`` rows for :class:`layers.legend.Legend`."""
    decimals = 0 if measure == "count" else 1
    entries = [(ZERO_COLOUR, "0")]
    lower = 0.0
    for bound, colour in zip(bounds, _palette_for(len(bounds))):
        if measure == "count":
            low = int(lower) + 1
            label = format_number(low, lang) if low == int(bound) else \
                f"{format_number(low, lang)}–{format_number(bound, lang)}"
        else:
            label = f"> {format_number(lower, lang, decimals)} – {format_number(bound, lang, decimals)}"
        entries.append((colour, label))
        lower = bound
    if has_missing:
        entries.append((NO_DATA_COLOUR, text("no_population", lang)))
    return entries


def display_geometries(frame: gpd.GeoDataFrame, tolerance_m: float = DISPLAY_TOLERANCE_M,
                       decimals: int = DISPLAY_DECIMALS) -> gpd.GeoDataFrame:
    """Simplify (shared edges once) and round coordinates so the map page stays small."""
    if frame.empty:
        return frame
    simplified = simplify_for_display(frame, tolerance_m)
    rounded = shapely.transform(simplified.geometry.values, lambda xy: np.round(xy, decimals))
    rounded = shapely.make_valid(rounded)
    out = simplified.copy()
    out.geometry = gpd.GeoSeries(rounded, index=simplified.index, crs=simplified.crs)
    return out


def _commune_text(code, record, measure: str, lang: str, population_year) -> tuple[str, str]:
    """Tooltip and popup HTML of one commune; every value from the data is escaped."""
    name = html.escape(str(record["commune_name"]))
    district = html.escape(str(record["district_name"]))
    count = f"{text('incidents', lang)}: {format_number(record['count'], lang)}"
    rate_value, population_value = float(record["rate"]), float(record["population"])
    if np.isfinite(rate_value):
        rate = f"{text('rate_per_10k', lang)}: {format_number(rate_value, lang, 1)}"
    else:
        rate = f"{text('rate_per_10k', lang)}: {text('no_population', lang)}"
    population = ""
    if np.isfinite(population_value):
        year = f" {html.escape(str(population_year))}" if population_year else ""
        population = f"{text('population', lang)}{year}: {format_number(population_value, lang)}"
    first, second = (count, rate) if measure == "count" else (rate, count)
    tip = f"<strong>{name}</strong><br>{district}<br>{first}"
    lines = [f"<strong>{name}</strong>", district, first, second]
    if population:
        lines.append(population)
    lines.append(f"{text('commune_code', lang)}: {html.escape(str(code))}")
    return tip, "<br>".join(lines)


def add_commune_choropleth(m, communes: gpd.GeoDataFrame, statistics: pd.DataFrame, *, measure: str = "count",
                           lang: str = "vi", title: str = "", notes=(), population_year=None,
                           name: str | None = None, legend: bool = True) -> Legend | None:
    """Add communes coloured by ``count`` or ``rate`` (per 10,000 residents), with tooltips and popups.

    Parameters
    ----------
    m : folium.Map
    communes : GeoDataFrame
        Display geometries (see :func:`display_geometries`) with commune_code, EPSG:4326.
    statistics : DataFrame
        From :func:`commune_statistics`.
    measure : {"count", "rate"}
    lang : {"vi", "en"}
    title : str
        Legend title (plain text); a default naming the measure is used when empty.
    notes : sequence of str
        Extra legend lines (period, category, "illustrative data", ...).
    population_year : int, optional
        Year of the population figures, shown wherever a rate is shown.

    Returns
    -------
    Legend or None
        The legend added to ``m`` (None when ``legend=False``).

    Notes
    -----
    Names and codes come from data files and user uploads: they are HTML-escaped here, and the tooltip
    and popup are bound from those pre-escaped strings (folium's GeoJsonTooltip would insert raw values).
    """
    if measure not in MEASURES:
        raise ValueError(f"measure {measure!r} is not one of: {', '.join(MEASURES)}")
    if communes.crs is None or communes.crs.to_epsg() != 4326:
        raise ValueError(f"communes must be in EPSG:4326 for display; got {communes.crs}")
    stats = statistics.set_index("commune_code")
    missing = sorted(set(communes["commune_code"]) - set(stats.index))
    if missing:
        raise ValueError(f"statistics lack commune_code(s): {', '.join(missing[:5])}")
    values = stats["count"].astype(float) if measure == "count" else stats["rate"]
    bounds = class_breaks(values.to_numpy(), integer=(measure == "count"))
    features = []
    for code, geometry in zip(communes["commune_code"], communes.geometry):
        record = stats.loc[code]
        tip, popup = _commune_text(code, record, measure, lang, population_year)
        features.append({
            "type": "Feature",
            "id": str(code),
            "properties": {"tip": tip, "pop": popup, "fill": colour_for(values.loc[code], bounds)},
            "geometry": shapely.geometry.mapping(geometry),
        })
    data = {"type": "FeatureCollection", "features": features}
    layer = folium.GeoJson(
        data,
        name=name or text("layer_communes", lang),
        style_function=lambda feature: {"fillColor": feature["properties"]["fill"], "color": "#6b6b6b",
                                        "weight": 0.6, "fillOpacity": 0.75},
        highlight_function=lambda feature: {"weight": 2.5, "color": "#111111"},
        on_each_feature=JsCode(
            "function (feature, layer) {"
            " layer.bindTooltip(feature.properties.tip, {sticky: true});"
            " layer.bindPopup(feature.properties.pop); }"),
        class_name=COMMUNE_CLASS,
    )
    layer.add_to(m)
    if not legend:
        return None
    default_title = text("legend_count" if measure == "count" else "legend_rate", lang)
    all_notes = list(notes)
    if measure == "rate" and population_year:
        all_notes.insert(0, text("population_note", lang).format(year=population_year))
    box = Legend(title or default_title, legend_entries(bounds, measure, lang, bool(values.isna().any())),
                 notes=all_notes)
    m.add_child(box)
    return box


def district_outlines(communes: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Districts dissolved from the (display) communes, for outlines drawn over the choropleth."""
    return dissolve_districts(communes)


def add_district_outlines(m, districts: gpd.GeoDataFrame, *, lang: str = "vi", name: str | None = None):
    """Add district boundaries as thick non-interactive lines (so clicks reach the communes below)."""
    features = [{
        "type": "Feature",
        "properties": {"name": html.escape(str(row.district_name))},
        "geometry": shapely.geometry.mapping(row.geometry.boundary),
    } for row in districts.itertuples()]
    layer = folium.GeoJson(
        {"type": "FeatureCollection", "features": features},
        name=name or text("layer_districts", lang),
        style_function=lambda feature: {"color": "#3a3a3a", "weight": 2.2, "fill": False, "opacity": 0.9},
        interactive=False,
        class_name="district-outline",
    )
    layer.add_to(m)
    return layer

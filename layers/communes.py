"""Commune choropleth (incident counts or rates per 10,000 residents) and district outlines."""
from __future__ import annotations

import html
import math
from urllib.parse import quote

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from folium.utilities import JsCode

from geo.boundaries import dissolve_districts, simplify_for_display
from geo.geojson import collection_of
from layers import palette
from layers.base import PreSerialisedGeoJson, serialised_geometries
from layers.legend import Legend
from layers.text import format_number, format_numbers, text
from translations import translate

MEASURES = ("count", "rate")
RATE_PER = 10_000

#: ColorBrewer YlOrRd, 5 classes (sequential, colour-blind safe, prints in grey in order).
PALETTE = palette.SEQUENTIAL_COUNTS
ZERO_COLOUR = palette.ZERO_COUNT
NO_DATA_COLOUR = palette.NO_DATA
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


def _commune_texts(codes, records: pd.DataFrame, measure: str, lang: str, population_year) -> list[tuple[str, str]]:
    """Tooltip and popup HTML of each commune (``records``: commune_name, district_name, count, rate,
    population, in the order of ``codes``); every value from the data is escaped. The words are looked up
    once and the numbers formatted together (:func:`layers.text.format_numbers`), not per commune."""
    words = {key: text(key, lang) for key in ("incidents", "rate_per_10k", "no_population", "population",
                                               "commune_code")}
    rates = records["rate"].to_numpy(dtype=float)
    populations = records["population"].to_numpy(dtype=float)
    counts = format_numbers(records["count"].tolist(), lang)
    rate_texts = format_numbers(np.where(np.isfinite(rates), rates, 0.0).tolist(), lang, 1)
    population_texts = format_numbers(np.where(np.isfinite(populations), populations, 0.0).tolist(), lang)
    year = f" {html.escape(str(population_year))}" if population_year else ""
    out = []
    for i, (code, name, district) in enumerate(zip(codes, records["commune_name"], records["district_name"])):
        name, district = html.escape(str(name)), html.escape(str(district))
        count = f"{words['incidents']}: {counts[i]}"
        rate = f"{words['rate_per_10k']}: " + (rate_texts[i] if np.isfinite(rates[i]) else words["no_population"])
        first, second = (count, rate) if measure == "count" else (rate, count)
        lines = [f"<strong>{name}</strong>", district, first, second]
        if np.isfinite(populations[i]):
            lines.append(f"{words['population']}{year}: {population_texts[i]}")
        lines.append(f"{words['commune_code']}: {html.escape(str(code))}")
        out.append((f"<strong>{name}</strong><br>{district}<br>{first}", "<br>".join(lines)))
    return out


def add_commune_choropleth(m, communes: gpd.GeoDataFrame, statistics: pd.DataFrame, *, measure: str = "count",
                           lang: str = "vi", title: str = "", notes=(), population_year=None,
                           name: str | None = None, legend: bool = True, profile_url: str = "",
                           district_url: str = "") -> Legend | None:
    """Add communes coloured by ``count`` or ``rate`` (per 10,000 residents), with tooltips and popups.

    A click on a commune zooms to it; with ``profile_url`` (``{code}`` where the code goes) its popup links to
    the commune's profile page, and with ``district_url`` (``{district}``) to the view of its district (or
    former district), which zooms to that district.

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
    district_column = "district_code" if "district_code" in communes and (communes["district_code"] != "").any() \
        else ("former_district_code" if "former_district_code" in communes else None)
    district_codes = communes[district_column].astype(str).tolist() if district_column else [""] * len(communes)
    serialised = serialised_geometries(communes)
    records = stats.reindex(communes["commune_code"])
    colours = [colour_for(v, bounds) for v in values.reindex(communes["commune_code"])]
    texts = _commune_texts(communes["commune_code"].tolist(), records, measure, lang, population_year)
    open_profile, open_district = html.escape(text("open_profile", lang)), html.escape(text("open_district", lang))
    tips, popups = [], []
    for code, district_code, (tip, popup) in zip(communes["commune_code"], district_codes, texts):
        if profile_url:
            href = html.escape(profile_url.replace("{code}", quote(str(code), safe="")))
            popup += f'<br><a class="commune-profile-link" href="{href}">{open_profile}</a>'
        if district_url and district_code and district_code not in ("nan", "None"):
            href = html.escape(district_url.replace("{district}", quote(district_code, safe="")))
            popup += f'<br><a class="district-view-link" href="{href}">{open_district}</a>'
        tips.append(tip)
        popups.append(popup)
    data = collection_of(serialised.mappings, {"tip": tips, "pop": popups, "fill": colours},
                         ids=[str(code) for code in communes["commune_code"]])
    layer = PreSerialisedGeoJson(
        data, serialised.texts,
        name=name or text("layer_communes", lang),
        style_function=lambda feature: {"fillColor": feature["properties"]["fill"], "color": "#6b6b6b",
                                        "weight": 0.6, "fillOpacity": 0.75},
        highlight_function=lambda feature: {"weight": 2.5, "color": "#111111"},
        on_each_feature=JsCode(
            "function (feature, layer) {"
            " layer.bindTooltip(feature.properties.tip, {sticky: true});"
            " layer.bindPopup(feature.properties.pop);"
            # A click zooms in to the commune, never out: a guard who zoomed to a hamlet keeps the view.
            " layer.on('click', function () { var m = layer._map, b = layer.getBounds();"
            " if (Math.min(m.getBoundsZoom(b), 14) > m.getZoom()) { m.fitBounds(b, {maxZoom: 14}); } }); }"),
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
    districts = dissolve_districts(communes)
    if "former" in communes:
        districts["former"] = True  # the former districts of a set without districts (see layers.overview)
    return districts


def add_district_outlines(m, districts: gpd.GeoDataFrame, *, lang: str = "vi", name: str | None = None):
    """Add district boundaries as thick non-interactive lines (so clicks reach the communes below)."""
    serialised = serialised_geometries(districts, boundary=True)
    names = [html.escape(translate("boundary.former_name", lang, name=row.district_name)
                         if getattr(row, "former", False) else str(row.district_name)) for row in districts.itertuples()]
    layer = PreSerialisedGeoJson(
        collection_of(serialised.mappings, {"name": names}), serialised.texts,
        name=name or text("layer_districts", lang),
        style_function=lambda feature: {"color": "#3a3a3a", "weight": 2.2, "fill": False, "opacity": 0.9},
        interactive=False,
        class_name="district-outline",
    )
    layer.add_to(m)
    return layer

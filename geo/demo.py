"""Deterministic illustrative incidents for demonstrations and tests — never real records.

The generator draws a plausible pattern so every map and statistic has something to show: more
incidents where more people live and in towns (phường, thị trấn), smuggling, drug, illegal-crossing and
trafficking cases in the eight communes on the Prey Veng border, a Tết peak, points clustered around a
few hotspots per commune, some communes improving and some worsening from 2023 to 2024, and a case
status mix near the published 2024 result (1,124 of 1,443 cases cleared, 77.89%; 76 of 76 very and
especially serious cases cleared — plo.vn, 06/12/2024). Every row says it is illustrative.

The same seed, boundaries and population always give the identical frame.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import pandas as pd
import shapely

from geo import taxonomy
from geo.boundaries import BoundarySet
from geo.errors import GeoInputError
from translations import message

DEMO_LABEL_VI = "Dữ liệu minh họa — không phải số liệu thật"
DEMO_LABEL_EN = "Illustrative data — not real records"
DEMO_ID_PREFIX = "DEMO"

#: The 2024 communes on the Prey Veng border and their length of border in km (PROVENANCE §3).
BORDER_COMMUNES: dict[str, float] = {
    "29929": 9.7,  # Xã Tân Hộ Cơ (Tân Hồng)
    "29956": 7.2,  # Xã Thường Phước 1 (Hồng Ngự)
    "29935": 6.7,  # Xã Bình Phú (Tân Hồng)
    "29932": 6.5,  # Xã Thông Bình (Tân Hồng)
    "29962": 5.9,  # Xã Thường Thới Hậu A (Hồng Ngự)
    "29977": 4.8,  # Xã Thường Lạc (Hồng Ngự)
    "29959": 3.8,  # Xã Bình Thạnh (TP Hồng Ngự)
    "29965": 3.5,  # Xã Tân Hội (TP Hồng Ngự)
}

#: The communes of the 2025 set on the Prey Veng border and their length of border in km (PROVENANCE_2025 §1.3).
BORDER_COMMUNES_2025: dict[str, float] = {
    "29978": 11.06,  # Phường Thường Lạc
    "29929": 10.15,  # Xã Tân Hộ Cơ
    "29926": 7.45,   # Xã Tân Hồng
    "29971": 7.24,   # Xã Thường Phước
    "29938": 7.14,   # Xã Tân Thành
    "29955": 6.84,   # Phường Hồng Ngự
}

#: First day of the lunar new year (Tết Nguyên Đán).
TET_DAYS = [date(2022, 2, 1), date(2023, 1, 22), date(2024, 2, 10), date(2025, 1, 29), date(2026, 2, 17)]

# Province-wide incidents per year of the general (non-border) pattern in 2023 and of the extra
# border-corridor cases; 2024 ends about 5% lower, near the 1,443 cases published for 2024.
GENERAL_PER_YEAR = 1_420
BORDER_EXTRA_PER_YEAR = {"smuggling": 55, "drugs": 40, "illegal_border_crossing": 25, "human_trafficking": 6}
PROVINCE_CHANGE_2024 = 0.95
URBAN_FACTOR = {"phường": 1.9, "thị trấn": 1.4, "xã": 1.0}

GENERAL_MIX = {
    "theft": 30, "assault": 11, "drugs": 10, "gambling": 9, "fraud": 7, "hightech_fraud": 8,
    "snatch_theft": 5, "public_disorder": 5, "robbery": 3, "loan_sharking": 3, "sexual_offence": 2,
    "homicide": 1.2, "corruption_economic": 1.5, "environment": 1.5, "smuggling": 0.4,
}
# Gambling and theft rise in the weeks around Tết.
TET_MIX_BOOST = {"gambling": 3.0, "theft": 1.4, "snatch_theft": 1.3, "public_disorder": 1.3}

# Severity weights (less, serious, very, especially) per category, Penal Code Art. 9 classes.
SEVERITY_MIX = {
    "homicide": (0, 0.05, 0.45, 0.5), "assault": (0.6, 0.33, 0.05, 0.02), "sexual_offence": (0.2, 0.5, 0.25, 0.05),
    "robbery": (0, 0.7, 0.25, 0.05), "snatch_theft": (0.3, 0.6, 0.09, 0.01), "theft": (0.78, 0.2, 0.015, 0.005),
    "fraud": (0.55, 0.35, 0.07, 0.03), "hightech_fraud": (0.5, 0.38, 0.09, 0.03), "loan_sharking": (0.8, 0.2, 0, 0),
    "gambling": (0.85, 0.14, 0.01, 0), "public_disorder": (0.8, 0.2, 0, 0), "drugs": (0.35, 0.5, 0.1, 0.05),
    "human_trafficking": (0, 0.5, 0.35, 0.15), "smuggling": (0.6, 0.35, 0.04, 0.01),
    "illegal_border_crossing": (0.6, 0.38, 0.02, 0), "corruption_economic": (0.3, 0.45, 0.2, 0.05),
    "environment": (0.7, 0.28, 0.02, 0),
}

#: Penal Code article most often charged for each category (illustrative).
ARTICLES = {
    "homicide": "123", "assault": "134", "sexual_offence": "141", "robbery": "168", "snatch_theft": "171",
    "theft": "173", "fraud": "174", "hightech_fraud": "290", "loan_sharking": "201", "gambling": "321",
    "public_disorder": "318", "drugs": "251", "human_trafficking": "150", "smuggling": "188",
    "illegal_border_crossing": "348", "corruption_economic": "353", "environment": "235",
}

# Mean days between occurrence and report (fraud is often discovered late).
REPORT_DELAY_DAYS = {"fraud": 8, "hightech_fraud": 12, "human_trafficking": 30, "corruption_economic": 45,
                     "environment": 10, "loan_sharking": 20}

CLEARANCE_RATE = 0.78
# The severity table gives about 8% very/especially serious cases; the published 2024 figure is 76 of 1,443
# (5.3%), so those two classes are scaled down.
GRAVE_SCALE = 0.65

OUTPUT_COLUMNS = ["id", "occurred_at", "reported_at", "category", "severity", "case_status", "lon", "lat",
                  "sensitive", "description", "article", "commune_code"]


def _communes(communes):
    frame = communes.communes if isinstance(communes, BoundarySet) else communes
    if frame.crs is None or frame.crs.to_epsg() != 4326:
        raise GeoInputError(message("geo.demo.communes_epsg_got", frame_crs=frame.crs))
    return frame.sort_values("commune_code").reset_index(drop=True)


def demo_commune_trends(communes, *, seed: int = 138) -> pd.DataFrame:
    """Which communes the demo makes improve or worsen from 2023 to 2024.

    Returns
    -------
    DataFrame
        commune_code, trend ("improving" / "worsening" / "steady") and multiplier (2024 rate ÷ 2023 rate;
        2025 continues the 2024 direction). About one commune in eight improves clearly (×0.55) and one in
        eight worsens clearly (×1.6); the others move so that the province falls by about 5%.
    """
    frame = _communes(communes)
    rng = np.random.default_rng([seed, 2])
    n = len(frame)
    order = rng.permutation(n)
    k = max(1, n // 8)
    trend = np.full(n, "steady", dtype=object)
    trend[order[:k]] = "improving"
    trend[order[k:2 * k]] = "worsening"
    multiplier = rng.uniform(0.88, 1.02, n)
    multiplier[order[:k]] = 0.55
    multiplier[order[k:2 * k]] = 1.6
    return pd.DataFrame({"commune_code": frame["commune_code"].to_numpy(), "trend": trend,
                         "multiplier": multiplier})


def _season(days: pd.DatetimeIndex) -> np.ndarray:
    """Daily intensity: 1 plus a Tết peak (about +70% in the fortnight before Tết, easing after it)."""
    day_numbers = days.to_numpy().astype("datetime64[D]").astype(np.int64)
    tet = np.array([np.datetime64(d, "D").astype(np.int64) for d in TET_DAYS])
    offset = day_numbers[:, None] - tet[None, :]
    nearest = offset[np.arange(len(days)), np.abs(offset).argmin(axis=1)]
    peak = np.where(nearest <= 0, np.exp(-((nearest + 7) / 12.0) ** 2), np.exp(-(nearest / 8.0) ** 2))
    return 1.0 + 0.7 * peak


def _year_multiplier(days: pd.DatetimeIndex, multiplier: np.ndarray) -> np.ndarray:
    """communes × days: 1 in 2023, the commune's multiplier in 2024, continued further in 2025."""
    years = days.year.to_numpy()
    exponent = np.where(years >= 2025, 1.3, np.where(years == 2024, 1.0, 0.0))
    return multiplier[:, None] ** exponent[None, :]


def _hotspots(polygon, rng, count: int, near=None) -> np.ndarray:
    """Hotspot centres inside ``polygon``: the representative point (market, centre) then random ones."""
    centres = [polygon.representative_point().coords[0]]
    if near is not None:
        centres.append(near)
    minx, miny, maxx, maxy = polygon.bounds
    while len(centres) < count:
        x, y = rng.uniform(minx, maxx, 32), rng.uniform(miny, maxy, 32)
        inside = shapely.contains_xy(polygon, x, y)
        centres.extend(zip(x[inside], y[inside]))
    return np.array(centres[:count])


def _near_border_point(polygon, outline, border=None):
    """A point inside ``polygon`` close to the border: on ``border`` if given, else on the province outline."""
    target, tolerance = (border, 0.003) if border is not None else (outline.boundary, 1e-6)
    edge = polygon.boundary.intersection(shapely.buffer(target, tolerance))
    parts = [g for g in shapely.get_parts(edge) if not g.is_empty]
    if not parts:
        return None
    longest = max(parts, key=lambda g: g.length)
    anchor = longest if longest.geom_type == "Point" else longest.interpolate(0.5, normalized=True)
    centre = polygon.representative_point()
    for share in (0.15, 0.3, 0.5, 0.8):
        x = anchor.x + share * (centre.x - anchor.x)
        y = anchor.y + share * (centre.y - anchor.y)
        if shapely.contains_xy(polygon, x, y):
            return (x, y)
    return None


def _scatter(polygon, centres, which, spread_deg, rng) -> tuple[np.ndarray, np.ndarray]:
    """Points around chosen centres (Gaussian, ``spread_deg``), or uniform where ``which`` is -1; inside."""
    n = len(which)
    lon, lat = np.empty(n), np.empty(n)
    todo = np.arange(n)
    minx, miny, maxx, maxy = polygon.bounds
    for _ in range(30):
        if todo.size == 0:
            break
        chosen = which[todo]
        clustered = chosen >= 0
        x = np.where(clustered, centres[np.maximum(chosen, 0), 0] + rng.normal(0, spread_deg, todo.size),
                     rng.uniform(minx, maxx, todo.size))
        y = np.where(clustered, centres[np.maximum(chosen, 0), 1] + rng.normal(0, spread_deg, todo.size),
                     rng.uniform(miny, maxy, todo.size))
        x, y = np.round(x, 6), np.round(y, 6)
        ok = shapely.contains_xy(polygon, x, y)
        lon[todo[ok]], lat[todo[ok]] = x[ok], y[ok]
        todo = todo[~ok]
    if todo.size:  # give up scattering: the centre itself (rounded inward if need be)
        fallback = np.round(centres[np.maximum(which[todo], 0)], 6)
        lon[todo], lat[todo] = fallback[:, 0], fallback[:, 1]
    return lon, lat


def generate_demo_incidents(communes, population: pd.DataFrame | None = None, *, seed: int = 138,
                            start: date = date(2023, 1, 1), end: date = date(2025, 3, 31),
                            border=None, border_communes: dict[str, float] | None = None,
                            general_per_year: float = GENERAL_PER_YEAR) -> pd.DataFrame:
    """Generate illustrative incidents in the incident-import schema.

    Parameters
    ----------
    communes : GeoDataFrame or BoundarySet
        EPSG:4326 communes (commune_code, commune_name, commune_type).
    population : DataFrame, optional
        commune_code, population; communes without a figure get the median (all equal when omitted).
    seed : int
        Seed of the generator; the same seed gives the identical frame.
    start, end : date
        First and last day (inclusive).
    border : shapely geometry, optional
        The international border line (EPSG:4326). Border-corridor hotspots are placed next to it; without
        it, next to the province outline of each border commune.
    border_communes : dict, optional
        Code -> km of border of the communes on it (default :data:`BORDER_COMMUNES`, the 2024 set's).
    general_per_year : float
        Incidents per year of the general pattern over all the communes given (2023 level).

    Returns
    -------
    DataFrame
        Columns :data:`OUTPUT_COLUMNS`, sorted by occurred_at; ids ``DEMO-<year>-<6 digits>``;
        occurred_at / reported_at datetime64; lon/lat rounded to 6 decimals and strictly inside the commune
        named in ``commune_code`` (which the importer ignores and re-derives by spatial join); descriptions
        begin with "Dữ liệu minh họa".

    Notes
    -----
    Counts are Poisson draws of a daily intensity per commune: population × urban factor
    (:data:`URBAN_FACTOR`) × season (Tết peak) × the commune's trend (:func:`demo_commune_trends`);
    border-corridor cases are added in :data:`BORDER_COMMUNES` in proportion to their border length.
    Points fall around two to four hotspots per commune (Gaussian, σ ≈ 150–400 m), a fifth anywhere in it.
    Case status follows :data:`CLEARANCE_RATE` for cases older than about two months (very and especially
    serious cases are all cleared); recent cases are still being handled.
    """
    if end < start:
        raise GeoInputError(message("geo.demo.end_before_start", end=end, start=start))
    frame = _communes(communes)
    n_communes = len(frame)
    codes = frame["commune_code"].astype(str).to_numpy()
    names = frame["commune_name"].astype(str).to_numpy()
    types = (frame["commune_type"].astype(str).to_numpy() if "commune_type" in frame
             else np.full(n_communes, "xã", dtype=object))
    residents = np.full(n_communes, np.nan)
    if population is not None and len(population):
        lookup = dict(zip(population["commune_code"].astype(str), population["population"].astype(float)))
        residents = np.array([lookup.get(c, np.nan) for c in codes])
    if np.isnan(residents).all():
        residents[:] = 1.0
    residents = np.where(np.isnan(residents), np.nanmedian(residents), residents)

    rng = np.random.default_rng(seed)
    days = pd.date_range(pd.Timestamp(start), pd.Timestamp(end), freq="D")
    season = _season(days)
    trends = demo_commune_trends(frame, seed=seed)
    multiplier = trends["multiplier"].to_numpy()
    urban = np.array([URBAN_FACTOR.get(t, 1.0) for t in types])
    weight = residents * urban
    border_communes = BORDER_COMMUNES if border_communes is None else border_communes
    base_per_day = general_per_year / 365.0 * weight / weight.sum() / season.mean()
    years = _year_multiplier(days, multiplier)
    # Rescale so the province as a whole falls by PROVINCE_CHANGE_2024 whatever the communes drew.
    in_2024 = days.year == 2024
    if in_2024.any():
        ratio = (base_per_day * multiplier).sum() / base_per_day.sum()
        years = years * np.where(days.year.to_numpy() >= 2024, PROVINCE_CHANGE_2024 / ratio, 1.0)[None, :]
    intensity = base_per_day[:, None] * season[None, :] * years  # communes × days

    records = []  # (commune indices, day indices, categories)
    counts = rng.poisson(intensity)
    commune_idx, day_idx = np.nonzero(counts)
    repeat = counts[commune_idx, day_idx]
    general_commune = np.repeat(commune_idx, repeat)
    general_day = np.repeat(day_idx, repeat)

    categories = list(GENERAL_MIX)
    mix = np.array([GENERAL_MIX[c] for c in categories], dtype=float)
    boosted = mix * np.array([TET_MIX_BOOST.get(c, 1.0) for c in categories])
    near_tet = season[general_day] > 1.3
    draw = rng.random(len(general_day))
    normal_cdf, tet_cdf = np.cumsum(mix / mix.sum()), np.cumsum(boosted / boosted.sum())
    general_category = np.where(near_tet, np.searchsorted(tet_cdf, draw, side="right"),
                                np.searchsorted(normal_cdf, draw, side="right"))
    general_category = np.array(categories, dtype=object)[np.minimum(general_category, len(categories) - 1)]
    records.append((general_commune, general_day, general_category))

    border_idx = np.array([i for i, c in enumerate(codes) if c in border_communes], dtype=np.int64)
    if border_idx.size:
        share = np.array([border_communes[codes[i]] for i in border_idx])
        share = share / share.sum()
        day_weight = season * years[border_idx].mean(axis=0) / years[border_idx].mean()
        for category, per_year in BORDER_EXTRA_PER_YEAR.items():
            expected = per_year / 365.0 * day_weight[None, :] * share[:, None]
            extra = rng.poisson(expected)
            b_idx, d_idx = np.nonzero(extra)
            reps = extra[b_idx, d_idx]
            records.append((np.repeat(border_idx[b_idx], reps), np.repeat(d_idx, reps),
                            np.full(reps.sum(), category, dtype=object)))

    commune_of = np.concatenate([r[0] for r in records])
    day_of = np.concatenate([r[1] for r in records])
    category_of = np.concatenate([r[2] for r in records])
    total = len(commune_of)
    if total == 0:
        return pd.DataFrame(columns=OUTPUT_COLUMNS)

    # Time of day: property crime and gambling mostly evening/night, the rest during the day.
    night = np.isin(category_of, ["theft", "snatch_theft", "robbery", "gambling", "public_disorder",
                                  "smuggling", "illegal_border_crossing", "drugs"])
    hour = np.where(night, (rng.normal(21, 4, total)) % 24, np.clip(rng.normal(13, 4, total), 6, 22))
    seconds = (hour * 3600).astype(np.int64) // 60 * 60
    occurred = days.to_numpy()[day_of] + seconds.astype("timedelta64[s]")
    mean_delay = np.array([REPORT_DELAY_DAYS.get(c, 0.3) for c in category_of])
    delay_minutes = np.ceil(rng.exponential(mean_delay * 24 * 60) + 10).astype(np.int64)
    reported = occurred + delay_minutes.astype("timedelta64[m]")

    severity_codes = list(taxonomy.SEVERITIES)
    severity = np.empty(total, dtype=object)
    draw = rng.random(total)
    for category in np.unique(category_of):
        rows = category_of == category
        weights = np.array(SEVERITY_MIX[category]) * (1, 1, GRAVE_SCALE, GRAVE_SCALE)
        cdf = np.cumsum(weights) / weights.sum()
        severity[rows] = np.array(severity_codes, dtype=object)[
            np.minimum(np.searchsorted(cdf, draw[rows], side="right"), 3)]

    age_days = (np.datetime64(end) - occurred.astype("datetime64[D]")).astype(np.int64)
    grave = np.isin(severity, list(taxonomy.GRAVE_SEVERITIES))
    # Grave cases are all cleared, so the others clear at the rate that brings the total to CLEARANCE_RATE.
    other_rate = (CLEARANCE_RATE - grave.mean()) / max(1 - grave.mean(), 1e-9)
    cleared = np.where(grave, age_days > 20, rng.random(total) < other_rate * np.clip(age_days / 60, 0.3, 1))
    later = rng.random(total)
    status = np.where(cleared, np.where(later < np.clip(age_days / 500, 0, 0.45), "tried",
                                        np.where(later < np.clip(age_days / 250, 0, 0.75), "indicted", "cleared")),
                      np.where(later < np.clip(age_days / 1200, 0.02, 0.35), "suspended",
                               np.where(later < 0.55, "prosecuted", "received"))).astype(object)

    lon, lat = np.empty(total), np.empty(total)
    outline = shapely.union_all(frame.geometry.values) if border is None else None
    for i in range(n_communes):
        rows = np.flatnonzero(commune_of == i)
        if rows.size == 0:
            continue
        polygon = frame.geometry.iloc[i]
        near = _near_border_point(polygon, outline, border) if codes[i] in border_communes else None
        centres = _hotspots(polygon, rng, int(rng.integers(2, 5)), near=near)
        spread_m = 150 if types[i] == "phường" else (250 if types[i] == "thị trấn" else 400)
        spread = spread_m / 110_000.0
        weights = np.r_[0.45, np.full(len(centres) - 1, 0.35 / max(len(centres) - 1, 1))]
        weights = weights / weights.sum() * 0.8
        which = np.searchsorted(np.cumsum(weights), rng.random(rows.size), side="right")
        which = np.where(which >= len(centres), -1, which)
        if near is not None:
            corridor = np.isin(category_of[rows], list(taxonomy.BORDER_CORRIDOR_CATEGORIES))
            which = np.where(corridor & (rng.random(rows.size) < 0.8), 1, which)
        lon[rows], lat[rows] = _scatter(polygon, centres, which, spread, rng)

    sensitive = np.isin(category_of, list(taxonomy.SENSITIVE_BY_DEFAULT))
    labels = {c: taxonomy.CATEGORIES[c].label_vi.lower() for c in taxonomy.CATEGORIES}
    description = np.array([f"Dữ liệu minh họa — {labels[c]} tại {names[i]}"
                            for c, i in zip(category_of, commune_of)], dtype=object)

    result = pd.DataFrame({
        "occurred_at": occurred.astype("datetime64[ns]"), "reported_at": reported.astype("datetime64[ns]"),
        "category": category_of, "severity": severity, "case_status": status, "lon": lon, "lat": lat,
        "sensitive": sensitive, "description": description,
        "article": np.array([ARTICLES[c] for c in category_of], dtype=object),
        "commune_code": codes[commune_of],
    })
    result = result.sort_values(["occurred_at", "commune_code", "category"], kind="stable").reset_index(drop=True)
    year = result["occurred_at"].dt.year
    sequence = result.groupby(year).cumcount() + 1
    result.insert(0, "id", [f"{DEMO_ID_PREFIX}-{y}-{s:06d}" for y, s in zip(year, sequence)])
    return result[OUTPUT_COLUMNS]


@dataclass(frozen=True)
class DemoPhase:
    """One stretch of the demo on one boundary set (the province changed on 01/07/2025).

    ``general_per_year`` is the 2023-level yearly count of the general pattern over the set's communes.
    """

    communes: object
    population: pd.DataFrame | None
    start: date
    end: date
    border_communes: dict
    general_per_year: float


def generate_demo_timeline(phases, *, seed: int = 138, border=None) -> pd.DataFrame:
    """Illustrative incidents over consecutive boundary sets, numbered as one series.

    Each phase is drawn by :func:`generate_demo_incidents` with its own sub-seed, on its own communes and
    population (so rates never mix populations of two sets); ids are ``DEMO-<year>-<6 digits>`` counted across
    phases, so a year spanning the reform still has one unbroken numbering.
    """
    frames = []
    for number, phase in enumerate(phases):
        if phase.end < phase.start:
            continue
        frames.append(generate_demo_incidents(
            phase.communes, phase.population, seed=seed if number == 0 else seed * 1000 + number,
            start=phase.start, end=phase.end, border=border, border_communes=phase.border_communes,
            general_per_year=phase.general_per_year))
    frames = [f for f in frames if len(f)]
    if not frames:
        return pd.DataFrame(columns=OUTPUT_COLUMNS)
    result = pd.concat(frames, ignore_index=True)
    result = result.sort_values(["occurred_at", "id"], kind="stable").reset_index(drop=True)
    year = result["occurred_at"].dt.year
    sequence = result.groupby(year).cumcount() + 1
    result["id"] = [f"{DEMO_ID_PREFIX}-{y}-{s:06d}" for y, s in zip(year, sequence)]
    return result[OUTPUT_COLUMNS]


def last_full_month_end(today: date) -> date:
    """The last day of the month before ``today``'s month: the demo runs up to there."""
    return date(today.year, today.month, 1) - timedelta(days=1)

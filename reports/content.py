"""What a report says, gathered once from the store so the Word and Excel files show the same figures.

A :class:`Report` is plain data: header facts (period with its dates, district, data version, coverage),
numbered sections of paragraphs, tables and map images. ``viewer`` is always passed on, so sensitive
cases stay redacted (they are counted per commune, never located).
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np
import pandas as pd

from geo.periods import Period, describe_scheme
from geo.taxonomy import CATEGORIES, CLEARED_STATUSES, GRAVE_SEVERITIES, SOCIAL_ORDER_CATEGORIES
from geo.targets import STATUS_LABELS, format_target
from translations import check_language, format_date, format_datetime, format_number, translate

log = logging.getLogger("bando138.reports")
PROVINCE_NAME = "Đồng Tháp"


def word(key: str, lang: str, **values) -> str:
    """The report's wording of ``report.<key>`` in ``lang`` (the catalogs hold every heading, label and note)."""
    return translate(f"report.{key}", lang, **values)


def pick(pair, lang: str) -> str:
    """The ``lang`` half of a ``(vi, en)`` label pair, as geo/ and store/ keep them."""
    return pair[1] if lang == "en" else pair[0]


def period_label(period: Period, lang: str) -> str:
    return period.label_en if lang == "en" else period.label_vi


def period_dates(period: Period, lang: str) -> str:
    """``từ 01/01/2024 đến 31/03/2024`` / ``01/01/2024 to 31/03/2024`` (the catalogs' ``periods.dates``)."""
    return period.dates(lang)


@dataclass(frozen=True)
class Number:
    """A figure in a table cell: stored as a number (Excel: a number with a number format), printed in Word in
    the report's language through Babel (vi_VN 1.234,5 — en 1,234.5), with a true minus sign.

    ``kind``: ``percent`` (a share, 0.8 → 80,00%), ``change`` (a relative change, −0.04 → −4,0%),
    ``decimal`` (``places`` decimals), ``int``.
    """

    value: float | None
    kind: str = "decimal"
    places: int = 1

    EXCEL_FORMATS = {"percent": "0.00%", "change": "+0.0%;-0.0%;0.0%", "int": "#,##0"}

    def text(self, lang: str = "vi") -> str:
        if self.value is None or not np.isfinite(self.value):
            return "—" if self.value is None or np.isnan(self.value) else ("+∞" if self.value > 0 else "−∞")
        if self.kind == "percent":
            out = format_number(self.value * 100, lang, self.places) + "%"
        elif self.kind == "change":
            magnitude = format_number(abs(self.value) * 100, lang, self.places)
            out = ("-" if self.value < 0 and magnitude.strip("0.,") else "+") + magnitude + "%"
        elif self.kind == "int":
            out = format_number(int(round(self.value)), lang, 0)
        else:
            out = format_number(self.value, lang, self.places)
        return out.replace("-", "−")

    def number(self):
        """The value Excel stores (None for an undefined or unbounded figure, shown as an empty cell)."""
        if self.value is None or not np.isfinite(self.value):
            return None
        return float(self.value)

    def excel_format(self) -> str:
        return self.EXCEL_FORMATS.get(self.kind, "0." + "0" * self.places if self.places else "0")

    def __str__(self) -> str:
        return self.text()



def cell_text(value, lang: str = "vi") -> str:
    """How a table cell reads in Word: figures and dates in the report's language (Babel), text as it is."""
    from datetime import date as _date

    if value is None:
        return ""
    if isinstance(value, Number):
        return value.text(lang)
    if isinstance(value, (datetime, _date)):
        return format_date(value, lang)
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        return format_number(int(value), lang, 0)
    return str(value)


@dataclass
class Table:
    """A table of the report; ``sheet`` names its worksheet in the .xlsx (≤ 31 characters)."""

    title: str
    columns: list[str]
    rows: list[list]
    sheet: str
    numeric: set[int] = field(default_factory=set)  # column indexes right-aligned in Word


@dataclass
class Figure:
    title: str
    png: bytes
    caption: str = ""


@dataclass
class Section:
    heading: str
    paragraphs: list[str] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
    figures: list[Figure] = field(default_factory=list)


@dataclass
class Report:
    period: Period
    district_code: str | None
    district_name: str | None
    issuer: str
    title: str
    subtitle: str
    generated_at: datetime
    data_version: int
    coverage: tuple | None
    scheme_text: str
    demo: bool
    sections: list[Section]
    #: The language every heading, label, note and figure of the files is worded in (``vi`` or ``en``).
    lang: str = "vi"

    @property
    def scope(self) -> str:
        return self.district_name or word("province_scope", self.lang, province=PROVINCE_NAME)

    def word(self, key: str, **values) -> str:
        return word(key, self.lang, **values)

    def facts(self) -> list[tuple[str, str]]:
        """Header facts printed on both files."""
        lang = self.lang
        coverage = (f"{format_date(self.coverage[0], lang)} – {format_date(self.coverage[1], lang)}"
                    if self.coverage else self.word("fact.no_coverage"))
        facts = [(self.word("fact.period"), f"{period_label(self.period, lang)}: {period_dates(self.period, lang)}"),
                 (self.word("fact.scope"), self.scope),
                 (self.word("fact.scheme"), self.scheme_text),
                 (self.word("fact.coverage"), coverage),
                 (self.word("fact.data_version"), str(self.data_version)),
                 (self.word("fact.generated"), format_datetime(self.generated_at, lang))]
        if self.period.due:
            facts.insert(1, (self.word("fact.due"), format_date(self.period.due, lang)))
        if self.demo:
            facts.append((self.word("fact.note"), self.word("fact.demo_note")))
        return facts

    def typed_facts(self) -> list[tuple[str, object]]:
        """The header facts with dates as dates and the data version as a number (the Excel file's first
        sheet): each span as a start and an end cell, so they sort and compute."""
        facts = [(self.word("fact.period"), period_label(self.period, self.lang)),
                 (self.word("fact.period_from"), self.period.start), (self.word("fact.period_to"), self.period.end)]
        if self.period.due:
            facts.append((self.word("fact.due"), self.period.due))
        facts += [(self.word("fact.scope"), self.scope), (self.word("fact.scheme"), self.scheme_text),
                  (self.word("fact.coverage_from"), self.coverage[0] if self.coverage else None),
                  (self.word("fact.coverage_to"), self.coverage[1] if self.coverage else None),
                  (self.word("fact.data_version"), int(self.data_version)),
                  (self.word("fact.generated"), self.generated_at)]
        if self.demo:
            facts.append((self.word("fact.note"), self.word("fact.demo_note")))
        return facts

    def all_tables(self) -> list[Table]:
        return [t for s in self.sections for t in s.tables]


def _pct(numerator, denominator) -> Number:
    return Number(numerator / denominator if denominator else None, "percent", 2)


def _change(current, previous) -> Number:
    return Number(current / previous - 1 if previous else None, "change", 1)


def targets_table(measurement, lang: str = "vi") -> Table:
    specs = {s.code: s for s in measurement.targets.target_set.specs}
    rows = []
    for index, result in enumerate(measurement.results, start=1):
        spec = specs[result.code]
        kind = "change" if result.kind == "change" else "percent"
        places = 1 if kind == "change" else 2
        low, high = result.interval if result.interval else (None, None)
        meets = "" if result.meets_target is None else word("targets.met" if result.meets_target
                                                            else "targets.not_met", lang)
        rows.append([index, spec.label_en if lang == "en" else spec.label_vi, format_target(spec, lang),
                     Number(result.value, kind, places), result.numerator, result.denominator,
                     result.comparison_start, result.comparison_end, Number(low, kind, 1), Number(high, kind, 1), meets,
                     pick(STATUS_LABELS[result.status], lang), result.note_in(lang)])
    columns = ["column.number", "targets.column.target", "targets.column.plan", "targets.column.result",
               "targets.column.numerator", "targets.column.denominator", "targets.column.comparison_from",
               "targets.column.comparison_to", "targets.column.interval_from", "targets.column.interval_to",
               "targets.column.by_figures", "targets.column.assessment", "column.notes"]
    return Table(word("targets.table", lang), [word(c, lang) for c in columns], rows, word("targets.sheet", lang),
                 {0, 3, 4, 5, 8, 9})


def category_table(current: pd.DataFrame, previous: pd.DataFrame, lang: str = "vi") -> Table:
    now = current["category"].value_counts()
    before = previous["category"].value_counts()
    cleared_now = current[current["case_status"].isin(CLEARED_STATUSES)]["category"].value_counts()
    rows = []
    for index, (code, category) in enumerate(CATEGORIES.items(), start=1):
        n, b, c = int(now.get(code, 0)), int(before.get(code, 0)), int(cleared_now.get(code, 0))
        if n or b:
            rows.append([index, category.label(lang), "x" if code in SOCIAL_ORDER_CATEGORIES else "", n, b,
                         _change(n, b), c, _pct(c, n)])
    total_n, total_b = len(current), len(previous)
    total_c = int(current["case_status"].isin(CLEARED_STATUSES).sum()) if len(current) else 0
    rows.append(["", word("total", lang), "", total_n, total_b, _change(total_n, total_b), total_c,
                 _pct(total_c, total_n)])
    columns = ["column.number", "column.category", "categories.column.social_order", "column.this_period",
               "column.same_period", "column.change", "column.cleared", "column.clearance_rate"]
    return Table(word("categories.table", lang), [word(c, lang) for c in columns], rows,
                 word("categories.sheet", lang), {0, 3, 4, 5, 6, 7})


def area_table(current: pd.DataFrame, previous: pd.DataFrame, units: pd.DataFrame, key: str, unit: str,
               lang: str = "vi") -> Table:
    """Counts per district (province report, ``unit="district"``) or per commune (``unit="commune"``)."""
    now = current.groupby(key).size()
    before = previous.groupby(key).size()
    cleared = current[current["case_status"].isin(CLEARED_STATUSES)].groupby(key).size()
    grave = current[current["severity"].isin(GRAVE_SEVERITIES)].groupby(key).size()
    redacted = current[current["redacted"].astype(bool)].groupby(key).size() if "redacted" in current else {}
    rows = []
    for index, (code, name) in enumerate(units.itertuples(index=False), start=1):
        n, b, c = int(now.get(code, 0)), int(before.get(code, 0)), int(cleared.get(code, 0))
        rows.append([index, name, n, b, _change(n, b), c, _pct(c, n), int(grave.get(code, 0)),
                     int(redacted.get(code, 0)) if len(redacted) else 0])
    label = word(f"area.{unit}", lang)
    columns = [word("column.number", lang), label[:1].upper() + label[1:]] + [word(c, lang) for c in (
        "column.this_period", "column.same_period", "column.change", "column.cleared", "column.clearance_rate",
        "area.column.grave", "area.column.confidential")]
    return Table(word("area.table", lang, unit=label), columns, rows, word(f"area.sheet_{unit}", lang),
                 {0, 2, 3, 4, 5, 6, 7, 8})


def hotspot_section(communes, current: pd.DataFrame, population: pd.DataFrame, period: Period,
                    district_code: str | None, data_version: int, lang: str = "vi") -> Section:
    """Gi* on commune rates per 10,000 residents (queen contiguity, FDR), as a map and a list of hot communes."""
    from geo.gistar import gi_star
    from geo.weights import contiguity
    from reports.maps import hot_label, hotspot_map_png

    section = Section(word("hotspots.heading", lang))
    counts = current.groupby("commune_code").size()
    frame = communes[["commune_code", "commune_name", "district_code", "district_name", "geometry"]].copy()
    frame["count"] = [int(counts.get(c, 0)) for c in frame["commune_code"]]
    people = dict(zip(population["commune_code"], population["population"])) if len(population) else {}
    frame["population"] = [people.get(c) for c in frame["commune_code"]]
    usable = frame["population"].notna() & (frame["population"].astype(float) > 0)
    frame["rate"] = np.where(usable, frame["count"] / frame["population"].where(usable, 1).astype(float) * 10_000, 0.0)
    method = word("hotspots.method", lang)
    if len(frame) < 30 or frame["count"].sum() == 0:
        section.paragraphs.append(word("hotspots.too_few", lang))
        return section
    result = gi_star(frame["rate"].to_numpy(float), contiguity(frame.geometry, "queen"), fdr=True)
    frame["bin"] = result.bin
    frame["z"] = result.z
    note = word("hotspots.note", lang, period=period_label(period, lang), dates=period_dates(period, lang),
                data_version=data_version, method=method)
    png = hotspot_map_png(frame, frame["bin"], title=word("hotspots.map_title", lang, period=period_label(period, lang)),
                          focus_district=district_code, note=note, lang=lang)
    section.paragraphs.append(method + " " + word("hotspots.drawn_from_boundaries", lang))
    section.figures.append(Figure(word("hotspots.heading", lang), png, note))
    shown = frame if district_code is None else frame[frame["district_code"] == district_code]
    hot = shown[shown["bin"] != 0].sort_values(["bin", "z"], ascending=[False, False])
    rows = [[i, r.commune_name, r.district_name, r.count, Number(r.rate, "decimal", 1),
             Number(r.z, "decimal", 2), hot_label(int(r.bin), lang)]
            for i, r in enumerate(hot.itertuples(), start=1)]
    if not rows:
        section.paragraphs.append(word("hotspots.none", lang))
    columns = ["column.number", "column.commune", "column.district", "column.incidents", "hotspots.column.rate",
               "hotspots.column.z", "hotspots.column.class"]
    section.tables.append(Table(word("hotspots.table", lang), [word(c, lang) for c in columns], rows,
                                word("hotspots.sheet", lang), {0, 3, 4, 5}))
    return section


def _day(iso: str | None):
    """An ISO date of the tracker as a date (Word prints dd/mm/yyyy, Excel stores a date)."""
    from datetime import date as _date

    return _date.fromisoformat(iso[:10]) if iso else None


def key_area_section(session, viewer, communes, period: Period, district_code: str | None,
                     lang: str = "vi") -> Section:
    from reports.maps import key_area_map_png

    section = Section(word("key_areas.heading", lang))
    try:
        from store.key_areas import STATUS_LABELS as AREA_LABELS
        from store.key_areas import area_features
    except ImportError:
        section.paragraphs.append(word("key_areas.not_installed", lang))
        return section
    import geopandas as gpd

    year = period.year or period.end.year
    as_of = period.nominal_end or period.end
    features = area_features(session, viewer, year=year, district_code=district_code, communes=communes,
                             as_of=as_of, lang=lang)
    labels = {code: pick(pair, lang) for code, pair in AREA_LABELS.items()}
    if features:
        areas = gpd.GeoDataFrame.from_features(features, crs="EPSG:4326")
    else:
        areas = gpd.GeoDataFrame({"status": []}, geometry=[], crs="EPSG:4326")
    selected = word("key_areas.selected", lang, year=year)
    png = key_area_map_png(communes, areas, title=selected, status_labels=labels, focus_district=district_code,
                           lang=lang)
    section.figures.append(Figure(word("key_areas.map", lang), png,
                                  word("key_areas.caption", lang, year=year, date=format_date(as_of, lang))))
    section.paragraphs.append(word("key_areas.as_of", lang, date=format_date(as_of, lang)))
    rows = [[i, f["properties"]["name"], f["properties"].get("district_name", ""), f["properties"].get("kind_label", ""),
             f["properties"].get("status_label", ""), _day(f["properties"].get("status_date"))]
            for i, f in enumerate(features, start=1)]
    if not rows:
        section.paragraphs.append(word("key_areas.none", lang, year=year))
    columns = ["column.number", "column.area", "column.district", "key_areas.column.kind",
               "key_areas.column.status", "key_areas.column.since"]
    section.tables.append(Table(selected, [word(c, lang) for c in columns], rows, word("key_areas.sheet", lang), {0}))
    return section


def _share(value) -> Number:
    return Number(value, "percent", 1)


def _ratio(value) -> Number:
    return Number(value, "decimal", 2)


#: The crime groups whose hot spots are scored (the report's fixed list; ``None``: every category).
ACCURACY_GROUPS = (("all", None), ("theft", ["theft"]), ("robbery", ["robbery"]), ("drugs", ["drugs"]))


def evaluation_section(session, viewer, period: Period, district_code: str | None, scheme,
                       lang: str = "vi") -> Section:
    """How good last quarter's hot spots were, displacement around key areas, near repeats and next month's
    forecast, as of the period's end (store.evaluation; the same numbers as the pages and the API)."""
    from datetime import timedelta

    from geo.displacement import READING_LABELS
    from geo.errors import GeoInputError
    from geo.periods import range_period
    from store import evaluation as ev
    from store.key_areas import list_key_areas

    section = Section(word("evaluation.heading", lang))
    quarters = ev.last_complete_quarters(session, scheme, through=period.end)
    if quarters is None:
        section.paragraphs.append(word("evaluation.no_quarters", lang))
    else:
        train, test = quarters
        section.paragraphs.append(word(
            "evaluation.accuracy_method", lang, train=period_label(train, lang), train_dates=period_dates(train, lang),
            test=period_label(test, lang), test_dates=period_dates(test, lang),
            cell=format_number(ev.DEFAULT_CELL_SIZE_M, lang)))
        rows, withheld = [], 0
        for group, categories in ACCURACY_GROUPS:
            name = word(f"evaluation.group.{group}", lang)
            methods = ev.ACCURACY_METHODS if categories is None else ("gistar", "prospective")
            for method in methods:
                try:
                    r = ev.hotspot_accuracy(session, viewer, train, test, method=method, categories=categories,
                                            district_code=district_code)
                except GeoInputError as e:
                    rows.append([name, pick(ev.METHOD_LABELS[method], lang), None, None, None, None, None, None, None,
                                 e.text(lang)])
                    continue
                withheld = max(withheld, r["n_withheld"])
                rows.append([name, pick(ev.METHOD_LABELS[method], lang), _share(r["hit_rate"]),
                             _share(r["area_share"]), _ratio(r["pai"]), _ratio(r["pei"]), _ratio(r["rri"]), r["n"],
                             r["N"], ""])
        columns = ["column.category", "evaluation.column.method", "evaluation.column.hit_rate",
                   "evaluation.column.area_share", "evaluation.column.pai", "evaluation.column.pei",
                   "evaluation.column.rri", "evaluation.column.hits", "evaluation.column.all", "column.notes"]
        section.tables.append(Table(word("evaluation.accuracy_table", lang, train=period_label(train, lang),
                                         test=period_label(test, lang)),
                                    [word(c, lang) for c in columns], rows, word("evaluation.accuracy_sheet", lang),
                                    {2, 3, 4, 5, 6, 7, 8}))
        if withheld:
            section.paragraphs.append(word("evaluation.withheld", lang, n=withheld))
    rows = []
    for area in list_key_areas(session, viewer, year=period.year or period.end.year, district_code=district_code):
        try:
            r = ev.key_area_displacement(session, viewer, area, through=period.end)
        except GeoInputError as e:
            rows.append([area.name, area.decision_date, None, None, None, None, None, None, None, e.text(lang)])
            continue
        rows.append([area.name, _day(r["decision_date"]), r["R0"], r["R1"], r["B0"], r["B1"], r["C0"], r["C1"],
                     _ratio(r["wdq"]), pick(READING_LABELS[r["reading"]], lang)])
    section.paragraphs.append(word("evaluation.displacement_method", lang))
    if rows:
        columns = [word("column.area", lang), word("evaluation.column.decision_date", lang), "R₀", "R₁", "B₀", "B₁",
                   "C₀", "C₁", "WDQ", word("evaluation.column.reading", lang)]
        section.tables.append(Table(word("evaluation.displacement_table", lang), columns, rows,
                                    word("evaluation.displacement_sheet", lang), {2, 3, 4, 5, 6, 7, 8}))
    else:
        section.paragraphs.append(word("evaluation.no_key_areas", lang))
    year_before = range_period(max(period.start, period.end - timedelta(days=364)), period.end)
    for group, code in (("theft", "theft"), ("robbery", "robbery"), ("drugs", "drugs")):
        r = ev.near_repeats(session, viewer, year_before, categories=[code], district_code=district_code)
        extent = r.get("extent")
        finding = (word("evaluation.near_repeat_found", lang, metres=format_number(extent["metres"], lang),
                        days=format_number(extent["days"], lang))
                   if extent else word("evaluation.near_repeat_none", lang))
        section.paragraphs.append(word("evaluation.near_repeat", lang, group=word(f"evaluation.group.{group}", lang),
                                       permutations=format_number(r["permutations"], lang),
                                       dates=period_dates(year_before, lang), finding=finding))
    try:
        f = ev.forecast(session, viewer, as_of=min(period.end, ev.data_through(session) or period.end),
                        district_code=district_code, cell_size=500)
    except GeoInputError as e:
        section.paragraphs.append(word("evaluation.forecast_failed", lang, reason=e.text(lang)))
        return section
    back = f["backtest"]
    measured = (" " + word("evaluation.forecast_measured", lang, date=format_date(back["as_of"], lang),
                           hit_rate=_share(back.get("hit_rate")).text(lang),
                           area_share=_share(back.get("area_share")).text(lang),
                           pai=_ratio(back.get("pai")).text(lang))
                if back.get("hit_rate") is not None else "")
    section.paragraphs.append(word(
        "evaluation.forecast", lang, start=format_date(f["horizon"]["start"], lang)[:5],
        end=format_date(f["horizon"]["end"], lang), space=format_number(f["space_bandwidth_m"], lang),
        time=format_number(f["time_bandwidth_days"], lang), cells=format_number(f["n_flagged"], lang),
        share=_share(f["share"]).text(lang)) + measured)
    return section


def _like_for_like(session, period: Period):
    """The period and the same calendar span of the year before, both cut at the data-through date."""
    from geo.periods import PeriodNotCovered, like_for_like
    from store.targets import incident_coverage

    span = incident_coverage(session)
    try:
        return like_for_like(period, data_through=span[1] if span else None, data_from=span[0] if span else None)
    except PeriodNotCovered:
        return like_for_like(period)


def log_delivered(report: Report, *, file_format: str, by: str) -> None:
    """One log line per report file handed out: period, scope, format, account and data version (no figure)."""
    log.info("report %s for %s as %s by %s (data version %s)", report.period.code,
             f"district {report.district_code}" if report.district_code else "the province", file_format, by,
             report.data_version)


def build_report(session, viewer, period: Period, *, district_code: str | None = None, scheme=None,
                 now: datetime | None = None, boundary_set: str | None = None,
                 commune_code: str | None = None, lang: str = "vi") -> Report:
    """Gather every figure of the report for ``period`` and the province or one district.

    Every figure is expressed in one boundary set: ``boundary_set``, by default the one in force at the
    period's end (the 2024 plan's year stays on the 2024 structure); the method notes name it.
    ``commune_code`` (a code of ``boundary_set``) makes a commune committee's report: its commune's incidents,
    every period placed by location in that set. ``lang`` (``vi``, ``en``) words every heading, label, note
    and figure of the report; the figures themselves are the same in both.
    """
    check_language(lang)
    from geo.periods import DEFAULT_SCHEME, end_instant_utc
    from store.boundaries import communes_frame, get_boundary_set, population_frame, version_of
    from store.incidents import incident_frame
    from store.targets import measure, period_set

    scheme = scheme or period.scheme or DEFAULT_SCHEME
    boundary_set = boundary_set or period_set(session, period)
    communes = communes_frame(session, boundary_set)
    if not communes.attrs.get("has_districts", True):
        # A set without districts (07/2025) reports by former district for continuity.
        communes = communes.assign(district_code=communes["former_district_code"].replace("", "—"),
                                   district_name=communes["former_district_name"].replace("", word("former_tien_giang", lang)))
    district_names = dict(zip(communes["district_code"], communes["district_name"]))
    measurement = measure(session, viewer, period, district_code=district_code, as_of_period_end=True)
    pair = _like_for_like(session, period)
    comparison = pair.baseline
    if commune_code is not None and commune_code not in set(communes["commune_code"]):
        raise ValueError(f"commune {commune_code!r} is not in boundary set {boundary_set!r}")
    unit_codes = ({commune_code} if commune_code else
                  set(communes.loc[communes["district_code"] == district_code, "commune_code"]))

    status_as_of = end_instant_utc(period)  # cases cleared after the period do not change its report

    def incidents(start, end):
        frame = incident_frame(session, start=start, end=end, viewer=viewer, boundary_set=boundary_set,
                               status_as_of=status_as_of)
        return frame[frame["commune_code"].isin(unit_codes)] if (district_code or commune_code) else frame

    current = incidents(pair.span.start_at, pair.span.end_before)
    previous = incidents(comparison.start_at, comparison.end_before)
    year = period.year or period.end.year
    demo = bool(current["is_demo"].astype(bool).any()) if len(current) else False
    district_name = district_names.get(district_code) if district_code else None
    if commune_code:
        district_name = str(communes.set_index("commune_code").loc[commune_code, "commune_name"])
    issuer = (word("issuer", lang, unit=district_name.upper()) if district_name else word("issuer_province", lang))

    sections = []
    targets = Section(word("targets.heading", lang))
    if measurement is None:
        targets.paragraphs.append(word("targets.none", lang))
    else:
        if measurement.targets.borrowed:
            targets.paragraphs.append(word("targets.borrowed", lang, year=year,
                                           borrowed=measurement.targets.target_set.year))
        targets.paragraphs.append(word("targets.basis", lang, plan=measurement.targets.target_set.plan))
        counts = {s: sum(r.status == s for r in measurement.results) for s in STATUS_LABELS}
        targets.paragraphs.append(word("targets.summary", lang, n=len(measurement.results), **counts))
        targets.tables.append(targets_table(measurement, lang))
    sections.append(targets)

    crime = Section(word("crime.heading", lang))
    crime.paragraphs.append(word(
        "crime.summary", lang, start=format_date(pair.span.start, lang), end=format_date(pair.span.end, lang),
        n=format_number(len(current), lang), year=pair.baseline_year, dates=period_dates(comparison, lang),
        before=format_number(len(previous), lang), change=_change(len(current), len(previous)).text(lang)))
    pair_note = pair.note_en if lang == "en" else pair.note_vi
    if pair_note:
        crime.paragraphs.append(pair_note + ".")
    if boundary_set:
        from store.boundaries import units_without_records

        unreached, recorded_in = units_without_records(session, boundary_set, comparison.start, comparison.end)
        unreached = set(unreached) & set(communes["commune_code"]) & (unit_codes if (district_code or commune_code)
                                                                      else set(communes["commune_code"]))
        if unreached:
            kept_now = current[~current["commune_code"].isin(unreached)]
            kept_before = previous[~previous["commune_code"].isin(unreached)]
            crime.paragraphs.append(word(
                "crime.unreached", lang, n=format_number(len(unreached), lang), dates=period_dates(comparison, lang),
                sets=", ".join(r.version for r in recorded_in),
                cases=format_number(len(current) - len(kept_now), lang), kept=format_number(len(kept_now), lang),
                kept_before=format_number(len(kept_before), lang),
                change=_change(len(kept_now), len(kept_before)).text(lang)))
    crime.tables.append(category_table(current, previous, lang))
    if district_code is None and commune_code is None:
        units = communes[["district_code", "district_name"]].drop_duplicates().sort_values("district_code")
        crime.tables.append(area_table(current, previous, units, "district_code", "district", lang))
    else:
        units = communes[communes["commune_code"].isin(unit_codes)][["commune_code", "commune_name"]]
        crime.tables.append(area_table(current, previous, units, "commune_code", "commune", lang))
    sections.append(crime)

    data_version = measurement.data_version if measurement else 0
    sections.append(hotspot_section(communes, incident_frame(session, start=period.start_at, end=period.end_before,
                                                            viewer=viewer, boundary_set=boundary_set),
                                    population_frame(session, boundary_set=boundary_set), period, district_code,
                                    data_version, lang))
    sections.append(key_area_section(session, viewer, communes, period, district_code, lang))
    sections.append(evaluation_section(session, viewer, period, district_code, scheme, lang))
    method = Section(word("method.heading", lang))
    if boundary_set:
        version = version_of(get_boundary_set(session, boundary_set))
        span = (word("method.in_force_from", lang, start=format_date(version.effective_from, lang))
                if version.effective_to is None
                else f"{format_date(version.effective_from, lang)}–{format_date(version.last_day, lang)}")
        method.paragraphs.append(word("method.boundaries", lang, set=version.label(),
                                      communes=format_number(len(communes), lang),
                                      province=version.province_code, span=span))
    method.paragraphs += [describe_scheme(scheme, year, lang), word("method.intervals", lang),
                          word("method.clearance", lang)]
    sections.append(method)
    label = period_label(period, lang)
    subtitle = word("subtitle", lang, period=label[:1].lower() + label[1:] if lang == "vi" else label)
    return Report(period=period, district_code=district_code, district_name=district_name, issuer=issuer,
                  title=word("title", lang), subtitle=subtitle, generated_at=now or datetime.now(),
                  data_version=data_version, coverage=measurement.coverage if measurement else None,
                  scheme_text=describe_scheme(scheme, year, lang), demo=demo, sections=sections, lang=lang)

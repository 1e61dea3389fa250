"""The boundary set a page shows: chosen with ``?set=ID`` or, by default, the one in force at the end of the
period shown; the choices for the selector and the sentence every page prints about it."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from flask import request

from store.boundaries import communes_frame, get_boundary_set, population_frame, set_rows, version_of
from web import db_session
from web.i18n import date_span, format_date, t


@dataclass
class ViewSet:
    """The set a page shows and what the page needs of it."""

    key: str
    label: str
    has_districts: bool
    communes: object
    choices: list[dict]
    statement: str

    def population(self, year: int | None = None):
        return population_frame(db_session(), year, boundary_set=self.key)


def read_view_set(period_end: date | None = None, *, param: str = "set") -> ViewSet:
    """The set named by ``?set=`` or, by default, the one in force on ``period_end`` (default: today).

    An unknown id is a 400 naming the loaded sets (:class:`store.boundaries.UnknownBoundarySet`).
    """
    session = db_session()
    asked = request.args.get(param) or None
    if not set_rows(session):
        # Pages show their "no boundaries loaded" notice; nothing to choose from.
        return ViewSet("", "", True, communes_frame(session), [], "")
    day = min(period_end or date.today(), date.today())
    row = get_boundary_set(session, asked) if asked else get_boundary_set(session, on=day)
    communes = communes_frame(session, row.version)
    version = version_of(row)
    choices = [{"key": r.version, "label": version_of(r).label(), "selected": r.version == row.version}
               for r in set_rows(session)]
    return ViewSet(row.version, version.label(), version.has_districts, communes, choices,
                   set_statement(version, len(communes), communes))


def set_statement(version, count: int, communes) -> str:
    """"Ranh giới: bộ 07/2025 (102 xã/phường; không còn cấp huyện, mã tỉnh 82, hiệu lực từ 01/07/2025)."""
    if version.effective_to is None:
        span = t("boundary.span_open", start=format_date(version.effective_from))
    else:
        span = t("boundary.span_closed", start=format_date(version.effective_from), end=format_date(version.last_day))
    districts = (t("boundary.districts", n=communes["district_code"].replace("", None).nunique())
                 if version.has_districts else t("boundary.no_districts"))
    return t("boundary.statement", label=version.label(), count=count, districts=districts,
             province=version.province_code, span=span)


def district_choices(view: ViewSet) -> dict[str, str]:
    """District code -> name for the filter: the set's districts, or the former districts of a set without."""
    communes = view.communes
    column, names = (("district_code", "district_name") if view.has_districts
                     else ("former_district_code", "former_district_name"))
    return dict(sorted((c, n) for c, n in zip(communes[column], communes[names]) if c))


def communes_of_district(view: ViewSet, district_code: str) -> list[str]:
    column = "district_code" if view.has_districts else "former_district_code"
    return view.communes.loc[view.communes[column] == district_code, "commune_code"].tolist()


def without_baseline(session, set_key: str, baseline, view) -> dict:
    """The communes in view that no record of the baseline span can reach (old Tiền Giang in the 07/2025 set
    for a baseline before 01/07/2025): their codes and names, the sets the baseline was recorded in and a
    note saying they are left out of the like-for-like totals."""
    from store.boundaries import units_without_records, version_of

    if not set_key:
        return {"communes": [], "baseline_sets": [], "note_vi": "", "note_en": ""}
    codes, sets = units_without_records(session, set_key, baseline.start, baseline.end)
    names = dict(zip(view["commune_code"].astype(str), view["commune_name"]))
    shown = [{"code": c, "name": names[c]} for c in codes if c in names]
    labels = [f"{version_of(r).label()} ({r.province_name or r.province_code})".replace(" ()", "") for r in sets]
    if not shown:
        return {"communes": [], "baseline_sets": labels, "note_vi": "", "note_en": ""}
    span = date_span(baseline.start, baseline.end)
    return {"communes": shown, "baseline_sets": labels,
            "note_vi": f"{len(shown)} xã/phường không có số liệu kỳ gốc {span}: số liệu khi đó chỉ ghi trên bộ "
                       f"ranh giới {', '.join(labels)}, không gồm các xã/phường này. Các xã/phường này không được "
                       "so sánh và không tính vào tổng so sánh cùng kỳ.",
            "note_en": f"{len(shown)} communes have no baseline data for {span}: the records then were kept on "
                       f"boundary set {', '.join(labels)}, which does not include them. They are not compared and "
                       "are left out of the like-for-like totals."}


"""Boundary sets (versions of the administrative units), crosswalks and population in the database.

Which set is in force on a date, the communes of a set, and a record re-expressed in another set are answered
here and only here (see :mod:`geo.boundary_sets`); nothing else joins two sets.
"""
from __future__ import annotations

import json
import threading
from datetime import date

import geopandas as gpd
import pandas as pd
import shapely
from sqlalchemy import delete, event, select
from sqlalchemy.orm import Session

from geo.boundary_sets import (
    LEVELS_WITH_DISTRICTS,
    Crosswalk,
    SetVersion,
    check_new_version,
    compose_crosswalks,
    set_in_force,
    validate_crosswalk,
)
from geo.crs import WGS84
from geo.errors import GeoInputError
from store.meta import bump_data_version, data_version
from store.models import BoundarySet, Commune, CrosswalkLink, Population
from translations import Message, message

COMMUNE_COLUMNS = ["commune_code", "commune_name", "commune_type", "district_code", "district_name",
                   "province_code", "province_name"]
FORMER_COLUMNS = ["former_district_code", "former_district_name"]


class UnknownBoundarySet(GeoInputError):
    """A set id that is not loaded (HTTP 400/404 in the web layer)."""


def version_of(row: BoundarySet) -> SetVersion:
    return SetVersion(key=row.version, effective_from=row.effective_date, effective_to=row.effective_to,
                      province_code=row.province_code or "", province_name=row.province_name or "",
                      levels=tuple((row.levels or ",".join(LEVELS_WITH_DISTRICTS)).split(",")))


_SET_ROWS = "bando_set_rows"


def set_rows(session) -> list[BoundarySet]:
    """Every stored set, oldest first.

    Read once per session and transaction: a page asks some fifteen times (which set is in force, which
    one a filter names, the labels), and the rows change only by a write, which ends the memo (a flush
    touching a set, a commit or a rollback, when another transaction's write may show)."""
    rows = session.info.get(_SET_ROWS)
    if rows is None or _touches_sets(session.new | session.dirty | session.deleted):
        rows = list(session.scalars(select(BoundarySet).order_by(BoundarySet.effective_date, BoundarySet.id)))
        session.info[_SET_ROWS] = rows
    return list(rows)


def _touches_sets(objects) -> bool:
    return any(isinstance(o, BoundarySet) for o in objects)


@event.listens_for(Session, "after_flush")
def _forget_sets_written(session, _context) -> None:
    if _touches_sets(session.new | session.dirty | session.deleted):
        session.info.pop(_SET_ROWS, None)


@event.listens_for(Session, "after_commit")
@event.listens_for(Session, "after_rollback")
def _forget_sets(session, *_args) -> None:
    session.info.pop(_SET_ROWS, None)


def save_boundary_set(session, boundary_set, *, replaces: str | None = None, supersedes: str | None = None,
                      former_districts: pd.DataFrame | None = None) -> BoundarySet:
    """Store a :class:`geo.boundaries.BoundarySet` as a new version.

    Its dates must not overlap another stored set unless ``replaces`` names that set, or ``supersedes`` names
    the open-ended set it follows (closed on the new set's first day). Replacing a set keeps its id, so
    records stay attached.

    Raises
    ------
    GeoInputError
        Overlapping dates or an existing set of the same id not named in ``replaces``.
    """
    communes = boundary_set.communes
    province_code = str(communes["province_code"].iloc[0]) if len(communes) else ""
    province_name = str(communes["province_name"].iloc[0]) if len(communes) else ""
    levels = tuple(getattr(boundary_set, "levels", LEVELS_WITH_DISTRICTS))
    new = SetVersion(boundary_set.version, boundary_set.effective_date, getattr(boundary_set, "effective_to", None),
                     province_code, province_name, levels)
    rows = {row.version: row for row in set_rows(session)}
    kept = check_new_version([version_of(r) for r in rows.values()], new, replaces=replaces, supersedes=supersedes)
    for version in kept:
        rows[version.key].effective_to = version.effective_to
    row = rows.get(replaces) if replaces else None
    if replaces and row is None:
        raise UnknownBoundarySet(message("store.boundaries.replaces_unknown", replaces=repr(replaces),
                                         sets=_set_list(list(rows))))
    if row is not None:
        session.execute(delete(Commune).where(Commune.boundary_set_id == row.id))
        session.execute(delete(Population).where(Population.boundary_set_id == row.id))
        session.execute(delete(CrosswalkLink).where(
            (CrosswalkLink.from_set_id == row.id) | (CrosswalkLink.to_set_id == row.id)))
    else:
        row = BoundarySet(version=new.key, effective_date=new.effective_from)
        session.add(row)
    row.version = new.key
    row.effective_date, row.effective_to = new.effective_from, new.effective_to
    row.province_code, row.province_name, row.levels = province_code, province_name, ",".join(levels)
    row.source, row.repairs, row.is_active = boundary_set.source, "\n".join(boundary_set.repairs), True
    session.flush()
    former = {}
    if former_districts is not None:
        former = former_districts.set_index("commune_code")[FORMER_COLUMNS].to_dict("index")
    session.add_all(
        Commune(boundary_set_id=row.id, geometry=shapely.to_geojson(geom),
                **{c: ("" if pd.isna(rec[c]) else str(rec[c])) for c in COMMUNE_COLUMNS if c in communes.columns},
                **former.get(str(rec["commune_code"]), {}))
        for rec, geom in zip(communes.to_dict("records"), communes.geometry)
    )
    bump_data_version(session, "boundaries")
    return row


def save_population(session, population: pd.DataFrame, *, source: str = "", boundary_set: str | None = None) -> int:
    """Store population figures (``commune_code``, ``population``, ``year``) of one set, replacing those years.

    ``boundary_set`` defaults to the set in force today. Codes the set lacks are refused (a figure of another
    set's commune must never be joined by a reused code).
    """
    row = get_boundary_set(session, boundary_set)
    known = set(session.scalars(select(Commune.commune_code).where(Commune.boundary_set_id == row.id)))
    unknown = sorted(set(population["commune_code"].astype(str)) - known)
    if unknown:
        raise GeoInputError(message("store.boundaries.population_unknown_codes", count=len(unknown),
                                    boundary_set=repr(row.version), codes=", ".join(unknown[:10])))
    years = sorted(set(int(y) for y in population["year"]))
    session.execute(delete(Population).where(Population.year.in_(years), Population.boundary_set_id == row.id))
    session.add_all(
        Population(boundary_set_id=row.id, commune_code=str(r.commune_code), year=int(r.year),
                   population=int(r.population), source=source)
        for r in population.itertuples()
    )
    bump_data_version(session, "population")
    return len(population)


def get_boundary_set(session, key: str | None = None, *, on: date | None = None) -> BoundarySet:
    """The set with id ``key``, else the one in force ``on`` (default: today).

    Raises
    ------
    UnknownBoundarySet
        An unknown id (naming the loaded ones), or no set in force on the date.
    """
    rows = set_rows(session)
    if key is not None:
        for row in rows:
            if row.version == str(key):
                return row
        raise UnknownBoundarySet(message("store.boundaries.set_not_loaded", key=repr(key),
                                         sets=_set_list([r.version for r in rows])))
    if not rows:
        raise UnknownBoundarySet(message("store.no_boundary_set_loaded"))
    day = on or date.today()
    try:
        chosen = set_in_force([version_of(r) for r in rows], day)
    except GeoInputError as e:
        raise UnknownBoundarySet(message("store.boundaries.refused", reason=e)) from None
    return next(r for r in rows if r.version == chosen.key)


def _set_list(keys: list[str]) -> Message:
    """The loaded sets' keys for a refusal, or "none" / "không có" worded per reader."""
    return message("store.boundaries.sets", keys=", ".join(keys)) if keys else message("store.boundaries.no_sets")


def active_boundary_set(session, on: date | None = None) -> BoundarySet | None:
    """The set in force ``on`` (default today), or None when none is loaded or in force."""
    try:
        return get_boundary_set(session, on=on)
    except UnknownBoundarySet:
        return None


def known_district_codes(session, boundary_set: str | None = None) -> set[str]:
    """District codes of one set, or (default) of every set that has districts (the 2024 structure's
    committees keep their district after the reform)."""
    query = select(Commune.district_code).where(Commune.district_code != "")
    if boundary_set is not None:
        query = query.where(Commune.boundary_set_id == get_boundary_set(session, boundary_set).id)
    return set(session.scalars(query.distinct()))


def commune_in_current_set(session, commune_code: str) -> tuple[BoundarySet, str]:
    """The set in force today and the name of ``commune_code`` in it (for commune committee accounts).

    Raises
    ------
    UnknownBoundarySet
        No set in force, or the code is not a commune of it (naming the set).
    """
    row = get_boundary_set(session)
    name = session.scalar(select(Commune.commune_name).where(Commune.boundary_set_id == row.id,
                                                            Commune.commune_code == str(commune_code)))
    if name is None:
        raise UnknownBoundarySet(message("store.boundaries.commune_not_in_set", commune=repr(commune_code),
                                         boundary_set=repr(row.version)))
    return row, name


def district_names(communes) -> dict[str, str]:
    """District code -> name of a commune frame, sorted by code (for filter menus and tables)."""
    pairs = zip(communes["district_code"], communes["district_name"])
    return dict(sorted((code, name) for code, name in pairs if code))


_CACHE: dict = {}
_CACHE_LOCK = threading.Lock()


def _cached(name, session, build, *parts):
    key = (name, str(session.get_bind().url), data_version(session, "boundaries"), *parts)
    with _CACHE_LOCK:
        value = _CACHE.get(key)
    if value is None:
        value = build()
        with _CACHE_LOCK:
            if len(_CACHE) > 64:
                _CACHE.clear()
            _CACHE[key] = value
    return value


def communes_frame(session, boundary_set: str | None = None) -> gpd.GeoDataFrame:
    """Communes of a set (default: in force today) as a GeoDataFrame in EPSG:4326, cached per data version.

    ``attrs`` carry the set: ``version`` (its id), ``effective_date``, ``effective_to``, ``levels``,
    ``province_code``, ``province_name``, ``has_districts``.
    """
    row = active_boundary_set(session) if boundary_set is None else get_boundary_set(session, boundary_set)
    if row is None:
        return gpd.GeoDataFrame({c: [] for c in COMMUNE_COLUMNS + FORMER_COLUMNS}, geometry=[], crs=WGS84)

    def build():
        rows = session.scalars(select(Commune).where(Commune.boundary_set_id == row.id)
                               .order_by(Commune.commune_code)).all()
        frame = gpd.GeoDataFrame(
            {c: [getattr(r, c) or "" for r in rows] for c in COMMUNE_COLUMNS + FORMER_COLUMNS},
            geometry=[shapely.from_geojson(r.geometry) for r in rows],
            crs=WGS84,
        )
        version = version_of(row)
        frame.attrs.update(version=row.version, set_id=row.id, effective_date=row.effective_date.isoformat(),
                           effective_to=row.effective_to.isoformat() if row.effective_to else None,
                           levels=list(version.levels), has_districts=version.has_districts,
                           province_code=version.province_code, province_name=version.province_name,
                           label=version.label())
        return frame

    return _cached("communes", session, build, row.id)


def population_frame(session, year: int | None = None, boundary_set: str | None = None) -> pd.DataFrame:
    """Population per commune of one set (default: in force today) for ``year`` (default: its latest).

    Figures of another set are never returned, so a rate always divides by the population of the set shown;
    ``attrs`` carry ``year``, ``source`` and ``boundary_set``.
    """
    row = active_boundary_set(session) if boundary_set is None else get_boundary_set(session, boundary_set)
    rows = []
    if row is not None:
        query = select(Population).where(Population.boundary_set_id == row.id)
        if year is None:
            year = session.scalar(query.with_only_columns(Population.year).order_by(Population.year.desc()).limit(1))
        rows = session.scalars(query.where(Population.year == year)).all() if year else []
    frame = pd.DataFrame({"commune_code": [r.commune_code for r in rows],
                          "population": [r.population for r in rows],
                          "year": [r.year for r in rows]})
    frame.attrs.update(year=year, source=rows[0].source if rows else "",
                       boundary_set=row.version if row is not None else None)
    return frame


def communes_geojson(session, boundary_set: str | None = None) -> dict:
    """The communes of a set as GeoJSON: district fields where the set has districts, else the former ones."""
    frame = communes_frame(session, boundary_set)
    has_districts = frame.attrs.get("has_districts", True)
    dropped = FORMER_COLUMNS if has_districts else ["district_code", "district_name"]
    result = json.loads(frame.drop(columns=dropped).to_json(drop_id=True))
    for feature in result["features"]:
        feature["properties"]["boundary_set"] = frame.attrs.get("version")
    result["boundary_set"] = frame.attrs.get("version")
    return result


# ---------------------------------------------------------------------------------------------- crosswalks

def save_crosswalk(session, crosswalk: Crosswalk) -> int:
    """Store a crosswalk between two loaded sets after checking it against both; replaces an earlier one."""
    source, target = get_boundary_set(session, crosswalk.from_key), get_boundary_set(session, crosswalk.to_key)
    codes = {}
    for row in (source, target):
        codes[row.id] = set(session.scalars(select(Commune.commune_code).where(Commune.boundary_set_id == row.id)))
    validate_crosswalk(crosswalk, codes[source.id], codes[target.id])
    session.execute(delete(CrosswalkLink).where(CrosswalkLink.from_set_id == source.id,
                                                CrosswalkLink.to_set_id == target.id))
    session.add_all(
        CrosswalkLink(from_set_id=source.id, to_set_id=target.id, from_code=r.from_code, to_code=r.to_code,
                      weight=float(r.weight), relation=str(r.relation or ""), note=str(r.note or ""))
        for r in crosswalk.links.itertuples()
    )
    bump_data_version(session, "boundaries")
    return len(crosswalk.links)


def _stored_crosswalk(session, source: BoundarySet, target: BoundarySet) -> Crosswalk | None:
    rows = session.scalars(select(CrosswalkLink).where(CrosswalkLink.from_set_id == source.id,
                                                       CrosswalkLink.to_set_id == target.id)).all()
    if not rows:
        return None
    return Crosswalk(source.version, target.version, pd.DataFrame({
        "from_code": [r.from_code for r in rows], "to_code": [r.to_code for r in rows],
        "weight": [r.weight for r in rows], "relation": [r.relation for r in rows], "note": [r.note for r in rows]}))


def crosswalk_between(session, from_key: str, to_key: str) -> Crosswalk:
    """The crosswalk from one set to a later one: stored directly, or chained through stored crosswalks.

    Raises
    ------
    GeoInputError
        When no chain of stored crosswalks leads from one set to the other.
    """
    source, target = get_boundary_set(session, from_key), get_boundary_set(session, to_key)
    if source.id == target.id:
        codes = sorted(session.scalars(select(Commune.commune_code).where(Commune.boundary_set_id == source.id)))
        return Crosswalk(from_key, to_key, pd.DataFrame({"from_code": codes, "to_code": codes, "weight": 1.0,
                                                         "relation": "whole", "note": ""}))

    def build():
        direct = _stored_crosswalk(session, source, target)
        if direct is not None:
            return direct
        rows = set_rows(session)
        by_id = {r.id: r for r in rows}
        edges: dict[int, list[int]] = {}
        for a, b in session.execute(select(CrosswalkLink.from_set_id, CrosswalkLink.to_set_id).distinct()):
            edges.setdefault(a, []).append(b)
        paths = [[source.id]]
        seen = {source.id}
        while paths:
            path = paths.pop(0)
            for nxt in edges.get(path[-1], []):
                if nxt in seen:
                    continue
                if nxt == target.id:
                    chain = path + [nxt]
                    result = _stored_crosswalk(session, by_id[chain[0]], by_id[chain[1]])
                    for a, b in zip(chain[1:], chain[2:]):
                        result = compose_crosswalks(result, _stored_crosswalk(session, by_id[a], by_id[b]))
                    return result
                seen.add(nxt)
                paths.append(path + [nxt])
        raise GeoInputError(message("store.boundaries.no_crosswalk", from_key=from_key, to_key=to_key))

    return _cached("crosswalk", session, build, source.id, target.id)


def units_without_records(session, boundary_set: str, start: date, end: date) -> tuple[list[str], list[BoundarySet]]:
    """Communes of ``boundary_set`` no record made between ``start`` and ``end`` can fall in, and the sets
    in force then (:func:`geo.boundary_sets.units_without_records`, through the stored crosswalks). A set
    with no crosswalk leading to ``boundary_set`` (a later set shown in an earlier one) is not counted
    against any commune: its records are placed by their points."""
    from geo.boundary_sets import units_without_records as uncovered

    target = get_boundary_set(session, boundary_set)
    in_force = [r for r in set_rows(session) if r.effective_date <= end
                and (r.effective_to is None or r.effective_to > start)]
    crosswalks = []
    for row in in_force:
        if row.id == target.id:
            crosswalks.append(None)
            continue
        try:
            crosswalks.append(crosswalk_between(session, row.version, target.version))
        except GeoInputError:
            crosswalks.append(None)
    codes = session.scalars(select(Commune.commune_code).where(Commune.boundary_set_id == target.id))
    return uncovered(codes, crosswalks), [r for r in in_force if r.id != target.id]


def commune_locator(session, boundary_set: str | None = None):
    """The point-in-commune index of a set (see :class:`geo.incidents.CommuneLocator`), cached."""
    from geo.incidents import CommuneLocator

    frame = communes_frame(session, boundary_set)
    return _cached("locator", session, lambda: CommuneLocator(frame), frame.attrs.get("set_id"))


def communes_of_record(session, boundary_set_id: int | None) -> gpd.GeoDataFrame:
    """The communes of the set a record was made in (the current set for records from before 0008)."""
    row = session.get(BoundarySet, boundary_set_id) if boundary_set_id is not None else None
    return communes_frame(session, row.version if row is not None else None)


def latest_set_of_province(session, province_code: str, *, before=None):
    """``(set id, communes)`` of the stored set of ``province_code`` that starts last (before ``before`` when
    given), or None: what a newly read set of the province is compared with (geo.boundary_intake)."""
    rows = [r for r in set_rows(session) if (r.province_code or "") == province_code
            and (before is None or r.effective_date <= before)]
    if not rows:
        return None
    row = rows[-1]
    return row.version, communes_frame(session, row.version)

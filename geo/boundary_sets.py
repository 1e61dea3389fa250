"""Boundary sets as versions of the administrative units, and crosswalks between them.

The province was reorganised twice: on 01/01/2025 (NQ 1284/NQ-UBTVQH15: two mergers in TP Cao Lãnh, 143 →
141 communes) and on 01/07/2025 (NQ 1663/NQ-UBTVQH15: old Đồng Tháp + old Tiền Giang, 102 communes, province
code 82, no district level). A record keeps the unit valid on its own date; a view chooses one set and
re-expresses records in it — points by location, point-less records through a crosswalk. Commune codes are
reused across the reform (45 of the 2025 codes are 2024 codes, 32 of them under another name), so nothing here
ever joins two sets by code: only :func:`set_in_force` answers "which set on date D" and only a
:class:`Crosswalk` answers "this record in set S".

Everything here is pure: sets and crosswalks are data, the store persists them.
"""
from __future__ import annotations

import csv
import functools
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo.errors import GeoInputError
from translations import LANGUAGES, Message, message

#: Levels of a set with districts (2024, 01/2025) and of the two-level structure from 01/07/2025.
LEVELS_WITH_DISTRICTS = ("province", "district", "commune")
LEVELS_WITHOUT_DISTRICTS = ("province", "commune")

#: Tolerance on the allocation weights of one source commune (they must sum to 1).
WEIGHT_TOLERANCE = 0.05


@dataclass(frozen=True)
class SetVersion:
    """Identity and validity of one boundary set.

    Attributes
    ----------
    key : str
        The set's id as users and URLs name it, e.g. ``"2024"``, ``"2025-01"``, ``"2025-07"``.
    effective_from : date
        First day the set is in force.
    effective_to : date or None
        First day it is no longer in force (exclusive); None while it is the current set.
    province_code, province_name : str
        The province the set describes (87 before 01/07/2025, 82 after).
    levels : tuple of str
        Administrative levels, e.g. ``("province", "district", "commune")``.
    """

    key: str
    effective_from: date
    effective_to: date | None = None
    province_code: str = ""
    province_name: str = ""
    levels: tuple[str, ...] = LEVELS_WITH_DISTRICTS

    @property
    def has_districts(self) -> bool:
        return "district" in self.levels

    @property
    def last_day(self) -> date | None:
        return None if self.effective_to is None else self.effective_to - timedelta(days=1)

    def covers(self, day: date) -> bool:
        return self.effective_from <= day and (self.effective_to is None or day < self.effective_to)

    def label(self) -> str:
        """Short name for menus: ``2024``, ``01/2025``, ``07/2025`` (month/year of the first day)."""
        if self.effective_from.month == 1 and self.key.isdigit():
            return self.key
        return f"{self.effective_from:%m/%Y}"


def set_in_force(versions, day: date) -> SetVersion:
    """The set whose validity contains ``day``.

    Parameters
    ----------
    versions : iterable of SetVersion
        Sets of the province, not overlapping (see :func:`check_new_version`).
    day : date

    Raises
    ------
    GeoInputError
        When no set covers ``day`` (before the first set, or a gap), naming the sets there are.
    """
    versions = sorted(versions, key=lambda v: v.effective_from)
    for version in versions:
        if version.covers(day):
            return version
    if not versions:
        raise GeoInputError(message("geo.boundary_sets.boundary_set_loaded_run"))
    first = versions[0]
    if day < first.effective_from:
        raise GeoInputError(message("geo.boundary_sets.date_before_first_boundary", day=day, first_key=first.key,
                                    first_effective_from=first.effective_from))
    listed = tuple(", ".join(f"{v.key} ({_span(v).text(lang)})" for v in versions) for lang in LANGUAGES)
    raise GeoInputError(message("geo.boundary_sets.date_covered_any_boundary", day=day, listed=listed))


def _span(version: SetVersion) -> Message:
    """A set's validity, ``01/07/2025–nay`` / ``01/07/2025–now``, worded per reader."""
    if version.effective_to is None:
        return message("geo.boundary_sets.span_open", start=version.effective_from)
    return message("geo.boundary_sets.span_closed", start=version.effective_from, end=version.last_day)


def check_new_version(existing, new: SetVersion, *, replaces: str | None = None,
                      supersedes: str | None = None) -> list[SetVersion]:
    """Check that ``new`` may join ``existing`` and return the existing sets as they become.

    Any overlap is refused unless ``replaces`` names the set being replaced (dropped from the result), or
    ``supersedes`` names the open-ended set a reorganisation ends (closed on the new set's first day). A set
    with the key of an existing one must name it in ``replaces`` too.

    Returns
    -------
    list of SetVersion
        The other sets, with the effective_to they must be stored with (the caller updates them).

    Raises
    ------
    GeoInputError
        Overlapping dates, naming both sets and their spans.
    """
    if new.effective_to is not None and new.effective_to <= new.effective_from:
        raise GeoInputError(message("geo.boundary_sets.effective_after_effective_from",
                                    new_effective_to=new.effective_to, new_effective_from=new.effective_from))
    kept: list[SetVersion] = []
    for other in sorted(existing, key=lambda v: v.effective_from):
        if replaces is not None and other.key == replaces:
            continue
        if other.key == new.key:
            raise GeoInputError(message("geo.boundary_sets.boundary_set_already_exists", new_key=new.key))
        if other.key == supersedes and other.effective_from < new.effective_from and other.effective_to is None:
            other = SetVersion(other.key, other.effective_from, new.effective_from, other.province_code,
                               other.province_name, other.levels)
        new_end = new.effective_to or date.max
        other_end = other.effective_to or date.max
        if other.effective_from < new_end and new.effective_from < other_end:
            raise GeoInputError(
                message("geo.boundary_sets.boundary_set_overlaps_set", new_key=new.key, span_text=_span(new),
                        other_key=other.key, span_text2=_span(other), new_effective_from=new.effective_from))
        kept.append(other)
    if new.effective_to is None:
        later = [v for v in kept if v.effective_from > new.effective_from]
        if later:
            new_to = min(v.effective_from for v in later)
            raise GeoInputError(message("geo.boundary_sets.boundary_set_end_date", new_key=new.key,
                                        later_key=later[0].key, new_to=new_to, new_to2=new_to.isoformat()))
    return kept


# ------------------------------------------------------------------------------------------- crosswalks

@dataclass
class Crosswalk:
    """Allocation of the communes of one set to those of another.

    Attributes
    ----------
    from_key, to_key : str
        Keys of the source and target sets.
    links : DataFrame
        ``from_code, to_code, weight`` (weights of one source commune sum to 1), plus ``relation``
        (``whole``/``split``) and ``note`` when known. Links of weight 0 are dropped.
    """

    from_key: str
    to_key: str
    links: pd.DataFrame = field(repr=False)

    def targets(self, code: str) -> pd.DataFrame:
        return self.links[self.links["from_code"] == code]

    @functools.cached_property
    def record_units(self) -> dict[str, tuple[str, str]]:
        """:func:`record_unit` of every source commune, worked out once per crosswalk: a page carrying a
        year's statuses across a reform asks it for each of a hundred-odd communes."""
        ordered = self.links.sort_values(["from_code", "weight", "to_code"], ascending=[True, False, True])
        grouped: dict[str, list] = {}
        for row in ordered.itertuples():
            grouped.setdefault(str(row.from_code), []).append(row)
        units = {}
        for code, rows in grouped.items():
            note = ""
            if len(rows) > 1:
                shares = ", ".join(f"{r.to_code} {r.weight:.0%}" for r in rows)
                note = f"commune {code} was split ({shares}); listed under the largest share"
            units[code] = (str(rows[0].to_code), note)
        return units


def read_crosswalk_csv(path, *, from_key: str, to_key: str) -> Crosswalk:
    """Read a crosswalk file in the layout of ``crosswalk_dong_thap_2024_2025.csv``.

    Columns ``old_code``, ``new_code`` and ``alloc_weight`` are required; ``relation_used`` (or ``relation``)
    and ``note`` are kept when present. Rows of weight 0 (geometric overlaps the official arrangement does not
    name) are dropped, so each old commune keeps only its official targets.

    Raises
    ------
    GeoInputError
        Unreadable file, a missing column, a weight that is not a number in [0, 1].
    """
    path = Path(path)
    try:
        frame = pd.read_csv(path, dtype=str, encoding="utf-8-sig", keep_default_na=False)
    except (OSError, ValueError, UnicodeDecodeError) as exc:
        raise GeoInputError(message("geo.boundary_sets.crosswalk_could_read_csv", path=str(path), exc=exc))
    missing = [c for c in ("old_code", "new_code", "alloc_weight") if c not in frame.columns]
    if missing:
        raise GeoInputError(message("geo.boundary_sets.crosswalk_lacks_column_s", path_name=path.name,
                                    missing=', '.join(missing), frame_columns=', '.join(frame.columns)))
    weights = pd.to_numeric(frame["alloc_weight"], errors="coerce")
    bad = weights.isna() | (weights < 0) | (weights > 1)
    if bad.any():
        first = int(np.flatnonzero(bad.to_numpy())[0])
        raise GeoInputError(message("geo.boundary_sets.crosswalk_row_alloc_weight", path_name=path.name,
                                    first=first + 1, frame_iloc=frame['alloc_weight'].iloc[first]))
    relation = frame["relation_used"] if "relation_used" in frame else frame.get("relation", "")
    links = pd.DataFrame({
        "from_code": frame["old_code"].str.strip().str.zfill(5),
        "to_code": frame["new_code"].str.strip().str.zfill(5),
        "weight": weights.astype(float),
        "relation": relation if isinstance(relation, pd.Series) else "",
        "note": frame["note"] if "note" in frame else "",
    })
    links = links[links["weight"] > 0].reset_index(drop=True)
    return Crosswalk(from_key, to_key, links)


def validate_crosswalk(crosswalk: Crosswalk, from_codes, to_codes) -> None:
    """Check a crosswalk against the two sets it links.

    Raises
    ------
    GeoInputError
        A code that its set lacks (naming the set, the code and how many such codes), a source commune of the
        set without any link, or the weights of one source commune not summing to 1 ± :data:`WEIGHT_TOLERANCE`.
    """
    from_codes, to_codes = set(from_codes), set(to_codes)
    links = crosswalk.links
    for column, codes, key in (("from_code", from_codes, crosswalk.from_key), ("to_code", to_codes, crosswalk.to_key)):
        unknown = sorted(set(links[column]) - codes)
        if unknown:
            raise GeoInputError(message("geo.boundary_sets.crosswalk_value_s_boundary",
                                        crosswalk_from_key=crosswalk.from_key, crosswalk_to_key=crosswalk.to_key,
                                        n_unknown=len(unknown), column=column, set_key=key,
                                        unknown=', '.join(unknown[:10]), value6=' …' if len(unknown) > 10 else ''))
    unlinked = sorted(from_codes - set(links["from_code"]))
    if unlinked:
        raise GeoInputError(message("geo.boundary_sets.crosswalk_commune_s_set",
                                    crosswalk_from_key=crosswalk.from_key, crosswalk_to_key=crosswalk.to_key,
                                    n_unlinked=len(unlinked), unlinked=', '.join(unlinked[:10]),
                                    value4=' …' if len(unlinked) > 10 else ''))
    sums = links.groupby("from_code")["weight"].sum()
    off = sums[(sums - 1.0).abs() > WEIGHT_TOLERANCE]
    if len(off):
        shown = ", ".join(f"{code}: {total:.3f}" for code, total in off.head(10).items())
        raise GeoInputError(message("geo.boundary_sets.crosswalk_weights_one_commune",
                                    crosswalk_from_key=crosswalk.from_key, crosswalk_to_key=crosswalk.to_key,
                                    weight_tolerance=WEIGHT_TOLERANCE, shown=shown))


def crosswalk_from_changes(changes: pd.DataFrame, from_codes, *, from_key: str, to_key: str) -> Crosswalk:
    """The crosswalk of a reorganisation given as merges (each listed old code goes whole into one new code).

    Parameters
    ----------
    changes : DataFrame
        ``from_code, to_code`` of the units that changed; every other code of ``from_codes`` keeps its code.
    """
    moved = dict(zip(changes["from_code"], changes["to_code"]))
    codes = sorted(set(from_codes))
    return Crosswalk(from_key, to_key, pd.DataFrame({
        "from_code": codes, "to_code": [moved.get(c, c) for c in codes], "weight": 1.0,
        "relation": "whole", "note": ["merged" if c in moved and moved[c] != c else "" for c in codes]}))


def compose_crosswalks(first: Crosswalk, second: Crosswalk, *, weights_of_first=None) -> Crosswalk:
    """Chain A→B and B→C into A→C: ``w(a→c) = Σ_b w(a→b)·w(b→c)`` (weights stay summing to 1 per a)."""
    if first.to_key != second.from_key:
        raise GeoInputError(message("geo.boundary_sets.cannot_chain_crosswalk", first_from_key=first.from_key,
                                    first_to_key=first.to_key, second_from_key=second.from_key,
                                    second_to_key=second.to_key))
    merged = first.links[["from_code", "to_code", "weight"]].merge(
        second.links[["from_code", "to_code", "weight", "relation", "note"]],
        left_on="to_code", right_on="from_code", suffixes=("_ab", "_bc"))
    merged["weight"] = merged["weight_ab"] * merged["weight_bc"]
    links = (merged.groupby(["from_code_ab", "to_code_bc"], as_index=False)
             .agg(weight=("weight", "sum"), note=("note", "first"))
             .rename(columns={"from_code_ab": "from_code", "to_code_bc": "to_code"}))
    counts = links.groupby("from_code")["to_code"].transform("size")
    links["relation"] = np.where(counts > 1, "split", "whole")
    return Crosswalk(first.from_key, second.to_key, links[["from_code", "to_code", "weight", "relation", "note"]])


def reallocate_counts(counts: pd.Series, crosswalk: Crosswalk) -> pd.Series:
    """Re-express counts per source commune in the target set.

    Whole relations move the count; split relations divide it by ``weight`` (so a split commune's 10 cases
    become e.g. 7.5 and 2.5). The total is preserved exactly. A code absent from the crosswalk raises rather
    than being dropped.

    Parameters
    ----------
    counts : Series
        Index: source commune code; values: counts.

    Returns
    -------
    Series
        Index: target commune code, sorted; values: float counts.
    """
    counts = counts[counts != 0]
    unknown = sorted(set(counts.index) - set(crosswalk.links["from_code"]))
    if unknown:
        raise GeoInputError(message("geo.boundary_sets.commune_code_s_crosswalk",
                                    unknown=', '.join(map(str, unknown[:10])),
                                    crosswalk_from_key=crosswalk.from_key, crosswalk_to_key=crosswalk.to_key))
    links = crosswalk.links.set_index("from_code")
    joined = links.join(counts.rename("count"), how="inner")
    joined["allocated"] = joined["weight"] * joined["count"]
    return joined.groupby("to_code")["allocated"].sum().sort_index()


def record_unit(code: str, crosswalk: Crosswalk) -> tuple[str, str]:
    """The target commune a single record is listed under, and a note when its commune was split.

    A record without a point cannot be divided: it goes to the target commune holding the largest share of
    its commune (ties to the lower code), and the note says so.

    Raises
    ------
    GeoInputError
        When ``code`` is not a source commune of the crosswalk.
    """
    unit = crosswalk.record_units.get(str(code))
    if unit is None:
        raise GeoInputError(message("geo.boundary_sets.commune_crosswalk", code=code,
                                    crosswalk_from_key=crosswalk.from_key, crosswalk_to_key=crosswalk.to_key))
    return unit


# -------------------------------------------------------------------------------------- derived sets

def merge_communes(communes: gpd.GeoDataFrame, changes: pd.DataFrame) -> gpd.GeoDataFrame:
    """Apply mergers to a commune layer: the set of a reorganisation that only merges whole communes.

    Parameters
    ----------
    communes : GeoDataFrame
        The earlier set's communes (commune_code, commune_name, commune_type, district_code, district_name,
        province_code, province_name, geometry).
    changes : DataFrame
        ``from_code, to_code, to_name, to_type``: each listed commune goes whole into ``to_code``, which takes
        ``to_name`` and ``to_type``; the union of the merged polygons is its geometry.

    Returns
    -------
    GeoDataFrame
        The later set, sorted by code.

    Raises
    ------
    GeoInputError
        A ``from_code`` the layer lacks, or communes of two districts merged into one.
    """
    unknown = sorted(set(changes["from_code"]) - set(communes["commune_code"]))
    if unknown:
        raise GeoInputError(message("geo.boundary_sets.changes_name_commune_s", unknown=', '.join(unknown)))
    target_of = dict(zip(changes["from_code"], changes["to_code"]))
    frame = communes.copy()
    frame["_target"] = frame["commune_code"].map(lambda c: target_of.get(c, c))
    rows = []
    for target, group in frame.groupby("_target", sort=True):
        if group["district_code"].nunique() > 1:
            raise GeoInputError(message("geo.boundary_sets.commune_merges_communes_several", target=target,
                                        group=', '.join(sorted(group['district_code'].unique()))))
        base = group.iloc[0].to_dict()
        change = changes[changes["to_code"] == target]
        base["commune_code"] = target
        if len(change):
            base["commune_name"] = change["to_name"].iloc[0]
            base["commune_type"] = change["to_type"].iloc[0]
        base["geometry"] = shapely.union_all(group.geometry.values) if len(group) > 1 else group.geometry.iloc[0]
        base.pop("_target")
        rows.append(base)
    return gpd.GeoDataFrame(rows, geometry="geometry", crs=communes.crs).sort_values(
        "commune_code").reset_index(drop=True)


def read_changes_csv(path) -> pd.DataFrame:
    """Read a reorganisation table (``from_code, to_code, to_name, to_type``), codes zero-padded."""
    path = Path(path)
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            rows = list(csv.DictReader(handle))
    except OSError as exc:
        raise GeoInputError(message("geo.boundary_sets.changes_file_could_read", path=str(path), exc=exc))
    missing = [c for c in ("from_code", "to_code", "to_name", "to_type") if rows and c not in rows[0]]
    if not rows or missing:
        raise GeoInputError(message("geo.boundary_sets.changes_file_needs_columns", path_name=path.name))
    frame = pd.DataFrame(rows)
    for column in ("from_code", "to_code"):
        frame[column] = frame[column].str.strip().str.zfill(5)
    return frame


def former_districts(crosswalk: Crosswalk, old_communes: pd.DataFrame, new_codes) -> pd.DataFrame:
    """Former (2024) district of each commune of a set without districts, for continuity tables.

    A new commune is grouped under the old district from which it received the largest total allocation
    weight; communes the crosswalk does not reach (e.g. those of old Tiền Giang) get empty fields.

    Returns
    -------
    DataFrame
        ``commune_code, former_district_code, former_district_name`` for every code of ``new_codes``.
    """
    districts = old_communes[["commune_code", "district_code", "district_name"]]
    joined = crosswalk.links.merge(districts, left_on="from_code", right_on="commune_code")
    totals = (joined.groupby(["to_code", "district_code", "district_name"], as_index=False)["weight"].sum()
              .sort_values(["to_code", "weight", "district_code"], ascending=[True, False, True])
              .drop_duplicates("to_code"))
    by_code = totals.set_index("to_code")
    codes = sorted(set(new_codes))
    return pd.DataFrame({
        "commune_code": codes,
        "former_district_code": [by_code["district_code"].get(c, "") for c in codes],
        "former_district_name": [by_code["district_name"].get(c, "") for c in codes],
    })


def crosswalk_after_merge(merge: Crosswalk, onward: Crosswalk, areas: pd.Series) -> Crosswalk:
    """From A→B (whole merges) and A→C, the crosswalk B→C of the merged set.

    ``w(b→c) = Σ_{a→b} area(a)·w(a→c) / Σ_{a→b} area(a)``: a merged unit is allocated like the area-weighted
    mix of the units it was made of; a unit that did not change keeps its links unchanged.

    Parameters
    ----------
    merge : Crosswalk
        A→B in which every A commune goes whole into one B commune.
    onward : Crosswalk
        A→C.
    areas : Series
        Area of each A commune (index: code), any unit.
    """
    if merge.from_key != onward.from_key:
        raise GeoInputError(message("geo.boundary_sets.crosswalks_do_start_from", merge_from_key=merge.from_key,
                                    merge_to_key=merge.to_key, onward_from_key=onward.from_key,
                                    onward_to_key=onward.to_key))
    if (merge.links.groupby("from_code")["to_code"].nunique() > 1).any():
        raise GeoInputError(message("geo.boundary_sets.crosswalk_splits_communes_expected",
                                    merge_from_key=merge.from_key, merge_to_key=merge.to_key))
    parent = merge.links[["from_code", "to_code"]].rename(columns={"to_code": "merged_code"})
    joined = onward.links.merge(parent, on="from_code")
    joined["area"] = joined["from_code"].map(areas).astype(float)
    missing = sorted(joined.loc[joined["area"].isna(), "from_code"].unique())
    if missing:
        raise GeoInputError(message("geo.boundary_sets.areas_missing_commune_s", missing=', '.join(missing)))
    joined["mass"] = joined["area"] * joined["weight"]
    grouped = joined.groupby(["merged_code", "to_code"], as_index=False).agg(
        mass=("mass", "sum"), note=("note", "first"))
    grouped["weight"] = grouped["mass"] / grouped.groupby("merged_code")["mass"].transform("sum")
    counts = grouped.groupby("merged_code")["to_code"].transform("size")
    links = pd.DataFrame({"from_code": grouped["merged_code"], "to_code": grouped["to_code"],
                          "weight": grouped["weight"], "relation": np.where(counts > 1, "split", "whole"),
                          "note": grouped["note"]})
    return Crosswalk(merge.to_key, onward.to_key, links.reset_index(drop=True))


def carry_statuses(statuses: dict, crosswalk: Crosswalk, order) -> tuple[dict, list[str]]:
    """Re-express per-commune statuses (records without a point) in the crosswalk's target set.

    Each record goes to one target commune (:func:`record_unit`: a split commune to its largest share). A
    target made of several source communes takes the *worst* of their statuses by ``order`` (best first),
    so a merged commune counts as drug-free only if every commune it was made of was.

    Returns
    -------
    dict, list of str
        Target code -> status, and the notes of split communes.
    """
    rank = {status: i for i, status in enumerate(order)}
    carried: dict = {}
    notes = []
    for code, status in statuses.items():
        target, note = record_unit(code, crosswalk)
        if note:
            notes.append(note)
        if target not in carried or rank[status] > rank[carried[target]]:
            carried[target] = status
    return carried, notes


def units_without_records(target_codes, crosswalks) -> list[str]:
    """Units of a boundary set that the records of a span cannot reach: no record made on the sets in force
    then can fall in them, so a comparison with that span has no baseline there.

    Parameters
    ----------
    target_codes : iterable of str
        Commune codes of the set the comparison is shown in.
    crosswalks : iterable of Crosswalk or None
        One per boundary set in force during the span, from that set to the target set; ``None`` for the
        target set itself (it reaches all its units).

    Returns
    -------
    list of str
        The target codes that some set in force during the span does not link to (sorted): for the
        07/2025 set and a span before 01/07/2025, the communes of old Tiền Giang, which the 2024 and 01/2025
        sets of old Đồng Tháp never covered.

    Notes
    -----
    Only the crosswalk's links are read (NQ 1663/NQ-UBTVQH15 arrangement, ``data/boundaries``), never a
    shared code: codes are reused across the reform.
    """
    codes = sorted({str(c) for c in target_codes})
    missing: set[str] = set()
    for crosswalk in crosswalks:
        if crosswalk is None:
            continue
        reached = set(crosswalk.links.loc[crosswalk.links["weight"] > 0, "to_code"].astype(str))
        missing.update(c for c in codes if c not in reached)
    return sorted(missing)

"""The three boundary sets the tracker ships with, and their crosswalks, loaded in one transaction.

- ``2024``: the 143 communes of old Đồng Tháp (12 districts, province 87), taken as in force from
  :data:`FIRST_DAY_2024` (the structure the 2024 plan and its 2023 baseline describe) to 31/12/2024;
- ``2025-01``: the 141 units after NQ 1284/NQ-UBTVQH15 (from 01/01/2025), derived from the 2024 polygons by
  the mergers in ``data/admin_changes/2025-01-01_nq1284.csv``;
- ``2025-07``: the 102 communes of the new Đồng Tháp (province 82, no district level, from 01/07/2025).

Population: the 2019 census for the 2024 set (summed over the mergers for 2025-01), the 2025 figures for
2025-07 — never mixed. The files are third-party data read from ``DATA_DIR`` (see data/boundaries/README.md).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pandas as pd

from geo.boundaries import BoundarySet, read_communes, read_population
from geo.boundary_sets import (
    crosswalk_after_merge,
    crosswalk_from_changes,
    former_districts,
    merge_communes,
    read_changes_csv,
    read_crosswalk_csv,
)
from geo.crs import METRIC_CRS
from store.boundaries import save_boundary_set, save_crosswalk, save_population, set_rows
from translations import Message, message

FIRST_DAY_2024 = date(2020, 1, 1)
FIRST_DAY_2025_01 = date(2025, 1, 1)
FIRST_DAY_2025_07 = date(2025, 7, 1)
CHANGES_2025_01 = Path(__file__).resolve().parent.parent / "data" / "admin_changes" / "2025-01-01_nq1284.csv"

FILES = {
    "communes_2024": "boundaries/dong_thap_communes_2024.geojson",
    "communes_2025": "boundaries/dong_thap_communes_2025.geojson",
    "crosswalk": "boundaries/crosswalk_dong_thap_2024_2025.csv",
    "population_2019": "population/dong_thap_population_2019.csv",
    "population_2025": "population/dong_thap_population_2025.csv",
}


@dataclass
class ShippedSets:
    sets: list[BoundarySet]
    population: dict[str, pd.DataFrame]
    crosswalks: list
    former: pd.DataFrame | None


def read_shipped_sets(data_dir, *, boundaries_path=None, population_path=None) -> ShippedSets:
    """Read and derive the shipped sets from ``data_dir`` (the 2025 files are optional)."""
    data_dir = Path(data_dir)
    path_2024 = Path(boundaries_path) if boundaries_path else data_dir / FILES["communes_2024"]
    set_2024 = read_communes(path_2024, version="2024", effective_date=FIRST_DAY_2024)
    set_2024.effective_to = FIRST_DAY_2025_01
    sets, population, crosswalks, former = [set_2024], {}, [], None
    pop_2019_path = Path(population_path) if population_path else data_dir / FILES["population_2019"]
    if pop_2019_path.exists():
        population["2024"] = read_population(pop_2019_path, year=2019, boundaries=set_2024)
        population["2024"].attrs["source"] = f"Tổng điều tra dân số 01/04/2019 ({pop_2019_path.name})"

    changes = read_changes_csv(CHANGES_2025_01)
    merged = merge_communes(set_2024.communes, changes)
    set_2025_01 = BoundarySet(communes=merged, version="2025-01", effective_date=FIRST_DAY_2025_01,
                              source=f"{path_2024.name} + {CHANGES_2025_01.name}", effective_to=FIRST_DAY_2025_07)
    sets.append(set_2025_01)
    merge_cw = crosswalk_from_changes(changes, set_2024.communes["commune_code"], from_key="2024", to_key="2025-01")
    crosswalks.append(merge_cw)
    if "2024" in population:
        by_target = dict(zip(merge_cw.links["from_code"], merge_cw.links["to_code"]))
        pop = population["2024"].assign(commune_code=lambda f: f["commune_code"].map(by_target))
        population["2025-01"] = pop.groupby(["commune_code", "year"], as_index=False)["population"].sum()
        population["2025-01"].attrs["source"] = "Tổng điều tra dân số 01/04/2019, cộng theo sáp nhập 01/01/2025"

    path_2025 = data_dir / FILES["communes_2025"]
    if path_2025.exists():
        set_2025_07 = read_communes(path_2025, version="2025-07", effective_date=FIRST_DAY_2025_07)
        sets.append(set_2025_07)
        crosswalk = read_crosswalk_csv(data_dir / FILES["crosswalk"], from_key="2024", to_key="2025-07")
        crosswalks.append(crosswalk)
        areas = set_2024.communes.set_index("commune_code").geometry.to_crs(METRIC_CRS).area
        crosswalks.append(crosswalk_after_merge(merge_cw, crosswalk, areas))
        former = former_districts(crosswalk, set_2024.communes, set_2025_07.communes["commune_code"])
        pop_2025_path = data_dir / FILES["population_2025"]
        if pop_2025_path.exists():
            population["2025-07"] = read_population(pop_2025_path, year=2025, boundaries=set_2025_07,
                                                    field_map={"population": "population_2025"})
            population["2025-07"].attrs["source"] = (f"Dân số 2025 theo đơn vị hành chính mới ({pop_2025_path.name}; "
                                                     "12 giá trị đã hiệu chỉnh)")
    return ShippedSets(sets, population, crosswalks, former)


def save_shipped_sets(session, shipped: ShippedSets) -> list[Message]:
    """Store the shipped sets, their population and crosswalks; sets already stored are replaced in place.

    Returns what was stored, one message a line, for the command to word in its language."""
    existing = {row.version for row in set_rows(session)}
    lines = []
    for boundary_set in shipped.sets:
        former = shipped.former if boundary_set.version == "2025-07" else None
        replaces = boundary_set.version if boundary_set.version in existing else None
        save_boundary_set(session, boundary_set, replaces=replaces, former_districts=former)
        communes = boundary_set.communes
        districts = (message("store.shipped.districts", count=communes["district_code"].nunique())
                     if boundary_set.has_districts else message("store.shipped.no_districts"))
        lines.append(message("store.shipped.set_loaded", key=boundary_set.version, count=len(communes),
                             districts=districts, province=str(communes["province_code"].iloc[0]),
                             start=boundary_set.effective_date))
        population = shipped.population.get(boundary_set.version)
        if population is not None:
            save_population(session, population, source=population.attrs.get("source", ""),
                            boundary_set=boundary_set.version)
            lines.append(message("store.shipped.population", year=int(population["year"].iloc[0]),
                                 count=len(population)))
    for crosswalk in shipped.crosswalks:
        n = save_crosswalk(session, crosswalk)
        lines.append(message("store.shipped.crosswalk", from_key=crosswalk.from_key, to_key=crosswalk.to_key, count=n))
    return lines


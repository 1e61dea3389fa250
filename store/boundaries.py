"""Boundary sets and population in the database, and the in-memory commune layer built from them."""
from __future__ import annotations

import json
import threading

import geopandas as gpd
import pandas as pd
import shapely
from sqlalchemy import delete, select, update

from geo.crs import WGS84
from store.meta import bump_data_version, data_version
from store.models import BoundarySet, Commune, Population

COMMUNE_COLUMNS = ["commune_code", "commune_name", "commune_type", "district_code", "district_name",
                   "province_code", "province_name"]


def save_boundary_set(session, boundary_set, *, activate: bool = True) -> BoundarySet:
    """Store a :class:`geo.boundaries.BoundarySet`, replacing a stored set of the same version."""
    existing = session.scalar(select(BoundarySet).where(BoundarySet.version == boundary_set.version))
    if existing is not None:
        session.execute(delete(Commune).where(Commune.boundary_set_id == existing.id))
        row = existing
        row.effective_date = boundary_set.effective_date
        row.source = boundary_set.source
        row.repairs = "\n".join(boundary_set.repairs)
    else:
        row = BoundarySet(version=boundary_set.version, effective_date=boundary_set.effective_date,
                          source=boundary_set.source, repairs="\n".join(boundary_set.repairs))
        session.add(row)
        session.flush()
    if activate:
        session.execute(update(BoundarySet).where(BoundarySet.id != row.id).values(is_active=False))
        row.is_active = True
    gdf = boundary_set.communes
    session.add_all(
        Commune(boundary_set_id=row.id, geometry=shapely.to_geojson(geom),
                **{c: ("" if pd.isna(rec[c]) else str(rec[c])) for c in COMMUNE_COLUMNS if c in gdf.columns})
        for rec, geom in zip(gdf.to_dict("records"), gdf.geometry)
    )
    bump_data_version(session, "boundaries")
    return row


def save_population(session, population: pd.DataFrame, *, source: str = "") -> int:
    """Store population figures (``commune_code``, ``population``, ``year``), replacing those years."""
    years = sorted(set(int(y) for y in population["year"]))
    session.execute(delete(Population).where(Population.year.in_(years)))
    session.add_all(
        Population(commune_code=str(r.commune_code), year=int(r.year), population=int(r.population), source=source)
        for r in population.itertuples()
    )
    bump_data_version(session, "population")
    return len(population)


def active_boundary_set(session) -> BoundarySet | None:
    return session.scalar(select(BoundarySet).where(BoundarySet.is_active.is_(True)))


def known_district_codes(session) -> set[str]:
    active = active_boundary_set(session)
    if active is None:
        return set()
    return set(session.scalars(select(Commune.district_code).where(Commune.boundary_set_id == active.id)))


def district_names(communes) -> dict[str, str]:
    """District code -> name of a commune frame, sorted by code (for filter menus and tables)."""
    return dict(sorted(zip(communes["district_code"], communes["district_name"])))


_CACHE: dict = {}
_CACHE_LOCK = threading.Lock()


def communes_frame(session) -> gpd.GeoDataFrame:
    """Active communes as a GeoDataFrame in EPSG:4326, cached per database and data version."""
    key = (str(session.get_bind().url), data_version(session, "boundaries"))
    with _CACHE_LOCK:
        cached = _CACHE.get(("communes",) + key)
    if cached is not None:
        return cached
    active = active_boundary_set(session)
    if active is None:
        frame = gpd.GeoDataFrame({c: [] for c in COMMUNE_COLUMNS}, geometry=[], crs=WGS84)
    else:
        rows = session.scalars(select(Commune).where(Commune.boundary_set_id == active.id)
                               .order_by(Commune.commune_code)).all()
        frame = gpd.GeoDataFrame(
            {c: [getattr(r, c) for r in rows] for c in COMMUNE_COLUMNS},
            geometry=[shapely.from_geojson(r.geometry) for r in rows],
            crs=WGS84,
        )
        frame.attrs.update(version=active.version, effective_date=active.effective_date.isoformat())
    with _CACHE_LOCK:
        _CACHE[("communes",) + key] = frame
    return frame


def population_frame(session, year: int | None = None) -> pd.DataFrame:
    """Population per commune for ``year`` (default: the latest year loaded)."""
    if year is None:
        year = session.scalar(select(Population.year).order_by(Population.year.desc()).limit(1))
    rows = session.scalars(select(Population).where(Population.year == year)).all() if year else []
    return pd.DataFrame({"commune_code": [r.commune_code for r in rows],
                         "population": [r.population for r in rows],
                         "year": [r.year for r in rows]})


def communes_geojson(session) -> dict:
    frame = communes_frame(session)
    return json.loads(frame.to_json(drop_id=True))

"""Stored hot spot runs: the cache of results per data version and parameters, and the record to reproduce them.

Every analysis the hot spot page shows is stored once with its full parameters (JSON), the data version it
was computed on, who asked for it and when, and its result (GeoParquet in the CRS of the analysis; older rows
GeoJSON in EPSG:4326; downloaded as GeoJSON in EPSG:4326). The cache key is a hash
of the parameters and the data version; every import bumps the data version (``store.meta``), so a new
import never serves an old map, while the old run stays in the table — any map that was shown can be
looked up by its run id and recomputed from its parameters.
"""
from __future__ import annotations

import hashlib
import json
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import DateTime, Integer, String, Text, select
from sqlalchemy.orm import Mapped, mapped_column

from geo import VECTOR_ENGINE
from store.meta import data_version
from store.models import Base, utcnow

RESULT_DECIMALS = 6  # about 0.1 m: enough for any display, and the stored GeoJSON stays compact
#: The data a hot spot result depends on: a change to any of them (an import, new boundaries or population)
#: gives new cache keys; edits elsewhere (drug status, key areas) keep the stored maps.
TOPICS = ("incidents", "boundaries", "population")


class HotspotRun(Base):
    """One computed analysis: parameters, data version, author, time and the result layer."""

    __tablename__ = "hotspot_runs"
    id: Mapped[int] = mapped_column(primary_key=True)
    cache_key: Mapped[str] = mapped_column(String(64), index=True)
    data_version: Mapped[int] = mapped_column(Integer)
    params: Mapped[str] = mapped_column(Text)
    summary: Mapped[str] = mapped_column(Text, default="{}")
    result: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    created_by: Mapped[str] = mapped_column(String(80), default="")

    @property
    def parameters(self) -> dict:
        return json.loads(self.params)

    @property
    def details(self) -> dict:
        return json.loads(self.summary or "{}")


@dataclass(frozen=True)
class CachedResult:
    """A run and whether it came from the cache (``hit``) or was just computed."""

    run: HotspotRun
    hit: bool


def canonical_json(value) -> str:
    """JSON with sorted keys and no whitespace, so equal parameters always hash equally."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=_json_default)


def _json_default(value):
    """What ``json`` cannot write itself, in a form that hashes the same every time (sets sorted)."""
    import numpy as np

    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, (set, frozenset, tuple)):
        return sorted(value) if isinstance(value, (set, frozenset)) else list(value)
    return str(value)


def cache_key(params: dict, versions) -> str:
    """Hash of the versions of the data used (see :data:`TOPICS`) and the parameters."""
    return hashlib.sha256(f"{canonical_json(versions)}|{canonical_json(params)}".encode()).hexdigest()


def find_run(session, params: dict) -> HotspotRun | None:
    """The newest stored run of ``params`` on the current data versions, if any."""
    key = cache_key(params, data_version(session, *TOPICS))
    return session.scalars(select(HotspotRun).where(HotspotRun.cache_key == key)
                           .order_by(HotspotRun.id.desc()).limit(1)).first()


def run_by_id(session, run_id: int) -> HotspotRun | None:
    return session.get(HotspotRun, run_id)


def _as_stored(frame):
    """The frame as the GeoJSON download holds it: EPSG:4326, coordinates rounded to :data:`RESULT_DECIMALS`."""
    import numpy as np
    import shapely

    shown = frame if frame.crs is None or frame.crs.to_epsg() == 4326 else frame.to_crs(4326)
    return shown.set_geometry(shapely.transform(shown.geometry.values, lambda xy: np.round(xy, RESULT_DECIMALS)))


#: Result frames of the runs this process computed last, so the page that asked for a run draws it without
#: decoding the stored result again (a hundred thousand cells on a 250 m grid). Keyed by run id.
_RECENT_FRAMES: "OrderedDict[int, object]" = OrderedDict()
RECENT_FRAMES = 2
#: Prefix of a result stored as GeoParquet (base64 text); older rows hold GeoJSON text.
GEOPARQUET_PREFIX = "geoparquet;base64,"


def frame_to_geojson(frame) -> str:
    """A result frame as GeoJSON text in EPSG:4326 with rounded coordinates (NaN written as null).

    Column by column (:func:`geo.geojson.feature_collection_text`): no mapping is built per feature, which
    matters on a 250 m province grid of a hundred thousand cells.
    """
    import numpy as np

    from geo.geojson import feature_collection_text

    shown = _as_stored(frame)
    geometry = shown.geometry.values
    columns = {}
    for name in shown.columns:
        if name == shown.geometry.name:
            continue
        values = shown[name]
        columns[name] = values.to_numpy(dtype=object) if values.dtype.kind not in "biuf" else values.to_numpy()
    return feature_collection_text(np.asarray(geometry, dtype=object), columns)


def frame_to_stored_text(frame) -> str:
    """A result frame as stored: GeoParquet (geometry as WKB, columns as Arrow types) in base64 text.

    The frame keeps its own CRS and full precision; writing it costs a fraction of GeoJSON text in EPSG:4326
    (no reprojection, no number printing), which on a 250 m province grid is most of a page's time. The
    GeoJSON download is made from it on request (:func:`frame_to_geojson`).
    """
    import base64
    import io

    buffer = io.BytesIO()
    frame.to_parquet(buffer, index=False, compression="zstd")
    return GEOPARQUET_PREFIX + base64.b64encode(buffer.getvalue()).decode("ascii")


def _stored_frame(run: HotspotRun):
    """The stored result as a GeoDataFrame in the CRS it was stored in (GeoParquet, or older GeoJSON)."""
    import base64
    import io

    import geopandas as gpd

    recent = _RECENT_FRAMES.get(run.id)
    if recent is not None and recent[0] == run.cache_key:
        return recent[1].copy()
    document = run.result
    if document.startswith(GEOPARQUET_PREFIX):
        return gpd.read_parquet(io.BytesIO(base64.b64decode(document[len(GEOPARQUET_PREFIX):])))
    if '"features":[]' in document[:80]:
        return gpd.GeoDataFrame(geometry=[], crs=4326)
    return gpd.read_file(io.BytesIO(document.encode()), engine=VECTOR_ENGINE).set_crs(4326, allow_override=True)


def run_frame(run: HotspotRun):
    """The stored result as a GeoDataFrame in EPSG:4326 (missing values back as NaN)."""
    frame = _stored_frame(run)
    if frame.crs is not None and frame.crs.to_epsg() == 4326:
        return frame
    return _as_stored(frame)


def run_frame_for_display(run: HotspotRun):
    """The stored result in the CRS it was computed in (a map layer reprojects only the units it draws)."""
    return _stored_frame(run)


def run_geojson_text(run: HotspotRun) -> str:
    """The stored result as GeoJSON text in EPSG:4326 (the download of a run)."""
    document = run.result
    if not document.startswith(GEOPARQUET_PREFIX):
        return document
    return frame_to_geojson(_stored_frame(run))


def get_or_run(session, params: dict, compute, *, username: str = "") -> CachedResult:
    """Return the stored run of ``params`` on the current data versions, or compute and store it.

    The key covers the versions of incidents, boundaries and population (:data:`TOPICS`); the stored
    ``data_version`` is the global version at computation time, as reports print it.

    Parameters
    ----------
    session : sqlalchemy Session
        The caller commits (the new row is flushed here so its id is known).
    params : dict
        Everything that determines the result (filters, statistic, units, viewer clearance, ...);
        JSON-serialisable.
    compute : callable
        ``compute() -> (GeoDataFrame, summary dict)``; called only on a cache miss.
    username : str
        Stored as ``created_by``.
    """
    version = data_version(session)
    key = cache_key(params, data_version(session, *TOPICS))
    existing = session.scalars(select(HotspotRun).where(HotspotRun.cache_key == key)
                               .order_by(HotspotRun.id.desc()).limit(1)).first()
    if existing is not None:
        return CachedResult(existing, True)
    frame, summary = compute()
    run = HotspotRun(cache_key=key, data_version=version, params=canonical_json(params),
                     summary=canonical_json(summary or {}), result=frame_to_stored_text(frame), created_by=username)
    session.add(run)
    session.flush()
    _RECENT_FRAMES[run.id] = (key, frame)
    while len(_RECENT_FRAMES) > RECENT_FRAMES:
        _RECENT_FRAMES.popitem(last=False)
    return CachedResult(run, False)


__all__ = ["CachedResult", "HotspotRun", "cache_key", "canonical_json", "find_run", "frame_to_geojson",
           "frame_to_stored_text", "get_or_run", "run_by_id", "run_frame", "run_frame_for_display",
           "run_geojson_text"]

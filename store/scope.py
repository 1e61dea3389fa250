"""Whose records a user may read and change: the province, one district (2024 structure) or one commune.

District committees (BCĐ 138 huyện) keep their 2024 district's records; commune committees (BCĐ 138 xã/phường,
since 01/07/2025) have their commune of the set their account was created on. Because commune codes are reused
across the reform, a commune scope always names its boundary set as well as its code.
"""
from __future__ import annotations

from sqlalchemy import false, true

PROVINCE_ROLES = ("admin", "planner")
DISTRICT_ROLE = "district"
COMMUNE_ROLE = "commune"
LOCAL_ROLES = (DISTRICT_ROLE, COMMUNE_ROLE)


def is_local(actor) -> bool:
    return getattr(actor, "role", None) in LOCAL_ROLES


def owns(actor, *, district_code=None, commune_code=None, boundary_set_id=None) -> bool:
    """Whether a record of that unit belongs to a local committee ``actor``."""
    role = getattr(actor, "role", None)
    if role == DISTRICT_ROLE:
        return bool(district_code) and actor.district_code == district_code
    if role == COMMUNE_ROLE:
        return (bool(commune_code) and actor.commune_code == commune_code
                and boundary_set_id is not None and boundary_set_id == getattr(actor, "commune_set_id", None))
    return False


def may_edit_unit(actor, **unit) -> bool:
    """Province roles edit everywhere; a local committee only its own unit; other roles nowhere."""
    if getattr(actor, "role", None) in PROVINCE_ROLES:
        return True
    return owns(actor, **unit)


def may_view_unit(actor, **unit) -> bool:
    """Local committees read their own unit; province roles and border guards read all."""
    if is_local(actor):
        return owns(actor, **unit)
    return True


def scope_clause(actor, model):
    """SQL condition restricting ``model`` rows (with district_code, commune_code, boundary_set_id) to
    what ``actor`` may read."""
    role = getattr(actor, "role", None)
    if role == DISTRICT_ROLE:
        return model.district_code == actor.district_code
    if role == COMMUNE_ROLE:
        if not actor.commune_code or getattr(actor, "commune_set_id", None) is None:
            return false()
        return (model.commune_code == actor.commune_code) & (model.boundary_set_id == actor.commune_set_id)
    return true()


def unit_label(actor) -> tuple[str, str]:
    """``(huyện 869, district 869)`` / ``(xã 29929, commune 29929)`` / ``(toàn tỉnh, the whole province)``: a
    (vi, en) pair, worded in the reader's language by :class:`translations.Message`."""
    role = getattr(actor, "role", None)
    if role == DISTRICT_ROLE:
        return (f"huyện {actor.district_code}", f"district {actor.district_code}")
    if role == COMMUNE_ROLE:
        return (f"xã {actor.commune_code}", f"commune {actor.commune_code}")
    return ("toàn tỉnh", "the whole province")


def unit_outline(session, actor):
    """The polygon (EPSG:4326) of a local committee's own unit, in the set its unit belongs to: a district of
    the latest set with districts, a commune of the account's set; None for province-wide roles."""
    import shapely

    from store.boundaries import communes_frame, set_rows, version_of

    role = getattr(actor, "role", None)
    if role not in LOCAL_ROLES:
        return None
    rows = set_rows(session)
    if role == DISTRICT_ROLE:
        with_districts = [r for r in rows if version_of(r).has_districts]
        if not with_districts:
            return shapely.Polygon()
        communes = communes_frame(session, with_districts[-1].version)
        part = communes[communes["district_code"] == actor.district_code]
    else:
        own = next((r for r in rows if r.id == getattr(actor, "commune_set_id", None)), None)
        if own is None:
            return shapely.Polygon()
        communes = communes_frame(session, own.version)
        part = communes[communes["commune_code"] == actor.commune_code]
    return shapely.union_all(part.geometry.values) if len(part) else shapely.Polygon()


def own_cases(session, actor, frame):
    """The rows of ``frame`` a local committee may receive as cases (points, ids, dates): those whose point lies
    in its own unit, whatever set the frame is expressed in. Province-wide roles receive every row."""
    import numpy as np
    import shapely

    outline = unit_outline(session, actor)
    if outline is None or not len(frame):
        return frame
    lon = frame["lon"].to_numpy(dtype=float)
    lat = frame["lat"].to_numpy(dtype=float)
    finite = np.isfinite(lon) & np.isfinite(lat)
    inside = np.zeros(len(frame), dtype=bool)
    if finite.any() and not outline.is_empty:
        shapely.prepare(outline)
        inside[finite] = shapely.intersects_xy(outline, lon[finite], lat[finite])
    return frame[inside]

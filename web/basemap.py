"""The offline basemap: the PMTiles file named by ``BASEMAP_PMTILES``, answered with HTTP range requests.

The browser (``pmtiles``) reads a few hundred bytes of header and directory first, then each tile as one byte
range of the file, so an intranet needs this one file and no tile server. werkzeug answers ``Range`` with
206 Partial Content and ``If-Range``/ETag, so a file rebuilt in place is never mixed with the old one.
"""
from __future__ import annotations

from pathlib import Path

from flask import Blueprint, abort, current_app, send_file, url_for

from web import access
from web.access import allow

bp = Blueprint("basemap", __name__)


def basemap_path() -> Path | None:
    """The configured basemap file when it exists, else None (the maps then offer no offline basemap)."""
    configured = current_app.config.get("BASEMAP_PMTILES") or ""
    if not configured:
        return None
    path = Path(configured)
    if not path.is_absolute():
        path = Path(current_app.instance_path) / path
    return path if path.is_file() else None


def basemap_source():
    """A :class:`layers.basemap.BasemapSource` for the maps, or None when no basemap file is there."""
    from layers.basemap import BasemapSource

    path = basemap_path()
    if path is None:
        return None
    # The file's mtime in the URL: a rebuilt basemap is a new URL, never a cached mix of old and new ranges.
    return BasemapSource(url=url_for("basemap.archive", v=path.stat().st_mtime_ns),
                         script_url=url_for("static", filename="js/basemap.js"))


def basemap_key() -> tuple[str, str, str]:
    """Part of a cached map's key: the basemaps its script names — the configured tile server and its
    attribution, and the offline basemap file with its version."""
    path = basemap_path()
    return (current_app.config.get("TILE_URL") or "", current_app.config.get("TILE_ATTRIBUTION") or "",
            f"{path}:{path.stat().st_mtime_ns}" if path else "")


@bp.route("/basemap/basemap.pmtiles")
@allow(*access.EVERYONE)
def archive():
    path = basemap_path()
    if path is None:
        abort(404)
    response = send_file(path, mimetype="application/vnd.pmtiles", conditional=True, etag=True, max_age=3600)
    # Boundaries only, no police data: the browser may keep the ranges it read (web.security_headers
    # would otherwise mark every answer no-store).
    response.headers["Cache-Control"] = "private, max-age=3600"
    return response

"""Serves Leaflet, its plugins and chart libraries from ``node_modules`` (installed from npm at setup).

Maps must work on police intranets with no internet, so no page may load anything from a CDN. Only the
distribution folders listed here are reachable, never the rest of ``node_modules``.
"""
from __future__ import annotations

from pathlib import Path

from flask import Blueprint, abort, current_app, send_from_directory

from web import access
from web.access import allow

bp = Blueprint("vendor", __name__)

# package folder -> sub-folder that may be served
SERVED = {
    "leaflet": "dist",
    "leaflet.markercluster": "dist",
    "leaflet-draw": "dist",
    "chart.js": "dist",
    "jquery": "dist",
    "bootstrap": "dist",
    "@fortawesome/fontawesome-free": "",
    "leaflet.awesome-markers": "dist",
    "pmtiles": "dist",
    "protomaps-leaflet": "dist",
}


@bp.route("/vendor/<path:filename>")
@allow(access.PUBLIC)
def asset(filename: str):
    vendor_dir = Path(current_app.config["VENDOR_DIR"])
    parts = filename.split("/")
    # No "..", "." or hidden segment at all: a path that leaves its folder and comes back in elsewhere
    # (leaflet/dist/../../.package-lock.json) must not reach files outside the served folders.
    if any(part in ("", ".", "..") or part.startswith(".") for part in parts):
        abort(404)
    for package, sub in SERVED.items():
        prefix = f"{package}/" + (f"{sub}/" if sub else "")
        if not filename.startswith(prefix):
            continue
        rest = filename[len(prefix):]
        if package == "@fortawesome/fontawesome-free" and not rest.startswith(("css/", "webfonts/")):
            break
        # Served from the package's own folder, so even a resolved path cannot leave it.
        return send_from_directory(vendor_dir / prefix, rest, max_age=86400)
    abort(404)

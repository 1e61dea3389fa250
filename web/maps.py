"""Province overview map and the commune API."""
from __future__ import annotations

import json

from flask import Blueprint, jsonify, render_template

from store.boundaries import communes_frame
from web import access, db_session
from web.access import allow

bp = Blueprint("maps", __name__)


@bp.route("/")
@allow(*access.EVERYONE)
def overview():
    return render_template("overview.html")


@bp.route("/api/communes")
@allow(*access.EVERYONE)
def api_communes():
    """Communes of the active boundary set as GeoJSON (EPSG:4326)."""
    frame = communes_frame(db_session())
    columns = ["commune_code", "commune_name", "district_code", "district_name", "commune_type", "geometry"]
    return jsonify(json.loads(frame[columns].to_json(drop_id=True)))

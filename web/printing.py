"""The "In / Xuất bản đồ" answers of the map pages: the page's own folium map on an A4 sheet (PDF or PNG).

Each map page builds its map exactly as for the screen and passes it here with what the sheet says (title,
period, boundary set, filters); :func:`reports.print_map.print_map` draws it on the server.
"""
from __future__ import annotations

import re
import unicodedata
from datetime import datetime
from zoneinfo import ZoneInfo

from flask import abort, make_response
from flask_login import current_user

from reports.print_map import FORMATS, PrintSheet, print_map
from web import VIETNAM_TIME
from web.i18n import current_language, t

MIME_TYPES = {"pdf": "application/pdf", "png": "image/png"}


def check_format(fmt: str) -> str:
    """``pdf`` or ``png``; anything else is a 404 (the URL names no such file)."""
    if fmt not in FORMATS:
        abort(404)
    return fmt


def sheet(title: str, lines, *, demo: bool, sources=()) -> PrintSheet:
    """A sheet for the signed-in viewer: data-through date, print time (Vietnam time) and language filled in."""
    from web.periods import data_through

    return PrintSheet(title=title, lines=[line for line in lines if line], data_through=data_through(), demo=demo,
                      sources=[t("print.source_boundaries"), *sources], lang=current_language(),
                      printed_at=datetime.now(ZoneInfo(VIETNAM_TIME)).replace(tzinfo=None),
                      printed_by=current_user.username if current_user.is_authenticated else "")


def _slug(text: str) -> str:
    plain = unicodedata.normalize("NFKD", text.replace("đ", "d").replace("Đ", "D")).encode("ascii", "ignore").decode()
    return re.sub(r"[^A-Za-z0-9]+", "-", plain).strip("-").lower()[:60] or "ban-do"


def print_response(m, printed: PrintSheet, fmt: str, name: str):
    """The sheet as a download named ``ban-do-<name>-<date>.<fmt>``."""
    body = print_map(m, printed, fmt)
    response = make_response(body)
    response.mimetype = MIME_TYPES[fmt]
    day = printed.printed_at.strftime("%Y-%m-%d") if printed.printed_at else ""
    response.headers["Content-Disposition"] = f'attachment; filename="ban-do-{_slug(name)}-{day}.{fmt}"'
    return response

"""Words the map layers show, in Vietnamese and English, and number formatting for each language.

layers/ has no Flask (so no request language): callers pass ``lang``.
"""
from __future__ import annotations

import html
import math

LANGS = ("vi", "en")

MESSAGES: dict[str, tuple[str, str]] = {
    "incidents": ("Số vụ", "Incidents"),
    "rate_per_10k": ("Tỷ lệ /10.000 dân", "Rate per 10,000 residents"),
    "population": ("Dân số", "Population"),
    "no_population": ("không có số dân", "no population figure"),
    "commune_code": ("Mã xã", "Commune code"),
    "legend_count": ("Số vụ việc theo xã", "Incidents per commune"),
    "legend_rate": ("Số vụ trên 10.000 dân", "Incidents per 10,000 residents"),
    "population_note": ("Dân số: Tổng điều tra dân số {year}", "Population: {year} census"),
    "illustrative": ("Dữ liệu minh họa — không phải số liệu thật", "Illustrative data — not real records"),
    "layer_communes": ("Xã/phường/thị trấn", "Communes"),
    "layer_districts": ("Ranh giới huyện/thành phố", "District boundaries"),
    "layer_points": ("Vị trí vụ việc", "Incident locations"),
    "points_capped": (
        "{total} vụ vượt giới hạn {cap} điểm: chỉ hiển thị tổng theo xã",
        "{total} incidents exceed the {cap}-point limit: commune totals only",
    ),
    "points_redacted": (
        "{n} vụ bảo mật không hiển thị vị trí (vẫn tính vào tổng của xã)",
        "{n} confidential incidents have no point shown (still counted in commune totals)",
    ),
    "points_shown": ("{n} điểm vụ việc (gom cụm)", "{n} incident points (clustered)"),
    "popup_id": ("Mã vụ", "Case id"),
    "popup_date": ("Ngày xảy ra", "Date"),
    "popup_category": ("Loại", "Category"),
    "popup_severity": ("Mức độ", "Severity"),
    "popup_status": ("Tình trạng", "Status"),
    "popup_commune": ("Xã", "Commune"),
}


def choose(pair: tuple[str, str], lang: str = "vi") -> str:
    """The ``lang`` wording of a ``(vi, en)`` pair; every layer module words its maps through this."""
    if lang not in LANGS:
        raise ValueError(f"lang {lang!r} is not one of: {', '.join(LANGS)}")
    vi, en = pair
    return en if lang == "en" else vi


def escape(value) -> str:
    """HTML-escaped text of a value for popups and tooltips (``None`` → empty)."""
    return html.escape("" if value is None else str(value))


def text(key: str, lang: str = "vi") -> str:
    return choose(MESSAGES[key], lang)


def format_number(value, lang: str = "vi", decimals: int = 0) -> str:
    """``12345.6`` → ``12.345,6`` in Vietnamese, ``12,345.6`` in English; NaN → ``–``."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "–"
    formatted = f"{float(value):,.{decimals}f}"
    if lang == "vi":
        formatted = formatted.replace(",", "\0").replace(".", ",").replace("\0", ".")
    return formatted

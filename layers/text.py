"""Words the map layers show, in Vietnamese and English, and number formatting for each language.

layers/ has no Flask (so no request language): callers pass ``lang``.
"""
from __future__ import annotations

import html

import translations
from translations import CatalogTable

LANGS = ("vi", "en")

MESSAGES = CatalogTable("layers.text")


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
    """``12345.6`` → ``12.345,6`` in Vietnamese, ``12,345.6`` in English (Babel's vi_VN / en); NaN → ``–``."""
    return translations.format_number(value, lang, decimals)


def format_numbers(values, lang: str = "vi", decimals: int = 0) -> list[str]:
    """:func:`format_number` of each of ``values`` (the same text, a fraction of the time)."""
    return translations.format_numbers(values, lang, decimals)

"""Vietnamese-first interface text with an English switch, from the gettext catalogs in ``translations/``.

The language comes from ``?lang=vi|en`` (remembered in the session), else ``BANDO_DEFAULT_LANGUAGE`` (``vi``);
Flask-Babel is told the same (:func:`init_app`), so its ``gettext`` and formatting helpers agree with :func:`t`.

How to add or change a string
-----------------------------
1. In code call ``t("area.what", name=value)`` (web), or ``translate("area.what", lang, name=value)`` from
   ``translations`` (layers/, cli/, reports/, store/: no Flask, the caller passes ``lang``). Templates call
   ``{{ t('area.what', name=value) }}``. Placeholders are ``str.format`` fields: ``{name}``, ``{n}``.
2. Add the key to both catalogs, ``translations/vi/LC_MESSAGES/messages.po`` and
   ``translations/en/LC_MESSAGES/messages.po``::

       msgid "area.what"
       msgstr "Văn bản tiếng Việt {name}"

   The ``.po`` files are sorted by key; keep it so (``scripts/i18n_dicts_to_po.py`` rewrites them sorted).
   Nothing to compile by hand: ``make setup`` runs ``pybabel compile`` and the app compiles a missing or stale
   ``.mo`` on start (``.mo`` files are never committed).
3. ``tests/test_i18n.py`` fails on a key used in code or a template without a wording in both catalogs, on
   placeholders that differ between them, and on an ``add_messages`` call left in the code.

A branch written before the catalogs may still call ``add_messages({key: (vi, en)})``: it works at run time,
and ``.venv/bin/python scripts/i18n_dicts_to_po.py`` moves such dictionaries into the catalogs and deletes them
from the modules (idempotent; re-run it after merging such a branch).

Numbers and dates go through Babel: :func:`format_number` (vi_VN ``1.234,5``, en ``1,234.5``) and
:func:`format_date` (``dd/mm/yyyy``).
"""
from __future__ import annotations

from flask import current_app, g, has_request_context, request, session
from flask_babel import Babel

import translations
from translations import LANGUAGES

#: Strings registered at run time by code not yet migrated to the catalogs (see the module docstring).
_PENDING: dict[str, tuple[str, str]] = {}


def add_messages(messages: dict[str, tuple[str, str]]) -> None:
    """Transitional: register ``{key: (vi, en)}`` until ``scripts/i18n_dicts_to_po.py`` moves them to the catalogs."""
    for key, pair in messages.items():
        if key in _PENDING and _PENDING[key] != pair:
            raise ValueError(f"interface text {key!r} is registered twice with different wording")
        _PENDING[key] = pair


def init_app(app) -> None:
    """Flask-Babel with this module's language choice and the project's catalogs."""
    translations.ensure_compiled()
    app.config.setdefault("BABEL_DEFAULT_LOCALE", app.config.get("DEFAULT_LANGUAGE", "vi"))
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = str(translations.CATALOG_DIR)
    app.config["BABEL_DOMAIN"] = translations.DOMAIN
    Babel(app, locale_selector=current_language)


def current_language() -> str:
    if not has_request_context():
        return current_app.config.get("DEFAULT_LANGUAGE", "vi")
    # Asked some 300 times by one map page (every label, number and popup): decided once per request.
    decided = g.get("interface_language")
    if decided is not None:
        return decided
    g.interface_language = _requested_language()
    return g.interface_language


def _requested_language() -> str:
    asked = request.args.get("lang")
    if asked in LANGUAGES:
        session["lang"] = asked
        return asked
    lang = session.get("lang")
    return lang if lang in LANGUAGES else current_app.config.get("DEFAULT_LANGUAGE", "vi")


def t(key: str, **values) -> str:
    """Translate ``key`` into the current language; unknown keys show themselves so gaps are visible."""
    lang = current_language()
    if key in _PENDING and not translations.has_message(key, lang):
        text = _PENDING[key][1 if lang == "en" else 0]
        return text.format(**values) if values else text
    return translations.translate(key, lang, **values)


def pick(pair) -> str:
    """Choose from a ``(vi, en)`` pair, as kept in ``geo.taxonomy`` and ``web.access``."""
    return pair[1] if current_language() == "en" else pair[0]


def format_number(value, decimals: int = 0) -> str:
    """A number in the current language's Babel format (vi_VN ``1.234,5``, en ``1,234.5``)."""
    return translations.format_number(value, current_language(), decimals)


def format_date(value) -> str:
    """A date as dd/mm/yyyy (Babel), ``–`` when missing."""
    return translations.format_date(value, current_language())


def date_span(start, end) -> str:
    """``dd/mm/yyyy–dd/mm/yyyy`` in the page's language (Babel)."""
    return translations.format_date_span(start, end, current_language())


def error_text(error: Exception) -> str:
    """A refused input's text in the page's language (its own string when it carries no message)."""
    text = getattr(error, "text", None)
    return text(current_language()) if callable(text) else str(error)

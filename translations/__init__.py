"""The interface text catalogs (gettext ``.po``, one per language) and the Flask-free way to read them.

``translations/<lang>/LC_MESSAGES/messages.po`` holds every user-facing string: the message id is a dotted key
(``"nav.overview"``), the ``msgstr`` the wording, with ``{name}`` placeholders filled by ``str.format``.
layers/, cli/, reports/ and store/ have no request, so they pass ``lang`` and call :func:`translate`;
``web.i18n`` wraps the same catalogs with Flask-Babel's request locale.

Compiled ``.mo`` files are build products (not committed): ``make setup`` runs ``pybabel compile``, and
:func:`translations_for` compiles a missing or stale one from its ``.po`` on first use (in memory when the
installed package is read-only), so a clean clone or a ``pip install .`` works without a build step.
"""
from __future__ import annotations

import datetime as _dt
import decimal as _decimal
import io
import math
import numbers
import os
import string
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from babel import Locale
    from babel.support import Translations

# Babel is imported by the functions that use it: geo's errors are TranslatableErrors, and a command-line
# statistic that raises none would otherwise pay for loading Babel's CLDR modules (a tenth of its start-up).

CATALOG_DIR = Path(__file__).resolve().parent
DOMAIN = "messages"
LANGUAGES = ("vi", "en")
#: The Babel (CLDR) locale each interface language formats numbers with: vi_VN 1.234,5 — en 1,234.5.
LOCALES = {"vi": "vi_VN", "en": "en"}
#: Dates as the province's documents write them (dd/mm/yyyy), in both languages so an English reader and a
#: Vietnamese one read the same day; CLDR's own short patterns (vi ``d/M/yy``, en ``M/d/yy``) are ambiguous.
DATE_PATTERNS = {"vi": "dd/MM/yyyy", "en": "dd/MM/yyyy"}
DATETIME_PATTERNS = {"vi": "dd/MM/yyyy HH:mm", "en": "dd/MM/yyyy HH:mm"}
MISSING = "–"


def check_language(lang: str) -> str:
    if lang not in LANGUAGES:
        raise ValueError(f"lang {lang!r} is not one of: {', '.join(LANGUAGES)}")
    return lang


def po_path(lang: str, root: Path = CATALOG_DIR) -> Path:
    return root / lang / "LC_MESSAGES" / f"{DOMAIN}.po"


def compile_catalog(lang: str, root: Path = CATALOG_DIR) -> bytes:
    """The ``.mo`` bytes of one language's ``.po`` (what ``pybabel compile`` writes)."""
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    with po_path(lang, root).open("rb") as handle:
        catalog = read_po(handle, locale=lang, domain=DOMAIN)
    buffer = io.BytesIO()
    write_mo(buffer, catalog, use_fuzzy=False)
    return buffer.getvalue()


def ensure_compiled(root: Path = CATALOG_DIR) -> None:
    """Write each ``.mo`` that is missing or older than its ``.po`` (atomically: readers never see half a file).

    A read-only install is left as it is; :func:`translations_for` then compiles in memory.
    """
    for lang in LANGUAGES:
        po = po_path(lang, root)
        mo = po.with_suffix(".mo")
        if mo.exists() and mo.stat().st_mtime >= po.stat().st_mtime:
            continue
        data = compile_catalog(lang, root)
        try:
            handle, temporary = tempfile.mkstemp(dir=mo.parent, suffix=".mo.tmp")
            with os.fdopen(handle, "wb") as out:
                out.write(data)
            os.replace(temporary, mo)
        except OSError:
            continue


@lru_cache(maxsize=None)
def translations_for(lang: str) -> Translations:
    """The compiled catalog of ``lang`` (cached for the process)."""
    from babel.support import Translations

    check_language(lang)
    ensure_compiled()
    mo = po_path(lang).with_suffix(".mo")
    if mo.exists() and mo.stat().st_mtime >= po_path(lang).stat().st_mtime:
        with mo.open("rb") as handle:
            return Translations(handle, domain=DOMAIN)
    return Translations(io.BytesIO(compile_catalog(lang)), domain=DOMAIN)


def translate(key: str, lang: str = "vi", **values) -> str:
    """The ``lang`` wording of message ``key`` with ``values`` filled in; an untranslated key shows itself."""
    text = translations_for(check_language(lang)).gettext(key)
    return text.format(**values) if values else text


def has_message(key: str, lang: str) -> bool:
    return translations_for(check_language(lang)).gettext(key) != key


def locale_of(lang: str) -> Locale:
    from babel import Locale

    return Locale.parse(LOCALES[check_language(lang)])


def format_number(value, lang: str = "vi", decimals: int = 0, *, trim: bool = False) -> str:
    """``12345.6`` → ``12.345,6`` (vi_VN) or ``12,345.6`` (en) through Babel, ``decimals`` fixed (at most
    ``decimals`` with ``trim``: 47.963 km, 5 km); NaN/None → ``–``."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return MISSING
    if isinstance(value, float) and value == 0.0 and math.copysign(1.0, value) < 0:
        # -0.0 == 0.0 shares the memo's key but not Babel's text ("-0"): the first one formatted would win.
        return _formatted_number.__wrapped__(value, check_language(lang), decimals, trim)
    try:
        return _formatted_number(value, check_language(lang), decimals, trim)
    except TypeError:  # an unhashable number type: formatted without the memo
        return _formatted_number.__wrapped__(value, check_language(lang), decimals, trim)


# A map page formats some 15,000 numbers, mostly the same small counts: Babel parses the pattern and builds a
# Decimal for each (about 55 µs), so the results are memoised (values equal in Python format alike: 3 and 3.0).
@lru_cache(maxsize=65536)
def _formatted_number(value, lang: str, decimals: int, trim: bool) -> str:
    from babel.numbers import format_decimal

    pattern = "#,##0" + ("." + ("#" if trim else "0") * decimals if decimals > 0 else "")
    return format_decimal(value, format=pattern, locale=LOCALES[lang], decimal_quantization=True,
                          group_separator=True)


def format_numbers(values, lang: str = "vi", decimals: int = 0) -> list[str]:
    """:func:`format_number` of many values at once, with the same text.

    A map's popups carry tens of thousands of figures; Babel parses its pattern and looks up the locale
    for every call. Here the locale's symbols are looked up once and each value is rounded as Babel
    rounds it (the shortest decimal form of the float, ``str(value)``, quantised half to even by
    :mod:`decimal`), grouped by :func:`format` and given the locale's group, decimal and minus signs.
    """
    from babel import Locale

    symbols = Locale.parse(LOCALES[check_language(lang)]).number_symbols["latn"]
    signs = str.maketrans({",": symbols["group"], ".": symbols["decimal"], "-": symbols["minusSign"]})
    quantum = _decimal.Decimal(1).scaleb(-int(decimals)) if decimals > 0 else _decimal.Decimal(1)
    texts = []
    for value in values:
        value = value.item() if hasattr(value, "item") else value  # numpy scalars as Python numbers
        if value is None or (isinstance(value, float) and not math.isfinite(value)):
            texts.append(MISSING)
            continue
        rounded = _decimal.Decimal(str(value)).quantize(quantum, rounding=_decimal.ROUND_HALF_EVEN)
        texts.append(format(rounded, ",f").translate(signs))
    return texts


def format_date(value, lang: str = "vi") -> str:
    """A date as dd/mm/yyyy through Babel (``None`` → ``–``); a datetime shows its date."""
    if value is None:
        return MISSING
    if isinstance(value, str):
        value = _dt.date.fromisoformat(value[:10])
    from babel.dates import format_date as babel_format_date

    return babel_format_date(value, DATE_PATTERNS[check_language(lang)], locale=LOCALES[lang])


def month_names(month: int) -> tuple[str, str]:
    """The (vi, en) stand-alone wide CLDR name of ``month`` through Babel: ``("Tháng 3", "March")``."""
    from babel.dates import get_month_names

    if not (isinstance(month, numbers.Integral) and 1 <= month <= 12):
        raise ValueError(f"month {month!r} is not one of 1 … 12")
    return tuple(get_month_names("wide", "stand-alone", LOCALES[lang])[int(month)] for lang in LANGUAGES)


def format_datetime(value, lang: str = "vi", *, seconds: bool = False) -> str:
    """A date and time as dd/mm/yyyy HH:mm (``:ss`` with ``seconds``; the wall-clock time it holds, no
    time-zone shift)."""
    if value is None:
        return MISSING
    from babel.dates import format_datetime as babel_format_datetime

    pattern = DATETIME_PATTERNS[check_language(lang)] + (":ss" if seconds else "")
    return babel_format_datetime(value, pattern, tzinfo=None, locale=LOCALES[lang])


def format_date_span(start, end, lang: str = "vi") -> str:
    """``01/12/2023–29/02/2024``: two :func:`format_date` joined by an en dash (the plan's way of writing a span)."""
    return f"{format_date(start, lang)}–{format_date(end, lang)}"


@dataclass(frozen=True)
class Message:
    """A message id with its parameters, worded only when shown, in the reader's language.

    What geo/ and store/ return for people to read (target notes, refused values) is a ``Message``, so a page
    in English and a report in Vietnamese word the same fact each in its language. Dates among the
    parameters are written dd/mm/yyyy, floats with one decimal in the language's format, a nested
    ``Message`` (a distance with its unit) in the same language, a ``(vi, en)`` pair as its half; other
    values as given. ``as_json`` and
    :meth:`from_json` keep one with a stored report (dates as ISO strings then).
    """

    key: str
    params: dict = field(default_factory=dict)

    def text(self, lang: str = "vi") -> str:
        wording = translations_for(check_language(lang)).gettext(self.key)
        return LocaleFormatter(lang).format(wording, **self.params) if self.params else wording

    def as_json(self) -> dict:
        return {"key": self.key, "params": {name: _json_value(value) for name, value in self.params.items()}}

    @classmethod
    def from_json(cls, data) -> Message | None:
        if not isinstance(data, dict) or not isinstance(data.get("key"), str):
            return None
        return cls(data["key"], {name: _from_json_value(value) for name, value in (data.get("params") or {}).items()})

    def __str__(self) -> str:
        return self.text("vi")


def _json_value(value):
    if isinstance(value, Message):
        return value.as_json()
    if isinstance(value, _dt.date):
        return {"date": value.isoformat()[:10]}
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        return int(value)
    if isinstance(value, numbers.Real) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, tuple) and len(value) == 2 and all(isinstance(v, str) for v in value):
        return {"vi": value[0], "en": value[1]}  # a (vi, en) label pair
    if value is None or isinstance(value, (str, bool, list, dict)):
        return value
    return str(value)  # an exception, a path, a CRS: what the reader sees of it is its text


def _from_json_value(value):
    if isinstance(value, dict) and isinstance(value.get("date"), str):
        return _dt.date.fromisoformat(value["date"])
    if isinstance(value, dict) and set(value) == {"vi", "en"}:
        return (value["vi"], value["en"])
    if isinstance(value, dict):
        return Message.from_json(value)
    return value


def _worded(value, lang: str):
    if isinstance(value, Message):
        return value.text(lang)
    if isinstance(value, tuple) and len(value) == 2 and all(isinstance(v, str) for v in value):
        return value[1] if lang == "en" else value[0]  # a (vi, en) label pair, as geo.taxonomy keeps them
    if isinstance(value, _dt.date):
        return format_date(value, lang)
    if isinstance(value, float):
        return format_number(value, lang, 1)
    return value


def localized_digits(text: str, lang: str) -> str:
    """Python's ``1,234.5`` rewritten with the language's CLDR decimal and group symbols (vi_VN ``1.234,5``)."""
    symbols = locale_of(lang).number_symbols["latn"]
    return text.translate(str.maketrans({".": symbols["decimal"], ",": symbols["group"]}))


class LocaleFormatter(string.Formatter):
    """``str.format`` whose numbers and dates follow the reader's language.

    A format spec keeps Python's meaning (``{n:,}``, ``{x:.1f}``, ``{x:g}``) and the result takes the CLDR
    symbols of ``lang`` (``1.234,5`` in vi_VN, ``1,234.5`` in en); ``{x:n}`` is "the number as Python writes
    it" (an integer plain, a float in its shortest round-trip form) in those symbols, and any other value as its
    ``str``. A date with a ``%`` spec (or none) is written dd/mm/yyyy by :func:`format_date`; with no spec a float
    has one decimal and a ``Message`` or ``(vi, en)`` pair is worded in ``lang``, as :class:`Message` always did.
    """

    def __init__(self, lang: str):
        self.lang = check_language(lang)

    def format_field(self, value, format_spec: str) -> str:
        if isinstance(value, (Message, TranslatableError)):  # a nested message, or a refusal given as the cause
            return format(value.text(self.lang), format_spec if format_spec != "n" else "")
        if isinstance(value, _dt.date) and (not format_spec or format_spec.startswith("%") or format_spec == "n"):
            with_time = isinstance(value, _dt.datetime) and "%H" in format_spec
            return format_datetime(value, self.lang) if with_time else format_date(value, self.lang)
        if isinstance(value, numbers.Real) and not isinstance(value, bool):
            if format_spec == "n":
                if isinstance(value, numbers.Integral) or not math.isfinite(value):
                    return str(int(value)) if isinstance(value, numbers.Integral) else str(float(value))
                return localized_digits(repr(float(value)), self.lang)
            if format_spec:
                return localized_digits(format(value, format_spec), self.lang)
        if format_spec == "n":
            return str(_worded(value, self.lang))
        return format(_worded(value, self.lang), format_spec)


def message(key: str, /, **params) -> Message:
    return Message(key, params)


def join_messages(messages, lang: str = "vi", separator: str = "; ") -> str:
    """Messages (or plain strings, kept as they are) worded in ``lang`` and joined."""
    return separator.join(m.text(lang) if isinstance(m, Message) else str(m) for m in messages if m)


class TranslatableError(ValueError):
    """A refused input whose text keeps its parameters: raise it with a :class:`Message`.

    ``str(error)`` is its wording in :attr:`plain_language` (English for the spatial core's errors: logs, the
    command line; Vietnamese for the tracker's); :meth:`text` words it for a reader (``web.i18n.error_text``
    uses the page's language). Raised with a plain string it stays that string.
    """

    plain_language = "en"

    def __init__(self, text: str | Message = "", *args):
        self.message = text if isinstance(text, Message) else None
        super().__init__(text.text(self.plain_language) if isinstance(text, Message) else text, *args)

    def text(self, lang: str = "vi") -> str:
        return self.message.text(lang) if self.message is not None else str(self)


class CatalogTable(Mapping):
    """``{key: (vi, en)}`` read from the catalogs' messages ``<prefix>.<key>``: what a module's word table became.

    ``scripts/i18n_dicts_to_po.py`` moves a literal table such as ``WORDS = {"legend": ("Chú giải", "Legend")}``
    into the catalogs and leaves ``WORDS = CatalogTable("layers.hotspots")``, so ``choose(WORDS[key], lang)``
    keeps working. The wordings are raw (``{name}`` placeholders unfilled), as the literal table held them.
    """

    def __init__(self, prefix: str):
        self.prefix = prefix

    def __getitem__(self, key: str) -> tuple[str, str]:
        full = f"{self.prefix}.{key}"
        if not all(has_message(full, lang) for lang in LANGUAGES):
            raise KeyError(key)
        return tuple(translations_for(lang).gettext(full) for lang in LANGUAGES)

    def __iter__(self):
        start = self.prefix + "."
        keys = translations_for("vi")._catalog  # GNUTranslations keeps msgid → msgstr here
        return iter(sorted(k[len(start):] for k in keys if isinstance(k, str) and k.startswith(start)))

    def __len__(self) -> int:
        return sum(1 for _ in self)

    def __repr__(self) -> str:
        return f"CatalogTable({self.prefix!r})"

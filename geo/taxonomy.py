"""The tracker's glossary in code: incident categories, severities and case statuses.

Each domain term has one English snake_case code (stored in the database and used in URLs) and a
Vietnamese label with diacritics (shown to users), plus an English label for the English switch.
Parsers accept the code, the Vietnamese label (with or without diacritics, any case, extra spaces)
and the English label, so files typed by hand in either language import unchanged.

Notes
-----
*Social-order crimes* (tội phạm về trật tự xã hội, TTXH) are what the 2024 plan's "at least 5% fewer
than 2023" target counts. The Penal Code has no chapter of that name; it is the police statistics
grouping. We follow the grouping used in Vietnamese police reports, which list separately the economic
and corruption crimes, drug crimes, environmental crimes and smuggling, and count in TTXH the crimes
against life, health and dignity (Penal Code ch. XIV), against property (ch. XVI: robbery, snatching,
theft, fraud — including fraud committed online, which most provincial reports count in TTXH and
mention again as "high-tech"), usury (Art. 201), gambling (Arts. 321–322), public disorder (Art. 318)
and human trafficking (Arts. 150–151). Illegal border crossing (Arts. 347–349) is counted with the
border-corridor categories, not TTXH. The set is :data:`SOCIAL_ORDER_CATEGORIES`; change it there and
only there.

*Border-corridor categories* (:data:`BORDER_CORRIDOR_CATEGORIES`) are those the Prey Veng border
corridor analysis looks at: smuggling, drugs, illegal border crossing and human trafficking.

Human trafficking records are sensitive by default (victim data is confidential): an incident of that
category without an explicit flag is stored with ``sensitive=True``.
"""
from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field

from geo.errors import GeoInputError
from geo.offences import OFFENCE_NAMES, strip_crime_word
from translations import CatalogTable, message, translate


class _Worded:
    """Labels read from the catalogs (``<kind>.<code>``, e.g. ``category.theft``): the code is what geo keeps."""

    kind = ""

    def label(self, lang: str = "vi") -> str:
        return translate(f"{self.kind}.{self.code}", lang)

    @property
    def label_vi(self) -> str:
        return self.label("vi")

    @property
    def label_en(self) -> str:
        return self.label("en")


@dataclass(frozen=True)
class Category(_Worded):
    """One incident category; ``aliases`` are extra accepted spellings (Vietnamese or English)."""

    kind = "category"
    code: str
    group: str
    social_order: bool = False
    border_corridor: bool = False
    sensitive_default: bool = False
    aliases: tuple[str, ...] = field(default_factory=tuple)


@dataclass(frozen=True)
class Severity(_Worded):
    """A class of Penal Code Art. 9, decided by the maximum penalty of the clause charged."""

    kind = "severity"
    code: str
    rank: int
    aliases: tuple[str, ...] = field(default_factory=tuple)

    @property
    def max_penalty_vi(self) -> str:
        return translate(f"severity.max_penalty.{self.code}", "vi")

    @property
    def max_penalty_en(self) -> str:
        return translate(f"severity.max_penalty.{self.code}", "en")


@dataclass(frozen=True)
class CaseStatus(_Worded):
    """Stage a case has reached; ``cleared`` is True when the stage implies the case was solved."""

    kind = "case_status"
    code: str
    rank: int
    cleared: bool
    aliases: tuple[str, ...] = field(default_factory=tuple)


#: Groups used to order and colour categories; code -> (Vietnamese, English).
GROUPS: Mapping[str, tuple[str, str]] = CatalogTable("category_group")

_CATEGORY_LIST = (
    Category("homicide", "person", social_order=True,
             aliases=("giet nguoi", "murder")),
    Category("assault", "person", social_order=True,
             aliases=("cố ý gây thương tích hoặc gây tổn hại cho sức khỏe của người khác",
                      "gây thương tích")),
    Category("sexual_offence", "person", social_order=True,
             aliases=("hiếp dâm", "dâm ô", "sexual offense", "sexual assault", "rape")),
    Category("robbery", "property", social_order=True,
             aliases=("cướp",)),
    Category("snatch_theft", "property", social_order=True,
             aliases=("cướp giật", "snatching", "bag snatching")),
    Category("theft", "property", social_order=True,
             aliases=("trộm cắp", "trộm")),
    Category("fraud", "property", social_order=True,
             aliases=("lừa đảo",)),
    Category("hightech_fraud", "property", social_order=True,
             aliases=("lừa đảo qua mạng", "high tech fraud", "online fraud", "cyber fraud")),
    Category("loan_sharking", "property", social_order=True,
             aliases=("cho vay lãi nặng", "tín dụng đen / cho vay lãi nặng",
                      "cho vay lãi nặng trong giao dịch dân sự", "usury")),
    Category("gambling", "public_order", social_order=True,
             aliases=("đánh bạc", "tổ chức đánh bạc", "tổ chức đánh bạc hoặc gá bạc")),
    Category("public_disorder", "public_order",
             social_order=True, aliases=("gây rối", "disorderly conduct")),
    Category("drugs", "drugs", border_corridor=True,
             aliases=("tội phạm về ma túy", "drug offence", "drug offense", "narcotics")),
    Category("human_trafficking", "person", social_order=True,
             border_corridor=True, sensitive_default=True,
             aliases=("mua bán người dưới 16 tuổi", "trafficking in persons", "trafficking")),
    Category("smuggling", "border", border_corridor=True,
             aliases=("vận chuyển hàng cấm", "vận chuyển trái phép hàng hóa qua biên giới")),
    Category("illegal_border_crossing", "border",
             border_corridor=True,
             aliases=("xuất cảnh, nhập cảnh trái phép", "xuất nhập cảnh trái phép",
                      "tổ chức, môi giới cho người khác xuất cảnh, nhập cảnh trái phép",
                      "vượt biên trái phép", "illegal crossing")),
    Category("corruption_economic", "economic",
             aliases=("tham nhũng", "kinh tế", "tội phạm kinh tế", "corruption", "economic crime",
                      "corruption/economic")),
    Category("environment", "environment",
             aliases=("tội phạm về môi trường", "environmental crime")),
)

#: Ordered mapping code -> :class:`Category` (the order is the display order).
CATEGORIES: dict[str, Category] = {c.code: c for c in _CATEGORY_LIST}

#: Categories counted by the "≥5% fewer social-order crimes" target (see the module Notes).
SOCIAL_ORDER_CATEGORIES: frozenset[str] = frozenset(c.code for c in _CATEGORY_LIST if c.social_order)

#: Categories analysed along the Prey Veng border corridor.
BORDER_CORRIDOR_CATEGORIES: frozenset[str] = frozenset(
    c.code for c in _CATEGORY_LIST if c.border_corridor)

#: Named sets a user can pick as one category filter: key -> ((label vi, label en), codes).
CATEGORY_SETS: dict[str, tuple[tuple[str, str], frozenset[str]]] = {
    "social_order": (CatalogTable("category_set")["social_order"], SOCIAL_ORDER_CATEGORIES),
    "border_corridor": (CatalogTable("category_set")["border_corridor"], BORDER_CORRIDOR_CATEGORIES),
}

#: Categories whose incidents are sensitive (confidential) unless the source says otherwise.
SENSITIVE_BY_DEFAULT: frozenset[str] = frozenset(c.code for c in _CATEGORY_LIST if c.sensitive_default)

_SEVERITY_LIST = (
    Severity("less_serious", 1,
             aliases=("it nghiem trong",)),
    Severity("serious", 2,
             ),
    Severity("very_serious", 3,
             ),
    Severity("especially_serious", 4,
             aliases=("particularly serious", "extremely serious")),
)

#: Ordered mapping code -> :class:`Severity` (Penal Code 100/2015/QH13, Art. 9).
SEVERITIES: dict[str, Severity] = {s.code: s for s in _SEVERITY_LIST}

#: Severities whose clearance has its own target (above 90%).
GRAVE_SEVERITIES: frozenset[str] = frozenset({"very_serious", "especially_serious"})

_CASE_STATUS_LIST = (
    CaseStatus("received", 1, False,
               aliases=("tiếp nhận tin báo", "đã tiếp nhận", "reported")),
    CaseStatus("prosecuted", 2, False,
               aliases=("đã khởi tố", "khởi tố vụ án", "charged")),
    CaseStatus("cleared", 3, True,
               aliases=("điều tra làm rõ", "điều tra khám phá", "đã khám phá", "làm rõ", "solved")),
    CaseStatus("suspended", 3, False,
               aliases=("tạm đình chỉ điều tra", "đình chỉ tạm thời")),
    CaseStatus("indicted", 4, True,
               aliases=("đã truy tố",)),
    CaseStatus("tried", 5, True,
               aliases=("đã xét xử", "adjudicated")),
)

#: Ordered mapping code -> :class:`CaseStatus`.
CASE_STATUSES: dict[str, CaseStatus] = {s.code: s for s in _CASE_STATUS_LIST}

#: Statuses that count as cleared (khám phá) for the clearance rate: a case indicted or tried was solved.
CLEARED_STATUSES: frozenset[str] = frozenset(s.code for s in _CASE_STATUS_LIST if s.cleared)

_KINDS = {"category": CATEGORIES, "severity": SEVERITIES, "case_status": CASE_STATUSES}

_NON_WORD = re.compile(r"[^0-9a-z]+")


def normalise_term(value) -> str:
    """Fold a label to a comparison key: no diacritics, lower case, ``đ``→``d``, words single-spaced.

    ``"  Lừa đảo  CÔNG nghệ cao "``, ``"lua dao cong nghe cao"`` and ``"lua_dao-cong nghe cao"`` all
    give ``"lua dao cong nghe cao"``. Unicode NFD decomposition removes tone marks whichever way they
    were composed (``"thuý"``/``"thúy"``).
    """
    text = str(value).replace("đ", "d").replace("Đ", "D")
    text = unicodedata.normalize("NFD", text)
    text = "".join(ch for ch in text if not unicodedata.combining(ch)).lower()
    return _NON_WORD.sub(" ", text).strip()


def _build_lookup(entries, extra_names=None) -> dict[str, str]:
    lookup: dict[str, str] = {}
    for entry in entries.values():
        extra = (extra_names or {}).get(entry.code, ())
        for spelling in (entry.code, entry.label_vi, entry.label_en, *entry.aliases, *extra):
            key = normalise_term(spelling)
            previous = lookup.setdefault(key, entry.code)
            if previous != entry.code:
                raise AssertionError(f"glossary spelling {spelling!r} names both {previous} and {entry.code}")
    return lookup


# Categories also accept the offence names clerks write (geo.offences: colloquial names, Penal Code article
# titles, report abbreviations); a leading "tội" is ignored when looking a category up.
_LOOKUPS = {kind: _build_lookup(entries, OFFENCE_NAMES if kind == "category" else None)
            for kind, entries in _KINDS.items()}


def lookup_table(kind: str) -> dict[str, str]:
    """Return the normalised-spelling -> code table for ``kind`` (for vectorised parsing of columns)."""
    _check_kind(kind)
    return _LOOKUPS[kind]


def _check_kind(kind):
    if kind not in _KINDS:
        raise GeoInputError(message("geo.taxonomy.kind_one", kind=kind, kinds=', '.join(_KINDS)))


def _parse(kind: str, value) -> str:
    key = normalise_term(value) if value is not None else ""
    code = _LOOKUPS[kind].get(key)
    if code is None and kind == "category":
        code = _LOOKUPS[kind].get(strip_crime_word(key))
    if code is None:
        raise GeoInputError(message("geo.taxonomy.one", kind=kind, value=value, kinds=', '.join(_KINDS[kind])))
    return code


def parse_category(value) -> str:
    """Return the category code for a code, Vietnamese label (diacritics optional) or English label.

    Also accepted: the offence names of :data:`geo.offences.OFFENCE_NAMES` (colloquial names, Penal Code
    2015 article titles with or without "Tội", report abbreviations such as ``TCTS``).

    Raises
    ------
    GeoInputError
        ``category 'xyz' is not one of: homicide, assault, ...``
    """
    return _parse("category", value)


def parse_severity(value) -> str:
    """Return the severity code (Penal Code Art. 9 class) for a code or label, as :func:`parse_category`."""
    return _parse("severity", value)


def parse_case_status(value) -> str:
    """Return the case-status code for a code or label, as :func:`parse_category`."""
    return _parse("case_status", value)


def category_selections() -> set[str]:
    """Every value a category filter accepts besides "" (all): a code, ``group:<group>`` or a set's key."""
    return set(CATEGORIES) | set(CATEGORY_SETS) | {f"group:{g}" for g in GROUPS}


def selection_codes(selection: str) -> list[str] | None:
    """Category codes of a filter value (see :func:`category_selections`); ``None`` for "" (all)."""
    if not selection:
        return None
    if selection in CATEGORY_SETS:
        return sorted(CATEGORY_SETS[selection][1])
    if selection.startswith("group:"):
        group = selection.split(":", 1)[1]
        return sorted(c.code for c in CATEGORIES.values() if c.group == group)
    if selection not in CATEGORIES:
        raise GeoInputError(message("geo.taxonomy.category_one", selection=selection,
                                    category_selections=', '.join(sorted(category_selections()))))
    return [selection]


def selection_label(selection: str, lang: str = "vi") -> str | None:
    """Label of a filter value in ``lang``; ``None`` for "" (all), which each page words its own way."""
    if not selection:
        return None
    if selection in CATEGORY_SETS:
        pair = CATEGORY_SETS[selection][0]
    elif selection.startswith("group:"):
        pair = GROUPS[selection.split(":", 1)[1]]
    else:
        entry = CATEGORIES[selection]
        pair = (entry.label_vi, entry.label_en)
    return pair[1] if lang == "en" else pair[0]


def label(kind: str, code: str, lang: str = "vi") -> str:
    """Return the label of ``code`` of ``kind`` ("category", "severity", "case_status") in ``lang``.

    Parameters
    ----------
    kind : str
        "category", "severity" or "case_status".
    code : str
        The code (a label is accepted too and parsed first).
    lang : str
        "vi" (default, with diacritics) or "en".
    """
    _check_kind(kind)
    if lang not in ("vi", "en"):
        raise GeoInputError(message("geo.taxonomy.lang_one_vi_en", lang=lang))
    entry = _KINDS[kind][code] if code in _KINDS[kind] else _KINDS[kind][_parse(kind, code)]
    return entry.label(lang)

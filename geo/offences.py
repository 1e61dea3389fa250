"""Offence names as clerks write them, the Penal Code articles behind the categories, and office name maps.

A district clerk writes the offence the way the case file or the daily report does: the colloquial name
("trộm xe", "cờ bạc", "đá gà"), the title of the Penal Code article charged ("Tội tàng trữ trái phép
chất ma túy"), its usual abbreviation in police reports ("TCTS", "LĐCĐTS") or only the article
("Điều 321", "Đ.249"). :data:`OFFENCE_NAMES` lists, per category of :mod:`geo.taxonomy`, the names
accepted besides the category's own labels and aliases; :data:`ARTICLE_CATEGORIES` is the table that
gives the category of a row whose category is empty but whose article is given. Both are compared
case-, diacritic- and punctuation-insensitively (:func:`geo.taxonomy.normalise_term`), with a leading
"tội" ignored.

The articles are those of the Penal Code 2015 (Bộ luật Hình sự số 100/2015/QH13, amended by
12/2017/QH14), by chapter:

==========  ==================================================================  =======================
articles    Penal Code chapter / article                                        category
==========  ==================================================================  =======================
123–127     XIV: giết người and its mitigated forms                             homicide
134–137     XIV: cố ý gây thương tích … and its mitigated forms                 assault
141–147     XIV: hiếp dâm, cưỡng dâm, giao cấu, dâm ô, khiêu dâm (under 16)     sexual_offence
150–151     XIV: mua bán người, mua bán người dưới 16 tuổi                      human_trafficking
168         XVI: cướp tài sản                                                   robbery
171         XVI: cướp giật tài sản                                              snatch_theft
173         XVI: trộm cắp tài sản                                               theft
174–175     XVI: lừa đảo / lạm dụng tín nhiệm chiếm đoạt tài sản                fraud
188–191     XVIII: buôn lậu, vận chuyển qua biên giới, hàng cấm                 smuggling
201         XVIII: cho vay lãi nặng trong giao dịch dân sự                      loan_sharking
192–234     XVIII: the other economic-management crimes (not 201)              corruption_economic
235–246     XIX: environmental crimes                                           environment
247–259     XX: drug crimes                                                     drugs
290         XXI: chiếm đoạt tài sản qua mạng máy tính, viễn thông               hightech_fraud
318         XXI: gây rối trật tự công cộng                                      public_disorder
321–322     XXI: đánh bạc; tổ chức đánh bạc hoặc gá bạc                         gambling
347–349     XXII: xuất cảnh, nhập cảnh trái phép and organising it              illegal_border_crossing
353–359     XXIII §1: corruption (tham ô, nhận hối lộ, lạm dụng chức vụ …)      corruption_economic
364–366     XXIII §2: đưa / môi giới hối lộ, lợi dụng ảnh hưởng                 corruption_economic
==========  ==================================================================  =======================

Articles not in the table (e.g. 128, involuntary manslaughter) have no category of the tracker: a row
with only such an article is refused and asks for the category. An office adds its own names, and
articles, with a *category map* (:func:`read_category_map`).
"""
from __future__ import annotations

import csv
import difflib
import io
import re
from dataclasses import dataclass, field
from pathlib import Path

from geo.errors import GeoInputError
from translations import message

#: Names accepted for each category besides its labels and aliases in :mod:`geo.taxonomy`:
#: colloquial forms, Penal Code 2015 article titles (without "Tội") and report abbreviations.
OFFENCE_NAMES: dict[str, tuple[str, ...]] = {
    "homicide": ("án mạng", "giết người trong trạng thái tinh thần bị kích động mạnh",
                 "giết người do vượt quá giới hạn phòng vệ chính đáng", "giết con mới đẻ", "đâm chết người"),
    "assault": ("cố ý gây thương tích hoặc gây tổn hại cho sức khoẻ của người khác", "CYGTT", "CYGTTHGTHCSK",
                "đánh người gây thương tích", "đâm chém gây thương tích", "gây thương tích cho người khác",
                "cố ý gây thương tích trong trạng thái tinh thần bị kích động mạnh"),
    "sexual_offence": ("hiếp dâm người dưới 16 tuổi", "cưỡng dâm", "cưỡng dâm người từ đủ 13 tuổi đến dưới 16 tuổi",
                       "giao cấu với người từ đủ 13 tuổi đến dưới 16 tuổi",
                       "giao cấu hoặc thực hiện hành vi quan hệ tình dục khác với người từ đủ 13 tuổi đến dưới 16 tuổi",
                       "dâm ô đối với người dưới 16 tuổi", "dâm ô trẻ em", "xâm hại tình dục", "xâm hại tình dục trẻ em",
                       "sử dụng người dưới 16 tuổi vào mục đích khiêu dâm"),
    "robbery": ("cướp có vũ khí", "CTS"),
    "snatch_theft": ("giật đồ", "giật điện thoại", "giật túi xách", "cướp giật", "CGTS"),
    "theft": ("ăn trộm", "ăn cắp", "trộm tài sản", "trộm xe", "trộm xe máy", "trộm chó", "móc túi", "TCTS"),
    "fraud": ("lạm dụng tín nhiệm chiếm đoạt tài sản", "lừa đảo chiếm đoạt", "LĐCĐTS", "LĐ CĐTS", "LDTNCĐTS",
              "lạm dụng tín nhiệm"),
    "hightech_fraud": ("sử dụng mạng máy tính, mạng viễn thông, phương tiện điện tử thực hiện hành vi chiếm đoạt tài sản",
                       "lừa đảo trực tuyến", "lừa đảo online", "lừa đảo trên mạng", "lừa đảo trên không gian mạng",
                       "lừa đảo qua điện thoại", "lừa đảo qua mạng xã hội", "chiếm đoạt tài sản qua mạng"),
    "loan_sharking": ("cho vay nặng lãi", "vay nặng lãi", "cho vay lãi cao", "CVLN", "CVLNTGDDS", "TDĐ"),
    "gambling": ("cờ bạc", "đánh bài", "đá gà", "số đề", "lô đề", "ghi đề", "cá độ", "cá độ bóng đá", "gá bạc",
                 "TCĐB", "TCĐBHGB"),
    "public_disorder": ("gây rối trật tự", "gây mất trật tự công cộng", "GRTTCC"),
    "drugs": ("tàng trữ trái phép chất ma túy", "vận chuyển trái phép chất ma túy", "mua bán trái phép chất ma túy",
              "sản xuất trái phép chất ma túy", "chiếm đoạt chất ma túy", "tổ chức sử dụng trái phép chất ma túy",
              "chứa chấp việc sử dụng trái phép chất ma túy", "cưỡng bức người khác sử dụng trái phép chất ma túy",
              "lôi kéo người khác sử dụng trái phép chất ma túy", "trồng cây thuốc phiện",
              "trồng cây thuốc phiện, cây côca, cây cần sa", "buôn bán ma túy", "buôn ma túy", "tàng trữ ma túy",
              "TTTPCMT", "VCTPCMT", "MBTPCMT", "TCSDTPCMT", "CCVSDTPCMT"),
    "human_trafficking": ("buôn người", "buôn bán người", "MBN"),
    "smuggling": ("hàng lậu", "buôn bán hàng lậu", "vận chuyển hàng lậu", "vận chuyển trái phép hàng hóa, tiền tệ qua biên giới",
                  "sản xuất, buôn bán hàng cấm", "buôn bán hàng cấm", "tàng trữ, vận chuyển hàng cấm", "tàng trữ hàng cấm",
                  "thuốc lá lậu", "đường cát lậu", "buôn lậu thuốc lá"),
    "illegal_border_crossing": ("vượt biên", "nhập cảnh trái phép", "xuất cảnh trái phép",
                                "vi phạm quy định về xuất cảnh, nhập cảnh; ở lại Việt Nam trái phép",
                                "tổ chức, môi giới cho người khác xuất cảnh, nhập cảnh hoặc ở lại Việt Nam trái phép",
                                "tổ chức, môi giới cho người khác trốn đi nước ngoài hoặc ở lại nước ngoài trái phép",
                                "đưa người xuất cảnh trái phép"),
    "corruption_economic": ("tham ô tài sản", "tham ô", "nhận hối lộ", "đưa hối lộ", "môi giới hối lộ",
                            "lạm dụng chức vụ, quyền hạn chiếm đoạt tài sản",
                            "lợi dụng chức vụ, quyền hạn trong khi thi hành công vụ", "lạm quyền trong khi thi hành công vụ",
                            "trốn thuế", "làm, tàng trữ, vận chuyển, lưu hành tiền giả", "tiền giả", "sản xuất hàng giả",
                            "buôn bán hàng giả"),
    "environment": ("gây ô nhiễm môi trường", "huỷ hoại nguồn lợi thuỷ sản", "hủy hoại nguồn lợi thủy sản",
                    "hủy hoại rừng", "vi phạm quy định về bảo vệ động vật nguy cấp, quý, hiếm", "kích điện bắt cá"),
}


def _articles(first: int, last: int, code: str, skip=()) -> dict[str, str]:
    return {str(n): code for n in range(first, last + 1) if n not in skip}


#: Penal Code 2015 article number (as written, e.g. "173") -> category code; see the module table.
ARTICLE_CATEGORIES: dict[str, str] = {
    **_articles(123, 127, "homicide"),
    **_articles(134, 137, "assault"),
    **_articles(141, 147, "sexual_offence"),
    **_articles(150, 151, "human_trafficking"),
    "168": "robbery",
    "171": "snatch_theft",
    "173": "theft",
    **_articles(174, 175, "fraud"),
    **_articles(188, 191, "smuggling"),
    **_articles(192, 234, "corruption_economic", skip=(201,)),
    "201": "loan_sharking",
    **_articles(235, 246, "environment"),
    **_articles(247, 259, "drugs"),
    "290": "hightech_fraud",
    "318": "public_disorder",
    **_articles(321, 322, "gambling"),
    **_articles(347, 349, "illegal_border_crossing"),
    **_articles(353, 359, "corruption_economic"),
    **_articles(364, 366, "corruption_economic"),
}

_ARTICLE_AFTER_WORD = re.compile(r"(?:^|\s)(?:dieu|d)\s*(\d{1,3}[a-z]?)(?:\s|$)")
_ARTICLE_ONLY = re.compile(r"^(?:dieu|d)?\s*(\d{1,3}[a-z]?)(?:\s*(?:blhs|bo luat hinh su)(?:\s*\d{4})?)?$")
_NUMBER = re.compile(r"\d{1,3}[a-z]?")


def _fold(value) -> str:
    from geo.taxonomy import normalise_term

    return normalise_term(value)


def article_number(value) -> str:
    """The article number written in ``value`` ("Điều 321", "Đ.249", "321", "khoản 2 Điều 249"), or "".

    A number after "Điều"/"Đ." wins over the first number (a clause comes first in "khoản 2 Điều 249").
    """
    folded = _fold(value) if value is not None else ""
    match = _ARTICLE_AFTER_WORD.search(folded)
    if match:
        return match.group(1)
    match = _NUMBER.search(folded)
    return match.group(0) if match else ""


def article_reference(value) -> str:
    """The article number when ``value`` is *only* an article ("Điều 321", "Đ.249", "321", "Điều 173 BLHS")."""
    match = _ARTICLE_ONLY.match(_fold(value) if value is not None else "")
    return match.group(1) if match else ""


def strip_crime_word(key: str) -> str:
    """A folded name without a leading "tội" ("toi trom cap tai san" -> "trom cap tai san")."""
    return key[4:] if key.startswith("toi ") and len(key) > 4 else key


@dataclass(frozen=True)
class CategoryMap:
    """An office's own offence names and articles, added to the built-in ones.

    ``names``: folded name -> category code; ``shown``: folded name -> the spelling in the file;
    ``articles``: article number -> code; ``source``: the file read.
    """

    names: dict[str, str] = field(default_factory=dict)
    shown: dict[str, str] = field(default_factory=dict)
    articles: dict[str, str] = field(default_factory=dict)
    source: str = ""

    def entries(self) -> list[tuple[str, str]]:
        """(name or "Điều N", category code) as the file gives them, for the import page."""
        named = [(self.shown[k], code) for k, code in self.names.items()]
        return named + [(f"Điều {a}", code) for a, code in self.articles.items()]


_MAP_NAME_COLUMNS = ("name", "ten", "ten_goi", "toi_danh", "ten_toi_danh", "offence", "offense")
_MAP_CATEGORY_COLUMNS = ("category", "loai", "loai_toi_pham", "nhom", "nhom_toi_pham", "ma_loai")


def read_category_map(path, *, encoding: str | None = None) -> CategoryMap:
    """Read an office's offence-name map: a CSV with a ``name`` and a ``category`` column.

    Parameters
    ----------
    path : str or Path
        CSV (comma or semicolon separated; UTF-8 or Windows-1258, detected as for incident files).
        Columns ``name`` (or ``ten``, ``toi_danh``) and ``category`` (or ``loai``, ``loai_toi_pham``).
        A name is any spelling the office uses; a name that is only an article (``Điều 227``) maps that
        article. The category is a code or any name :func:`geo.taxonomy.parse_category` knows.
    encoding : str, optional
        Instead of detecting the encoding.

    Returns
    -------
    CategoryMap

    Raises
    ------
    GeoInputError
        Missing columns, an unknown category, or a name the built-in names (or an earlier line) already
        give to another category: an office map adds names, it never silently reclassifies one. An
        article may be reassigned (an office whose reports count Art. 227, illegal sand mining, with the
        environment crimes says ``Điều 227,environment``): the article table is a counting convention.
    """
    from geo.incidents import csv_delimiter
    from geo.taxonomy import lookup_table, parse_category
    from geo.textencoding import decode_vietnamese

    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise GeoInputError(message("geo.offences.category_map_could_read", path=str(path),
                                    exc_strerror=exc.strerror or exc)) from None
    text, _ = decode_vietnamese(data, encoding, what=f"category map {path.name!r}")
    reader = csv.reader(io.StringIO(text), delimiter=csv_delimiter(text.split("\n", 1)[0]))
    header = [_fold(h).replace(" ", "_") for h in next(reader, [])]
    name_col = next((header.index(c) for c in _MAP_NAME_COLUMNS if c in header), None)
    category_col = next((header.index(c) for c in _MAP_CATEGORY_COLUMNS if c in header), None)
    if name_col is None or category_col is None:
        raise GeoInputError(message("geo.offences.category_map_header_name", path_name=path.name,
                                    header=', '.join(header) or '(nothing)'))
    built_in = lookup_table("category")
    names: dict[str, str] = {}
    shown: dict[str, str] = {}
    articles: dict[str, str] = {}
    for line, cells in enumerate(reader, start=2):
        if not any(c.strip() for c in cells):
            continue
        name = cells[name_col].strip() if name_col < len(cells) else ""
        value = cells[category_col].strip() if category_col < len(cells) else ""
        where = f"category map {path.name!r} line {line}"
        if not name or not value:
            raise GeoInputError(message("geo.offences.both_name_category_needed", where=where, name=name,
                                        value=value))
        try:
            code = parse_category(value)
        except GeoInputError:
            raise GeoInputError(message("geo.offences.category_one_categories_closest", where=where, value=value,
                                        closest_names=', '.join(closest_names(value)) or 'none')) from None
        article = article_reference(name)
        if article:
            articles[article] = code
            continue
        key = strip_crime_word(_fold(name))
        known = built_in.get(key) or built_in.get(_fold(name)) or names.get(key)
        if known is not None and known != code:
            raise GeoInputError(message("geo.offences.already_means_office_map", where=where, name=name,
                                        known=known, code=code))
        names[key] = code
        shown[key] = name
    return CategoryMap(names=names, shown=shown, articles=articles, source=str(path))


def category_table(category_map: CategoryMap | None = None) -> dict[str, str]:
    """Folded name -> code: the built-in names plus the office's."""
    from geo.taxonomy import lookup_table

    table = dict(lookup_table("category"))
    if category_map is not None:
        table.update(category_map.names)
    return table


def category_of_name(value, table: dict[str, str]) -> str | None:
    """The category code of an offence name with ``table`` (:func:`category_table`), or None."""
    key = _fold(value)
    return table.get(key) or table.get(strip_crime_word(key))


def category_of_article(article: str, category_map: CategoryMap | None = None) -> str | None:
    """The category of a Penal Code article number (the office's map first, then :data:`ARTICLE_CATEGORIES`)."""
    if not article:
        return None
    if category_map is not None and article in category_map.articles:
        return category_map.articles[article]
    return ARTICLE_CATEGORIES.get(article)


def _display_names(category_map: CategoryMap | None) -> dict[str, str]:
    """Folded name -> how to show it (with diacritics) for suggestions."""
    from geo.taxonomy import CATEGORIES

    shown: dict[str, str] = {}
    for entry in CATEGORIES.values():
        for spelling in (entry.label_vi, *entry.aliases, *OFFENCE_NAMES.get(entry.code, ())):
            shown.setdefault(strip_crime_word(_fold(spelling)), spelling)
    if category_map is not None:
        shown.update(category_map.shown)
    return shown


def closest_names(value, n: int = 3, category_map: CategoryMap | None = None) -> list[str]:
    """The ``n`` known offence names closest to ``value``, as ``"Trộm cắp tài sản (theft)"``.

    Notes
    -----
    Similarity is difflib's ratio (Ratcliff/Obershelp gestalt pattern matching, Python ``difflib``) on
    the folded spellings, cut off at 0.5.
    """
    table = category_table(category_map)
    shown = _display_names(category_map)
    key = strip_crime_word(_fold(value))
    candidates = [k for k in shown if k in table or strip_crime_word(k) in table]
    matches = difflib.get_close_matches(key, candidates, n=n, cutoff=0.5)
    return [f"{shown[m]} ({table.get(m) or table.get(strip_crime_word(m))})" for m in matches]

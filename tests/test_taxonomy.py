import pytest

from geo import taxonomy
from geo.errors import GeoInputError
from geo.taxonomy import (
    BORDER_CORRIDOR_CATEGORIES, CASE_STATUSES, CATEGORIES, CLEARED_STATUSES, SENSITIVE_BY_DEFAULT,
    SEVERITIES, SOCIAL_ORDER_CATEGORIES, label, normalise_term, parse_case_status, parse_category,
    parse_severity,
)


def test_category_order_and_codes_as_in_the_glossary():
    assert list(CATEGORIES)[:3] == ["homicide", "assault", "sexual_offence"]
    assert len(CATEGORIES) == 17
    assert CATEGORIES["snatch_theft"].label_vi == "Cướp giật tài sản"


@pytest.mark.parametrize("value", [
    "hightech_fraud", "Lừa đảo công nghệ cao", "lua dao cong nghe cao", "  LỪA ĐẢO   công nghệ CAO ",
    "High-tech fraud", "high tech fraud",
])
def test_parse_category_accepts_code_vietnamese_and_english(value):
    assert parse_category(value) == "hightech_fraud"


@pytest.mark.parametrize("value,code", [
    ("Ma tuý", "drugs"), ("ma túy", "drugs"), ("tín dụng đen", "loan_sharking"),
    ("cho vay lãi nặng", "loan_sharking"), ("Đánh bạc, tổ chức đánh bạc", "gambling"),
    ("cuop giat", "snatch_theft"), ("Trộm cắp", "theft"), ("mua ban nguoi", "human_trafficking"),
    ("xuat nhap canh trai phep", "illegal_border_crossing"), ("Cố ý gây thương tích", "assault"),
])
def test_parse_category_vietnamese_forms(value, code):
    assert parse_category(value) == code


def test_parse_category_unknown_names_value_and_allowed_codes():
    with pytest.raises(GeoInputError, match=r"category 'xyz' is not one of: homicide, assault"):
        parse_category("xyz")
    with pytest.raises(GeoInputError):
        parse_category(None)
    with pytest.raises(GeoInputError):
        parse_category("")


@pytest.mark.parametrize("value,code", [
    ("ít nghiêm trọng", "less_serious"), ("IT NGHIEM TRONG", "less_serious"), ("nghiêm trọng", "serious"),
    ("Rất nghiêm trọng", "very_serious"), ("dac biet nghiem trong", "especially_serious"),
    ("very_serious", "very_serious"), ("Especially serious", "especially_serious"),
])
def test_parse_severity(value, code):
    assert parse_severity(value) == code


def test_parse_severity_unknown():
    with pytest.raises(GeoInputError, match="severity 'minor' is not one of: less_serious, serious"):
        parse_severity("minor")


@pytest.mark.parametrize("value,code", [
    ("tiếp nhận", "received"), ("Khởi tố", "prosecuted"), ("khám phá", "cleared"),
    ("điều tra làm rõ", "cleared"), ("tam dinh chi", "suspended"), ("Truy tố", "indicted"),
    ("xét xử", "tried"), ("cleared", "cleared"), ("Suspended", "suspended"),
])
def test_parse_case_status(value, code):
    assert parse_case_status(value) == code


def test_parse_case_status_unknown():
    with pytest.raises(GeoInputError, match="case_status 'closed' is not one of: received"):
        parse_case_status("closed")


def test_severity_ranks_follow_art_9():
    assert [s.rank for s in SEVERITIES.values()] == [1, 2, 3, 4]
    assert "15 năm" in SEVERITIES["very_serious"].max_penalty_vi
    assert "tử hình" in SEVERITIES["especially_serious"].max_penalty_vi


def test_statuses_and_cleared_set():
    assert list(CASE_STATUSES) == ["received", "prosecuted", "cleared", "suspended", "indicted", "tried"]
    assert CLEARED_STATUSES == {"cleared", "indicted", "tried"}


def test_sets_social_order_border_sensitive():
    assert BORDER_CORRIDOR_CATEGORIES == {"smuggling", "drugs", "illegal_border_crossing", "human_trafficking"}
    assert SENSITIVE_BY_DEFAULT == {"human_trafficking"}
    assert {"theft", "robbery", "homicide", "gambling", "loan_sharking"} <= SOCIAL_ORDER_CATEGORIES
    assert not {"drugs", "smuggling", "corruption_economic", "environment",
                "illegal_border_crossing"} & SOCIAL_ORDER_CATEGORIES


def test_label_both_languages_and_errors():
    assert label("category", "drugs") == "Ma túy"
    assert label("category", "drugs", lang="en") == "Drugs"
    assert label("severity", "serious", "vi") == "Nghiêm trọng"
    assert label("case_status", "suspended", "en") == "Suspended"
    assert label("category", "ma tuy") == "Ma túy"
    with pytest.raises(GeoInputError, match="lang 'fr'"):
        label("category", "drugs", lang="fr")
    with pytest.raises(GeoInputError, match="kind 'colour'"):
        label("colour", "red")


def test_no_spelling_names_two_codes():
    for kind in ("category", "severity", "case_status"):
        table = taxonomy.lookup_table(kind)
        assert set(table.values()) == set(taxonomy._KINDS[kind])


def test_normalise_term_handles_composed_and_decomposed_marks():
    import unicodedata
    decomposed = unicodedata.normalize("NFD", "Đặc biệt nghiêm trọng")
    assert normalise_term(decomposed) == normalise_term("dac biet  NGHIEM-trong") == "dac biet nghiem trong"


def test_category_selection_values():
    from geo.taxonomy import (BORDER_CORRIDOR_CATEGORIES, category_selections, selection_codes,
                              selection_label)

    assert selection_codes("") is None
    assert selection_codes("theft") == ["theft"]
    assert selection_codes("border_corridor") == sorted(BORDER_CORRIDOR_CATEGORIES)
    group = next(s for s in category_selections() if s.startswith("group:"))
    assert selection_codes(group)
    assert selection_label("social_order", "vi") == "Tội phạm về TTXH"
    assert selection_label("theft", "en") == "Theft"
    assert selection_label("", "vi") is None
    with pytest.raises(GeoInputError, match="category 'boi_toan' is not one of"):
        selection_codes("boi_toan")


@pytest.mark.parametrize("value,code", [
    ("Tội trộm cắp tài sản", "theft"), ("TCTS", "theft"), ("trộm xe máy", "theft"), ("móc túi", "theft"),
    ("TỘI CƯỚP GIẬT TÀI SẢN", "snatch_theft"), ("giật điện thoại", "snatch_theft"),
    ("Lừa đảo chiếm đoạt tài sản", "fraud"), ("LĐCĐTS", "fraud"), ("ldcdts", "fraud"),
    ("Tội lạm dụng tín nhiệm chiếm đoạt tài sản", "fraud"),
    ("Sử dụng mạng máy tính, mạng viễn thông, phương tiện điện tử thực hiện hành vi chiếm đoạt tài sản",
     "hightech_fraud"),
    ("Tội cho vay lãi nặng trong giao dịch dân sự", "loan_sharking"), ("vay nặng lãi", "loan_sharking"),
    ("đá gà", "gambling"), ("Số đề", "gambling"), ("Tội tổ chức đánh bạc hoặc gá bạc", "gambling"),
    ("Tội tàng trữ trái phép chất ma túy", "drugs"), ("TTTPCMT", "drugs"), ("mua ban trai phep chat ma tuy", "drugs"),
    ("Tội mua bán người dưới 16 tuổi", "human_trafficking"), ("buôn người", "human_trafficking"),
    ("Tội buôn lậu", "smuggling"), ("đường cát lậu", "smuggling"), ("vượt biên", "illegal_border_crossing"),
    ("Tội gây rối trật tự công cộng", "public_disorder"), ("GRTTCC", "public_disorder"),
    ("Tội hiếp dâm người dưới 16 tuổi", "sexual_offence"), ("Tội nhận hối lộ", "corruption_economic"),
    ("Tội hủy hoại nguồn lợi thủy sản", "environment"), ("án mạng", "homicide"),
])
def test_parse_category_accepts_offence_names_as_clerks_write_them(value, code):
    assert parse_category(value) == code


def test_every_category_has_offence_names_and_articles():
    from geo.offences import ARTICLE_CATEGORIES, OFFENCE_NAMES

    assert set(OFFENCE_NAMES) == set(CATEGORIES)
    assert set(ARTICLE_CATEGORIES.values()) == set(CATEGORIES)
    assert ARTICLE_CATEGORIES["173"] == "theft" and ARTICLE_CATEGORIES["249"] == "drugs"
    assert ARTICLE_CATEGORIES["321"] == "gambling" and ARTICLE_CATEGORIES["201"] == "loan_sharking"
    assert "128" not in ARTICLE_CATEGORIES  # involuntary manslaughter: no category of the tracker


@pytest.mark.parametrize("value,article,only", [
    ("Điều 321", "321", "321"), ("Đ.249", "249", "249"), ("321", "321", "321"), ("điều 173 BLHS", "173", "173"),
    ("khoản 2 Điều 249", "249", ""), ("Trộm cắp (Điều 173)", "173", ""), ("không rõ", "", ""),
])
def test_article_numbers(value, article, only):
    from geo.offences import article_number, article_reference

    assert article_number(value) == article
    assert article_reference(value) == only


def test_closest_names_suggest_known_spellings():
    from geo.offences import closest_names

    assert closest_names("trom cap tai sn")[0] == "Trộm cắp tài sản (theft)"
    assert any("(gambling)" in name for name in closest_names("đánh bạc bóng đá"))
    assert closest_names("qwertyuiop") == []

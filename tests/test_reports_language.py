"""The Word and Excel reports in Vietnamese and in English: each speaks one language, with the same figures.

Both files are downloaded from the reports page in each language (the page's ``?lang=``) and read back with
python-docx and openpyxl; the words are checked against the catalogs' vocabularies as the pages are
(tests/test_language_mixing.py), values stored in the database (commune names, the plan's name) set aside.
"""
from __future__ import annotations

import ast
import io
import re
from datetime import date, datetime
from pathlib import Path

import pytest
from docx import Document
from openpyxl import load_workbook

from reports.content import PROVINCE_NAME
from tests.report_data import seed_incidents
from tests.test_language_mixing import ENGLISH_WORDS, catalog_words, data_words, offending_words
from translations import has_message

ROOT = Path(__file__).resolve().parent.parent
#: Names the report cites in either language: the tool its method follows, the authors of the indices, the
#: province and the former province it reports on.
CITED_NAMES = ("ArcGIS Hot Spot Analysis", "Chainey", "Tompson", "Uhlig", "Hunt", "Levine", "Bowers", "Johnson",
               "Pease", PROVINCE_NAME, "Tiền Giang")
REPORT_MODULES = [ROOT / "reports" / name for name in ("content.py", "docx_report.py", "xlsx_report.py", "maps.py",
                                                       "print_map.py")]
#: Names that are the same in both languages: the province, and the product (a PDF's Creator field).
PROPER_NAMES = (PROVINCE_NAME, "Bản đồ 138")
QUERIES = ["period=2024-Q1", "period=2024-H1&district=869", "period=2024"]


@pytest.fixture
def seeded(app):
    return seed_incidents(app)


@pytest.fixture(scope="module")
def vocabularies():
    vietnamese, english = catalog_words("vi"), catalog_words("en")
    return vietnamese, (english - vietnamese) | ENGLISH_WORDS


def download(client, query: str, fmt: str, lang: str) -> bytes:
    response = client.get(f"/reports/download?{query}&format={fmt}&lang={lang}")
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    body = response.data
    response.close()
    return body


def docx_texts(body: bytes) -> list[str]:
    """Every paragraph, table cell and footer line of the Word file."""
    document = Document(io.BytesIO(body))
    texts = [p.text for p in document.paragraphs]
    texts += [c.text for t in document.tables for r in t.rows for c in r.cells]
    texts += [p.text for s in document.sections for p in s.footer.paragraphs]
    return texts


def xlsx_texts(body: bytes) -> list[str]:
    workbook = load_workbook(io.BytesIO(body))
    return list(workbook.sheetnames) + [c for s in workbook.worksheets for r in s.iter_rows(values_only=True)
                                        for c in r if isinstance(c, str)]


def without_names(text: str) -> str:
    for name in CITED_NAMES:
        text = text.replace(name, " ").replace(name.upper(), " ")
    return text


def offenders(texts, lang, vocabularies, data) -> dict[str, set[str]]:
    vietnamese, english = vocabularies
    found = {}
    for text in texts:
        words = offending_words(without_names(text), lang, vietnamese, english, data)
        if words:
            found[text[:120]] = words
    return found


@pytest.mark.parametrize("query", QUERIES)
def test_each_report_speaks_the_language_of_the_page_it_was_asked_from(app, client, login, seeded, vocabularies,
                                                                      query):
    login("planner")
    files = {(fmt, lang): download(client, query, fmt, lang) for fmt in ("docx", "xlsx") for lang in ("vi", "en")}
    data = data_words(app)
    for (fmt, lang), body in files.items():
        texts = docx_texts(body) if fmt == "docx" else xlsx_texts(body)
        assert not offenders(texts, lang, vocabularies, data), (fmt, lang, offenders(texts, lang, vocabularies, data))
    english = "\n".join(docx_texts(files["docx", "en"]))
    vietnamese = "\n".join(docx_texts(files["docx", "vi"]))
    assert "REPORT" in english and "SOCIALIST REPUBLIC OF VIETNAM" in english and "BÁO CÁO" not in english
    assert "BÁO CÁO" in vietnamese and "Độc lập - Tự do - Hạnh phúc" in vietnamese
    assert "Targets" in load_workbook(io.BytesIO(files["xlsx", "en"])).sheetnames
    assert "Chi tieu" in load_workbook(io.BytesIO(files["xlsx", "vi"])).sheetnames


def test_the_check_finds_words_of_the_other_language(app, seeded, vocabularies):
    data = data_words(app)
    assert offenders(["Kết quả: 80,00%"], "en", vocabularies, data)
    assert offenders(["Results against the targets"], "vi", vocabularies, data)
    assert not offenders(["Results against the targets: 80.00%"], "en", vocabularies, data)


def figures_of_docx(body: bytes, lang: str) -> list:
    """Every table cell that is a figure or a date, read back as a number (by the language's symbols) or a date."""
    group, decimal = (".", ",") if lang == "vi" else (",", ".")
    figures = []
    for table in Document(io.BytesIO(body)).tables[1:]:
        for row in table.rows[1:]:
            for cell in row.cells:
                text = cell.text.strip()
                if re.fullmatch(r"\d{2}/\d{2}/\d{4}", text):
                    figures.append(datetime.strptime(text, "%d/%m/%Y").date())
                elif re.fullmatch(r"[−+]?[\d.,]+%?", text) and any(ch.isdigit() for ch in text):
                    number = text.replace("−", "-").rstrip("%").replace(group, "").replace(decimal, ".")
                    figures.append((float(number), text.endswith("%")))
    return figures


def figures_of_xlsx(body: bytes) -> list:
    workbook = load_workbook(io.BytesIO(body))
    return [[(c.value, c.number_format) for r in sheet.iter_rows() for c in r
             if isinstance(c.value, (int, float, date, datetime)) and not isinstance(c.value, bool)]
            for sheet in workbook.worksheets]


@pytest.mark.parametrize("query", QUERIES[:2])
def test_both_languages_give_the_same_figures(client, login, seeded, query):
    login("planner")
    vi_docx, en_docx = (download(client, query, "docx", lang) for lang in ("vi", "en"))
    vi_figures, en_figures = figures_of_docx(vi_docx, "vi"), figures_of_docx(en_docx, "en")
    assert len(vi_figures) > 20 and vi_figures == en_figures
    vi_xlsx, en_xlsx = (download(client, query, "xlsx", lang) for lang in ("vi", "en"))
    vi_cells, en_cells = figures_of_xlsx(vi_xlsx), figures_of_xlsx(en_xlsx)
    # The generation time differs between two downloads; every other figure, date and format is the same.
    strip = lambda sheets: [[cell for cell in sheet if not isinstance(cell[0], datetime) or cell[0].hour == 0
                             and cell[0].minute == 0] for sheet in sheets]  # noqa: E731
    assert sum(map(len, vi_cells)) > 20 and strip(vi_cells) == strip(en_cells)


def test_numbers_follow_the_report_language():
    from reports.content import Number, cell_text

    assert Number(0.8, "percent", 2).text("vi") == "80,00%" and Number(0.8, "percent", 2).text("en") == "80.00%"
    assert Number(-0.04, "change", 1).text("vi") == "−4,0%" and Number(0.125, "change", 1).text("en") == "+12.5%"
    assert Number(12345.6, "decimal", 1).text("vi") == "12.345,6" and Number(12345.6).text("en") == "12,345.6"
    assert cell_text(1234, "vi") == "1.234" and cell_text(1234, "en") == "1,234"
    assert cell_text(date(2024, 3, 5), "en") == cell_text(date(2024, 3, 5), "vi") == "05/03/2024"


def test_an_unknown_report_language_is_refused(app, seeded):
    from geo.periods import parse_period
    from reports.content import build_report

    with app.extensions["db"].transaction() as session, pytest.raises(ValueError, match="lang"):
        build_report(session, None, parse_period("2024-Q1"), lang="fr")


def test_every_report_wording_is_in_both_catalogs():
    """``word("key")`` / ``report.word("key")`` in reports/ name ``report.<key>``, which both catalogs word."""
    used = set()
    for path in sorted((ROOT / "reports").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant) \
                    and isinstance(node.args[0].value, str) and (
                        getattr(node.func, "id", None) == "word" or getattr(node.func, "attr", None) == "word"):
                used.add(node.args[0].value)
    assert len(used) > 80
    missing = sorted(f"report.{key} ({lang})" for key in used for lang in ("vi", "en")
                     if not has_message(f"report.{key}", lang))
    assert missing == []


def test_no_interface_text_is_left_in_the_report_code():
    """A string literal of the report's modules holding a Vietnamese letter is interface text: it belongs in the
    catalogs."""
    letters = re.compile(r"[àáảãạăằắẳẵặâầấẩẫậèéẻẽẹêềếểễệìíỉĩịòóỏõọôồốổỗộơờớởỡợùúủũụưừứửữựỳýỷỹỵđ]", re.IGNORECASE)
    literal = []
    for path in REPORT_MODULES:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        docstrings = {id(n.body[0].value) for n in ast.walk(tree)
                      if isinstance(n, (ast.Module, ast.FunctionDef, ast.ClassDef)) and n.body
                      and isinstance(n.body[0], ast.Expr) and isinstance(n.body[0].value, ast.Constant)}
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings \
                    and letters.search(node.value) and node.value not in PROPER_NAMES:
                literal.append(f"{path.name}:{node.lineno}: {node.value[:60]!r}")
    assert literal == []


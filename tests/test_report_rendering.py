"""The Word report as a reader sees it: converted to PDF by LibreOffice (Debian's ``soffice``, installed by
``make browser-deps`` and ``.ci/run``) and read back with poppler's ``pdftotext``/``pdfimages``.

Checks what python-docx cannot see: column widths as a word processor lays them out (figures and dates on one
line, short phrases unbroken) and maps that sit without a mostly empty page before them. One conversion for
the whole module (about ten seconds)."""
from __future__ import annotations

import html
import re
import shutil
import subprocess
from dataclasses import dataclass

import pytest

from geo.periods import parse_period
from tests.report_data import seed_incidents
from tests.tracker_helpers import PLANNER, make_area

pytestmark = pytest.mark.rendering

SOFFICE = shutil.which("soffice") or "/usr/bin/soffice"
FOOTER_SHARE = 0.92  # words below this share of the page height are the footer


@dataclass
class Word:
    page: int
    text: str
    x0: float
    y0: float
    x1: float
    y1: float


@dataclass
class Rendered:
    report: object
    pages: list[tuple[float, float]]  # (width, height) per page
    words: list[Word]
    image_pages: set[int]
    text: str


def _tools():
    for tool in (SOFFICE, "pdftotext", "pdfimages"):
        if shutil.which(tool) is None:
            pytest.fail(f"{tool} is missing: install LibreOffice and poppler-utils (make browser-deps)")


def _stress_section():
    """A table built to be tight: nine columns of signed percentages that only just fit a portrait page, and
    short status phrases, so a width estimate a little too small wraps a figure."""
    from datetime import date

    from reports.content import Number, Section, Table

    rows = [[f"Đơn vị {i}", *(Number(-(i + k) / 997, "change", 1) for k in range(7)), date(2024, 11, 30),
             "Chưa chắc chắn"] for i in range(1, 6)]
    return Section("Bảng kiểm tra bố cục", tables=[Table(
        "Bảng kiểm tra bố cục", ["Đơn vị", *(f"Cột {k}" for k in range(7)), "Ngày", "Đánh giá"], rows, "Kiem tra",
        set(range(1, 9)))])


@pytest.fixture(scope="module")
def rendered(tmp_path_factory, template_db, data_dir) -> Rendered:
    from reports.content import build_report
    from reports.docx_report import write_docx
    from tests.conftest import drop_app_database, make_app

    _tools()
    folder = tmp_path_factory.mktemp("rendering")
    app = make_app(folder, template_db, data_dir)
    try:
        seed_incidents(app)
        make_area(app.extensions["db"], status_path=("converting",))
        with app.extensions["db"].transaction() as session:
            report = build_report(session, PLANNER, parse_period("2024"))
    finally:
        drop_app_database(app)
    report.sections.insert(2, _stress_section())
    source = folder / "bao-cao.docx"
    write_docx(report, source)
    # A profile of its own, so a LibreOffice already running for the user (or another test) does not interfere.
    subprocess.run([SOFFICE, f"-env:UserInstallation=file://{folder / 'profile'}", "--headless", "--convert-to",
                    "pdf", "--outdir", str(folder), str(source)], check=True, capture_output=True, timeout=180)
    pdf = folder / "bao-cao.pdf"
    bbox = subprocess.run(["pdftotext", "-bbox", str(pdf), "-"], check=True, capture_output=True, text=True).stdout
    pages, words = [], []
    for number, (attrs, body) in enumerate(re.findall(r"<page ([^>]*)>(.*?)</page>", bbox, re.S), start=1):
        size = dict(re.findall(r'(\w+)="([\d.]+)"', attrs))
        pages.append((float(size["width"]), float(size["height"])))
        for x0, y0, x1, y1, text in re.findall(
                r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">(.*?)</word>', body):
            words.append(Word(number, html.unescape(text), float(x0), float(y0), float(x1), float(y1)))
    listing = subprocess.run(["pdfimages", "-list", str(pdf)], check=True, capture_output=True, text=True).stdout
    image_pages = {int(line.split()[0]) for line in listing.splitlines()[2:]
                   if line.split() and line.split()[2] == "image"}
    text = subprocess.run(["pdftotext", str(pdf), "-"], check=True, capture_output=True, text=True).stdout
    return Rendered(report, pages, words, image_pages, text)


def _figures(report) -> set[str]:
    """Every figure and date a table cell prints (three characters or more)."""
    from datetime import date

    from reports.content import Number, cell_text

    out = set()
    for table in report.all_tables():
        for row in table.rows:
            for value in row:
                if isinstance(value, (Number, int, date)) and not isinstance(value, bool):
                    text = cell_text(value)
                    if len(text) >= 3 and text != "—":
                        out.add(text)
    return out


def test_every_figure_and_date_of_every_table_prints_on_one_line(rendered):
    printed = {w.text for w in rendered.words}
    figures = _figures(rendered.report)
    assert len(figures) >= 30  # counts, shares, changes, intervals, dates of the real tables and the tight one
    wrapped = sorted(f for f in figures if f not in printed)
    assert not wrapped, f"figures broken over lines: {wrapped[:20]}"


def test_short_phrases_in_table_cells_stay_on_one_line(rendered):
    lines = rendered.text.splitlines()
    assert sum(line.strip() == "Chưa chắc chắn" for line in lines) >= 5  # the tight table's status column
    assert not any(line.strip() in ("Chưa", "Chưa chắc", "chắc chắn") for line in lines)
    assert "30/11/2024" in {w.text for w in rendered.words}  # the tight table's date column


def test_no_page_before_a_map_is_mostly_empty(rendered):
    maps = sorted(rendered.image_pages)
    assert len(maps) >= 2, maps  # the hot spot map and the key-area map
    for page in maps:
        if page == 1:
            continue
        width, height = rendered.pages[page - 2]
        body = [w for w in rendered.words if w.page == page - 1 and w.y0 < height * FOOTER_SHARE]
        filled = max(w.y1 for w in body) / height if body else 0.0
        assert filled >= 0.5 or (page - 1) in rendered.image_pages, (
            f"page {page - 1} is {filled:.0%} full before the map on page {page}")


def test_table_columns_are_not_one_word_per_line(rendered):
    """No column is so narrow that its cells print one word per line: the words of a cell such as
    "Tuyến đường Xã Long Hưng B" share their lines with each other."""
    lines = [line.strip() for line in rendered.text.splitlines() if line.strip()]
    single = [line for line in lines if len(line.split()) == 1 and not re.search(r"\d", line)]
    assert len(single) <= len(lines) * 0.25, single[:40]

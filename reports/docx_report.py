"""The report as a Word document in the usual Vietnamese administrative layout (Nghị định 30/2020/NĐ-CP style).

Header: issuing body and number on the left, "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM / Độc lập - Tự do - Hạnh phúc"
and place/date on the right; title "BÁO CÁO" with its subject; sections numbered I, II, III…; Times New
Roman 13 pt body, A4 with 2 cm/3 cm margins; recipients ("Nơi nhận") and signature block at the end.
"""
from __future__ import annotations

import io
import struct

from docx import Document
from docx.enum.section import WD_ORIENT, WD_SECTION
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Pt

from geo.kml import xml_safe_text
from reports.content import Report, cell_text, period_dates, period_label
from translations import format_datetime

ROMAN = ["I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX", "X"]
FONT = "Times New Roman"
TABLE_PT = 9
# Average width of a character of Times New Roman at TABLE_PT, and the cell's left + right padding with a
# margin for the border (cm): Word and LibreOffice pad a "Table Grid" cell by 0.19 cm on each side.
CHAR_CM = 0.17
CELL_PAD_CM = 0.45
SHORT_PHRASE = 18  # characters: a cell text this short (a status, a date, a name) is kept on one line
PORTRAIT_WIDTH_CM = 21 - 3 - 2
LANDSCAPE_WIDTH_CM = 29.7 - 2 - 2
MAP_MAX_HEIGHT_CM = 15.0  # a map with its title and caption fits on one page, with no half-empty page after it


def column_widths(columns, rows, numeric, available_cm: float, lang: str = "vi") -> list[float] | None:
    """Widths (cm) that fit each column's content, in the manner of the CSS automatic table layout (CSS 2.1
    §17.5.2.2): every column gets at least its minimum (its longest word; the whole text of a number or a date,
    never wrapped), then columns of short phrases (up to ``SHORT_PHRASE`` characters: "Chưa chắc chắn", a date)
    are widened to their whole text, so they stay on one line; the longer texts (up to 45 characters wanted)
    share what is left as the CSS algorithm does, each the same fraction of what it lacks; room beyond that
    widens the text columns. Headers wrap at their spaces (bold: a tenth wider). None when even the minimums
    exceed ``available_cm`` (the table then needs a landscape page)."""
    least, wanted = [], []
    for index, name in enumerate(columns):
        body = [cell_text(r[index], lang) for r in rows if index < len(r)]
        header_word = max([len(w) for w in str(name).split()] or [1]) * 1.1
        if index in numeric:
            minimum = max([len(t) for t in body] + [header_word])
        else:
            minimum = max([len(w) for t in body for w in t.split()] + [header_word])
        least.append(minimum * CHAR_CM + CELL_PAD_CM)
        wanted.append(max(min(max([len(t) for t in body] or [1]), 45), minimum) * CHAR_CM + CELL_PAD_CM)
    if sum(least) > available_cm:
        return None
    widths = list(least)
    spare = available_cm - sum(widths)
    short = sorted((i for i in range(len(columns)) if wanted[i] <= SHORT_PHRASE * CHAR_CM + CELL_PAD_CM),
                   key=lambda i: wanted[i] - least[i])
    for index in short:  # short phrases first, whole, while room is left
        need = wanted[index] - widths[index]
        if need <= spare:
            widths[index], spare = wanted[index], spare - need
    rest = [i for i in range(len(columns)) if wanted[i] > widths[i]]
    total_need = sum(wanted[i] - widths[i] for i in rest)
    if total_need > spare:  # the longer texts share what is left, each the same fraction of what it lacks
        for i in rest:
            widths[i] += spare * (wanted[i] - widths[i]) / total_need
        return widths
    widths = [max(w, wanted[i]) for i, w in enumerate(widths)]
    spare = available_cm - sum(widths)
    text_columns = [i for i in range(len(columns)) if i not in numeric] or list(range(len(columns)))
    weight = sum(wanted[i] for i in text_columns)
    return [w + (spare * wanted[i] / weight if i in text_columns else 0) for i, w in enumerate(widths)]


def _fixed_layout(table, widths) -> None:
    """Give the table its computed column widths everywhere a word processor reads them: the grid
    (``w:gridCol``, which LibreOffice follows), every cell (``w:tcW``, which Word follows) and a fixed layout
    with the table's total width, so neither program re-spreads the columns evenly."""
    for column, width in zip(table.columns, widths):
        column.width = Cm(width)
    for row in table.rows:
        for cell, width in zip(row.cells, widths):
            cell.width = Cm(width)
    properties = table._tbl.tblPr
    layout = OxmlElement("w:tblLayout")
    layout.set(qn("w:type"), "fixed")
    properties.append(layout)
    total = properties.find(qn("w:tblW"))
    if total is None:
        total = OxmlElement("w:tblW")
        properties.append(total)
    total.set(qn("w:type"), "dxa")
    total.set(qn("w:w"), str(int(round(sum(widths) / 2.54 * 1440))))


def _no_wrap(cell):
    properties = cell._tc.get_or_add_tcPr()
    element = OxmlElement("w:noWrap")
    properties.append(element)


def _keep_with_next(paragraph):
    paragraph.paragraph_format.keep_with_next = True


def _orientation(document, landscape: bool):
    """Start a new section in portrait or landscape (A4, the report's margins)."""
    section = document.add_section(WD_SECTION.NEW_PAGE)
    section.orientation = WD_ORIENT.LANDSCAPE if landscape else WD_ORIENT.PORTRAIT
    section.page_width, section.page_height = (Cm(29.7), Cm(21)) if landscape else (Cm(21), Cm(29.7))
    section.top_margin, section.bottom_margin = Cm(2), Cm(2)
    section.left_margin, section.right_margin = (Cm(2), Cm(2)) if landscape else (Cm(3), Cm(2))
    return section


def _run(paragraph, text):
    # Word's XML cannot hold control characters; user text (key-area names…) may carry them.
    return paragraph.add_run(xml_safe_text(text))


def _set_font(run, size=13, bold=False, italic=False):
    run.font.name = FONT
    run.font.size = Pt(size)
    run.bold = bold
    run.italic = italic
    run._element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), FONT)


def _paragraph(container, text="", *, size=13, bold=False, italic=False, align=None, space_after=4, indent=False,
               first=False):
    paragraph = container.paragraphs[0] if first else container.add_paragraph()
    if text:
        _set_font(_run(paragraph, text), size, bold, italic)
    if align is not None:
        paragraph.alignment = align
    paragraph.paragraph_format.space_after = Pt(space_after)
    if indent:
        paragraph.paragraph_format.first_line_indent = Cm(1)
    return paragraph


def _underline_rule(paragraph):
    """A short horizontal rule under the motto, as on official documents."""
    properties = paragraph._p.get_or_add_pPr()
    border = OxmlElement("w:pBdr")
    bottom = OxmlElement("w:bottom")
    for key, value in (("w:val", "single"), ("w:sz", "6"), ("w:space", "1"), ("w:color", "000000")):
        bottom.set(qn(key), value)
    border.append(bottom)
    properties.append(border)


def _header(document, report: Report):
    table = document.add_table(rows=1, cols=2)
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    table.autofit = False
    left, right = table.rows[0].cells
    left.width, right.width = Cm(6.5), Cm(9.5)
    _paragraph(left, report.word("docx.committee_province") if not report.district_code
               else report.word("docx.committee", unit=report.district_name.upper()),
               size=12, align=WD_ALIGN_PARAGRAPH.CENTER, space_after=0, first=True)
    _paragraph(left, report.issuer, size=12, bold=True, align=WD_ALIGN_PARAGRAPH.CENTER, space_after=6)
    _paragraph(left, report.word("docx.number"), size=13, align=WD_ALIGN_PARAGRAPH.CENTER, space_after=0)
    _paragraph(right, report.word("docx.state"), size=12, bold=True, align=WD_ALIGN_PARAGRAPH.CENTER,
               space_after=0, first=True)
    motto = _paragraph(right, report.word("docx.motto"), size=13, bold=True, align=WD_ALIGN_PARAGRAPH.CENTER,
                       space_after=6)
    _underline_rule(motto)
    when = report.generated_at
    _paragraph(right, report.word("docx.place_date", day=f"{when.day:02d}", month=f"{when.month:02d}", year=when.year),
               size=13, italic=True, align=WD_ALIGN_PARAGRAPH.CENTER, space_after=0)


def _table(document, table_data, widths, report: Report):
    title = _paragraph(document, table_data.title, size=12, bold=True, italic=True, space_after=2)
    _keep_with_next(title)
    table = document.add_table(rows=1, cols=len(table_data.columns))
    table.style = "Table Grid"
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    table.autofit = False
    for cell, name in zip(table.rows[0].cells, table_data.columns):
        cell.text = ""
        _set_font(_run(cell.paragraphs[0], str(name)), TABLE_PT, bold=True)
        cell.paragraphs[0].alignment = WD_ALIGN_PARAGRAPH.CENTER
    header = table.rows[0]._tr.get_or_add_trPr()
    repeat = OxmlElement("w:tblHeader")
    repeat.set(qn("w:val"), "true")
    header.append(repeat)
    if not table_data.rows:
        row = table.add_row().cells
        merged = row[0].merge(row[-1])
        merged.text = ""
        _set_font(_run(merged.paragraphs[0], report.word("docx.no_data")), TABLE_PT, italic=True)
    total = report.word("total")
    for values in table_data.rows:
        cells = table.add_row().cells
        for index, (cell, value) in enumerate(zip(cells, values)):
            cell.text = ""
            _set_font(_run(cell.paragraphs[0], cell_text(value, report.lang)), TABLE_PT,
                      bold=len(values) > 1 and str(values[1]) == total)
            if index in table_data.numeric:
                cell.paragraphs[0].alignment = WD_ALIGN_PARAGRAPH.RIGHT
                _no_wrap(cell)
    _fixed_layout(table, widths)
    _paragraph(document, "", space_after=4)
    return table


def _figure(document, figure):
    title = _paragraph(document, figure.title, size=12, bold=True, italic=True, space_after=2)
    _keep_with_next(title)
    width_px, height_px = struct.unpack(">II", figure.png[16:24])  # the PNG header (IHDR) holds the size
    aspect = height_px / width_px
    width = min(15.5, MAP_MAX_HEIGHT_CM / aspect)
    document.add_picture(io.BytesIO(figure.png), width=Cm(width))
    picture = document.paragraphs[-1]
    picture.alignment = WD_ALIGN_PARAGRAPH.CENTER
    if figure.caption:
        _keep_with_next(picture)
        _paragraph(document, figure.caption, size=10, italic=True, align=WD_ALIGN_PARAGRAPH.CENTER)


def build_docx(report: Report) -> Document:
    """The Word file of ``report``, every heading, label and note in the report's language (``report.lang``)."""
    document = Document()
    section = document.sections[0]
    section.orientation = WD_ORIENT.PORTRAIT
    section.page_width, section.page_height = Cm(21), Cm(29.7)
    section.top_margin, section.bottom_margin = Cm(2), Cm(2)
    section.left_margin, section.right_margin = Cm(3), Cm(2)
    style = document.styles["Normal"]
    style.font.name = FONT
    style.font.size = Pt(13)
    style.element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), FONT)

    _header(document, report)
    _paragraph(document, "", space_after=6)
    _paragraph(document, report.title, size=14, bold=True, align=WD_ALIGN_PARAGRAPH.CENTER, space_after=0)
    _paragraph(document, report.subtitle, size=14, bold=True, align=WD_ALIGN_PARAGRAPH.CENTER, space_after=2)
    _paragraph(document, f"({period_dates(report.period, report.lang)})", size=13, italic=True, align=WD_ALIGN_PARAGRAPH.CENTER,
               space_after=8)
    facts = document.add_table(rows=0, cols=2)
    facts.style = "Table Grid"
    for name, value in report.facts():
        cells = facts.add_row().cells
        _set_font(_run(cells[0].paragraphs[0], name), 10, bold=True)
        _set_font(_run(cells[1].paragraphs[0], value), 10)
        cells[0].width, cells[1].width = Cm(4), Cm(12)
    _paragraph(document, "", space_after=4)

    landscape = False
    for number, part in enumerate(report.sections):
        if landscape:  # back to portrait for the text and maps of the next section
            _orientation(document, False)
            landscape = False
        heading = _paragraph(document, f"{ROMAN[number]}. {part.heading.upper()}", size=13, bold=True, space_after=4)
        _keep_with_next(heading)
        for text in part.paragraphs:
            _paragraph(document, text, indent=True, align=WD_ALIGN_PARAGRAPH.JUSTIFY)
        for figure in part.figures:
            _figure(document, figure)
        for table_data in part.tables:
            widths = column_widths(table_data.columns, table_data.rows, table_data.numeric, PORTRAIT_WIDTH_CM,
                                   report.lang)
            if widths is None:  # too many columns for a portrait page: this table gets a landscape page
                widths = column_widths(table_data.columns, table_data.rows, table_data.numeric,
                                       LANDSCAPE_WIDTH_CM, report.lang) or _even(len(table_data.columns), LANDSCAPE_WIDTH_CM)
                if not landscape:
                    _orientation(document, True)
                    landscape = True
            elif landscape:
                _orientation(document, False)
                landscape = False
            _table(document, table_data, widths, report)
    if landscape:
        _orientation(document, False)

    closing = document.add_table(rows=1, cols=2)
    left, right = closing.rows[0].cells
    _paragraph(left, report.word("docx.recipients"), size=12, bold=True, italic=True, space_after=0, first=True)
    recipients = (["docx.to_province_committee", "docx.to_archive"] if report.district_code else
                  ["docx.to_national_committee", "docx.to_party_standing", "docx.to_people_committee",
                   "docx.to_archive"])
    for key in recipients:
        _paragraph(left, "- " + report.word(key), size=11, space_after=0)
    _paragraph(right, report.word("docx.head"), size=13, bold=True, align=WD_ALIGN_PARAGRAPH.CENTER, space_after=48,
               first=True)
    _paragraph(right, report.word("docx.signature"), size=12, italic=True, align=WD_ALIGN_PARAGRAPH.CENTER)

    footer = section.footer.paragraphs[0]
    _set_font(_run(footer, report.word("docx.footer", period=period_label(report.period, report.lang),
                                       dates=period_dates(report.period, report.lang),
                                       data_version=report.data_version,
                                       generated=format_datetime(report.generated_at, report.lang))
                   + (" · " + report.word("docx.demo") if report.demo else "")), 8, italic=True)
    return document


def _even(n: int, width: float) -> list[float]:
    return [width / n] * n


def write_docx(report: Report, target) -> None:
    """Write the report to a path or a binary file object."""
    build_docx(report).save(target)


def docx_bytes(report: Report) -> bytes:
    buffer = io.BytesIO()
    write_docx(report, buffer)
    return buffer.getvalue()

"""The report as a Word document in the usual Vietnamese administrative layout (Nghị định 30/2020/NĐ-CP style).

Header: issuing body and number on the left, "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM / Độc lập - Tự do - Hạnh phúc"
and place/date on the right; title "BÁO CÁO" with its subject; sections numbered I, II, III…; Times New
Roman 13 pt body, A4 with 2 cm/3 cm margins; recipients ("Nơi nhận") and signature block at the end.
"""
from __future__ import annotations

import io

from docx import Document
from docx.enum.section import WD_ORIENT
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Pt

from reports.content import Report

ROMAN = ["I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX", "X"]
FONT = "Times New Roman"


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
        _set_font(paragraph.add_run(text), size, bold, italic)
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
    _paragraph(left, "UBND TỈNH ĐỒNG THÁP" if not report.district_code else f"UBND {report.district_name.upper()}",
               size=12, align=WD_ALIGN_PARAGRAPH.CENTER, space_after=0, first=True)
    _paragraph(left, report.issuer, size=12, bold=True, align=WD_ALIGN_PARAGRAPH.CENTER, space_after=6)
    _paragraph(left, "Số:        /BC-BCĐ138", size=13, align=WD_ALIGN_PARAGRAPH.CENTER, space_after=0)
    _paragraph(right, "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", size=12, bold=True, align=WD_ALIGN_PARAGRAPH.CENTER,
               space_after=0, first=True)
    motto = _paragraph(right, "Độc lập - Tự do - Hạnh phúc", size=13, bold=True, align=WD_ALIGN_PARAGRAPH.CENTER,
                       space_after=6)
    _underline_rule(motto)
    when = report.generated_at
    _paragraph(right, f"Đồng Tháp, ngày {when.day:02d} tháng {when.month:02d} năm {when.year}", size=13, italic=True,
               align=WD_ALIGN_PARAGRAPH.CENTER, space_after=0)


def _table(document, table_data):
    _paragraph(document, table_data.title, size=12, bold=True, italic=True, space_after=2)
    table = document.add_table(rows=1, cols=len(table_data.columns))
    table.style = "Table Grid"
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    for cell, name in zip(table.rows[0].cells, table_data.columns):
        cell.text = ""
        _set_font(cell.paragraphs[0].add_run(str(name)), 10, bold=True)
        cell.paragraphs[0].alignment = WD_ALIGN_PARAGRAPH.CENTER
    header = table.rows[0]._tr.get_or_add_trPr()
    repeat = OxmlElement("w:tblHeader")
    repeat.set(qn("w:val"), "true")
    header.append(repeat)
    if not table_data.rows:
        row = table.add_row().cells
        merged = row[0].merge(row[-1])
        merged.text = ""
        _set_font(merged.paragraphs[0].add_run("Không có số liệu"), 10, italic=True)
    for values in table_data.rows:
        cells = table.add_row().cells
        for index, (cell, value) in enumerate(zip(cells, values)):
            cell.text = ""
            _set_font(cell.paragraphs[0].add_run("" if value is None else str(value)), 10,
                      bold=str(values[1]) == "Tổng cộng")
            if index in table_data.numeric:
                cell.paragraphs[0].alignment = WD_ALIGN_PARAGRAPH.RIGHT
    _paragraph(document, "", space_after=4)
    return table


def build_docx(report: Report) -> Document:
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
    _paragraph(document, f"({report.period.dates_vi()})", size=13, italic=True, align=WD_ALIGN_PARAGRAPH.CENTER,
               space_after=8)
    facts = document.add_table(rows=0, cols=2)
    facts.style = "Table Grid"
    for name, value in report.facts():
        cells = facts.add_row().cells
        _set_font(cells[0].paragraphs[0].add_run(name), 10, bold=True)
        _set_font(cells[1].paragraphs[0].add_run(value), 10)
        cells[0].width, cells[1].width = Cm(4), Cm(12)
    _paragraph(document, "", space_after=4)

    for number, part in enumerate(report.sections):
        _paragraph(document, f"{ROMAN[number]}. {part.heading.upper()}", size=13, bold=True, space_after=4)
        for text in part.paragraphs:
            _paragraph(document, text, indent=True, align=WD_ALIGN_PARAGRAPH.JUSTIFY)
        for figure in part.figures:
            _paragraph(document, figure.title, size=12, bold=True, italic=True, space_after=2)
            document.add_picture(io.BytesIO(figure.png), width=Cm(15.5))
            document.paragraphs[-1].alignment = WD_ALIGN_PARAGRAPH.CENTER
            if figure.caption:
                _paragraph(document, figure.caption, size=10, italic=True, align=WD_ALIGN_PARAGRAPH.CENTER)
        for table_data in part.tables:
            _table(document, table_data)

    closing = document.add_table(rows=1, cols=2)
    left, right = closing.rows[0].cells
    _paragraph(left, "Nơi nhận:", size=12, bold=True, italic=True, space_after=0, first=True)
    recipients = ["- Ban Chỉ đạo 138 Tỉnh (qua Công an Tỉnh);", "- Lưu: VT."] if report.district_code else \
        ["- Ban Chỉ đạo 138/CP (Bộ Công an);", "- Thường trực Tỉnh ủy;", "- UBND Tỉnh;", "- Lưu: VT."]
    for line in recipients:
        _paragraph(left, line, size=11, space_after=0)
    _paragraph(right, "TRƯỞNG BAN", size=13, bold=True, align=WD_ALIGN_PARAGRAPH.CENTER, space_after=48, first=True)
    _paragraph(right, "(ký, ghi rõ họ tên)", size=12, italic=True, align=WD_ALIGN_PARAGRAPH.CENTER)

    footer = section.footer.paragraphs[0]
    _set_font(footer.add_run(f"{report.period.label_vi} ({report.period.dates_vi()}) · phiên bản dữ liệu "
                             f"{report.data_version} · lập lúc {report.generated_at:%H:%M %d/%m/%Y}"
                             + (" · DỮ LIỆU MINH HỌA" if report.demo else "")), 8, italic=True)
    return document


def write_docx(report: Report, target) -> None:
    """Write the report to a path or a binary file object."""
    build_docx(report).save(target)


def docx_bytes(report: Report) -> bytes:
    buffer = io.BytesIO()
    write_docx(report, buffer)
    return buffer.getvalue()

"""Blank incident files a clerk fills in: CSV and XLSX templates with the accepted values.

The columns are :data:`geo.incidents.INCIDENT_FIELDS` (canonical names, which
:func:`geo.incidents.read_incident_table` reads); the XLSX adds a sheet of accepted values per coded column
(:mod:`geo.taxonomy`) and list validations on the data sheet (Office Open XML data validation, ECMA-376 Part 1
§18.3.1.32, written with openpyxl), so a spreadsheet offers only values the importer accepts. The data sheet
comes first because the importer reads an XLSX's first sheet.
"""
from __future__ import annotations

import codecs
import csv
import io
from dataclasses import dataclass

from geo.incidents import INCIDENT_FIELDS, REQUIRED_INCIDENT_FIELDS
from geo.taxonomy import CASE_STATUSES, CATEGORIES, SEVERITIES

DATA_SHEET = "Dữ liệu"
VALUES_SHEET = "Giá trị hợp lệ"
GUIDE_SHEET = "Hướng dẫn"
TEMPLATE_ROWS = 5000  # rows of the data sheet that carry the list validations


@dataclass(frozen=True)
class TemplateColumn:
    name: str
    required: bool
    format_vi: str
    format_en: str
    example: str


_FORMATS = {
    "id": ("Mã vụ việc của hệ thống nguồn, không trùng; nhập lại cùng mã sẽ cập nhật vụ đó",
           "The source system's case id, unique; re-importing an id updates that incident", "PC02-2026-0001"),
    "occurred_at": ("Ngày giờ xảy ra (giờ Việt Nam): 2026-03-05, 2026-03-05 21:30 hoặc 05/03/2026",
                    "When it happened (Vietnam time): 2026-03-05, 2026-03-05 21:30 or 05/03/2026", "05/03/2026 21:30"),
    "reported_at": ("Ngày giờ tiếp nhận, không trước ngày xảy ra", "When it was reported, not before it happened",
                    "06/03/2026"),
    "category": ("Mã hoặc tên loại tội phạm (xem trang «Giá trị hợp lệ»), hoặc để trống và ghi điều luật",
                 "Category code or name (see the accepted-values sheet), or empty with the article given", "theft"),
    "severity": ("Mức độ theo Điều 9 BLHS 2015 (xem trang «Giá trị hợp lệ»)",
                 "Severity under Art. 9 of the Penal Code (see the accepted-values sheet)", "less_serious"),
    "case_status": ("Tình trạng xử lý (xem trang «Giá trị hợp lệ»)", "Case status (see the accepted-values sheet)",
                    "received"),
    "lon": ("Kinh độ WGS 84, số thập phân", "Longitude, WGS 84 decimal degrees", "105.6325"),
    "lat": ("Vĩ độ WGS 84, số thập phân", "Latitude, WGS 84 decimal degrees", "10.4582"),
    "sensitive": ("1/có nếu là vụ bảo mật; vụ mua bán người mặc định là bảo mật",
                  "1/yes for a confidential case; trafficking cases are confidential by default", "0"),
    "description": ("Tóm tắt nội dung", "Summary", "Trộm xe máy trước chợ"),
    "article": ("Điều luật BLHS 2015 bị khởi tố (Điều 173, Đ.249)", "Penal Code article charged (Điều 173, Đ.249)",
                "Điều 173"),
    "clause": ("Khoản", "Clause", "1"),
    "district_code": ("Mã huyện (tùy chọn; chỉ để đối chiếu)", "District code (optional; cross-check only)", ""),
}

#: Coded columns and their accepted values: column -> {code: (Vietnamese, English)}.
ACCEPTED_VALUES: dict[str, dict[str, tuple[str, str]]] = {
    "category": {code: (c.label_vi, c.label_en) for code, c in CATEGORIES.items()},
    "severity": {code: (s.label_vi, s.label_en) for code, s in SEVERITIES.items()},
    "case_status": {code: (s.label_vi, s.label_en) for code, s in CASE_STATUSES.items()},
}


def template_columns() -> list[TemplateColumn]:
    """The template's columns in file order, required ones first."""
    names = list(REQUIRED_INCIDENT_FIELDS) + [f for f in INCIDENT_FIELDS if f not in REQUIRED_INCIDENT_FIELDS]
    return [TemplateColumn(name, name in REQUIRED_INCIDENT_FIELDS, *_FORMATS[name]) for name in names]


def template_csv() -> bytes:
    """The header line as UTF-8 with a BOM (so Excel opens Vietnamese text correctly), comma separated."""
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerow([c.name for c in template_columns()])
    return codecs.BOM_UTF8 + buffer.getvalue().encode("utf-8")


def template_xlsx() -> bytes:
    """A workbook: the empty data sheet (header, list validations), the accepted values and a column guide."""
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.datavalidation import DataValidation

    book = Workbook()
    data = book.active
    data.title = DATA_SHEET
    columns = template_columns()
    data.append([c.name for c in columns])
    for cell in data[1]:
        cell.font = Font(bold=True)
    data.freeze_panes = "A2"
    values = book.create_sheet(VALUES_SHEET)
    values.append(["column", "code", "Tiếng Việt", "English"])
    for cell in values[1]:
        cell.font = Font(bold=True)
    for index, column in enumerate(columns, start=1):
        data.column_dimensions[get_column_letter(index)].width = max(12, len(column.name) + 4)
        accepted = ACCEPTED_VALUES.get(column.name)
        if not accepted:
            continue
        first = values.max_row + 1
        for code, (vi, en) in accepted.items():
            values.append([column.name, code, vi, en])
        last = values.max_row
        letter = get_column_letter(index)
        rule = DataValidation(type="list", formula1=f"='{VALUES_SHEET}'!$B${first}:$B${last}", allow_blank=True,
                              showErrorMessage=column.name != "category")  # names and articles are accepted too
        rule.error = "Giá trị không hợp lệ — xem trang «Giá trị hợp lệ»"
        rule.add(f"{letter}2:{letter}{TEMPLATE_ROWS + 1}")
        data.add_data_validation(rule)
    for letter, width in zip("ABCD", (14, 22, 32, 32)):
        values.column_dimensions[letter].width = width
    guide = book.create_sheet(GUIDE_SHEET)
    guide.append(["column", "bắt buộc / required", "cách ghi", "format", "ví dụ / example"])
    for cell in guide[1]:
        cell.font = Font(bold=True)
    for column in columns:
        guide.append([column.name, "có / yes" if column.required else "không / no", column.format_vi,
                      column.format_en, column.example])
    for letter, width in zip("ABCDE", (16, 18, 70, 70, 24)):
        guide.column_dimensions[letter].width = width
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()

"""The figures behind every table of the report, one worksheet per table, plus a sheet of header facts."""
from __future__ import annotations

import io

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from reports.content import Report

HEADER_FILL = PatternFill("solid", fgColor="DDE3EA")


def _unique_sheet_name(workbook, name: str) -> str:
    base = name[:31]
    candidate, n = base, 2
    while candidate in workbook.sheetnames:
        suffix = f" {n}"
        candidate, n = base[:31 - len(suffix)] + suffix, n + 1
    return candidate


def build_xlsx(report: Report) -> Workbook:
    workbook = Workbook()
    info = workbook.active
    info.title = "Thong tin"
    info.append([report.title, report.subtitle])
    info["A1"].font = Font(bold=True, size=13)
    for name, value in report.facts():
        info.append([name, value])
    info.append([])
    info.append(["Bảng", "Trang tính"])
    info.column_dimensions["A"].width = 24
    info.column_dimensions["B"].width = 110
    for table in report.all_tables():
        sheet = workbook.create_sheet(_unique_sheet_name(workbook, table.sheet))
        info.append([table.title, sheet.title])
        sheet.append([table.title])
        sheet["A1"].font = Font(bold=True, size=12)
        sheet.append([f"{report.period.label_vi} ({report.period.dates_vi()}) · {report.scope} · phiên bản dữ liệu "
                      f"{report.data_version}"])
        sheet.append(table.columns)
        for cell in sheet[3]:
            cell.font = Font(bold=True)
            cell.fill = HEADER_FILL
            cell.alignment = Alignment(wrap_text=True, vertical="top")
        for row in table.rows:
            sheet.append([_cell(v) for v in row])
        sheet.freeze_panes = "A4"
        for index, name in enumerate(table.columns, start=1):
            longest = max([len(str(name))] + [len(str(r[index - 1])) for r in table.rows if index - 1 < len(r)])
            sheet.column_dimensions[get_column_letter(index)].width = min(60, max(8, longest + 2))
    return workbook


def _cell(value):
    return value if isinstance(value, (int, float)) or value is None else str(value)


def write_xlsx(report: Report, target) -> None:
    build_xlsx(report).save(target)


def xlsx_bytes(report: Report) -> bytes:
    buffer = io.BytesIO()
    write_xlsx(report, buffer)
    return buffer.getvalue()

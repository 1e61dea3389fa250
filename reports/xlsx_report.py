"""The figures behind every table of the report, one worksheet per table, plus a sheet of header facts."""
from __future__ import annotations

import io
from datetime import date, datetime

from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from geo.export import spreadsheet_text
from reports.content import Number, Report, cell_text, period_dates, period_label

HEADER_FILL = PatternFill("solid", fgColor="DDE3EA")


def _unique_sheet_name(workbook, name: str) -> str:
    base = name[:31]
    candidate, n = base, 2
    while candidate in workbook.sheetnames:
        suffix = f" {n}"
        candidate, n = base[:31 - len(suffix)] + suffix, n + 1
    return candidate


def build_xlsx(report: Report) -> Workbook:
    """The figures of ``report``, sheet names, titles and column headers in the report's language."""
    workbook = Workbook()
    info = workbook.active
    info.title = report.word("xlsx.info_sheet")
    info.append([_cell(report.title), _cell(report.subtitle)])
    info["A1"].font = Font(bold=True, size=13)
    for name, value in report.typed_facts():
        info.append([_cell(name), _cell(value)])
        if isinstance(value, datetime):
            info.cell(info.max_row, 2).number_format = "dd/mm/yyyy hh:mm"
        elif isinstance(value, date):
            info.cell(info.max_row, 2).number_format = "dd/mm/yyyy"
        elif isinstance(value, int):
            info.cell(info.max_row, 2).number_format = "0"
        info.cell(info.max_row, 2).alignment = Alignment(horizontal="left")
    info.append([])
    info.append([report.word("xlsx.table"), report.word("xlsx.sheet")])
    info.column_dimensions["A"].width = 24
    info.column_dimensions["B"].width = 110
    for table in report.all_tables():
        sheet = workbook.create_sheet(_unique_sheet_name(workbook, table.sheet))
        info.append([_cell(table.title), _cell(sheet.title)])
        sheet.append([_cell(table.title)])
        sheet["A1"].font = Font(bold=True, size=12)
        sheet.append([_cell(report.word("xlsx.subtitle", period=period_label(report.period, report.lang),
                                        dates=period_dates(report.period, report.lang), scope=report.scope,
                                        data_version=report.data_version))])
        sheet.append([_cell(c) for c in table.columns])
        for cell in sheet[3]:
            cell.font = Font(bold=True)
            cell.fill = HEADER_FILL
            cell.alignment = Alignment(wrap_text=True, vertical="top")
        for row in table.rows:
            sheet.append([_cell(v) for v in row])
            for cell, value in zip(sheet[sheet.max_row], row):
                if isinstance(value, Number):
                    cell.number_format = value.excel_format()
                elif isinstance(value, (date, datetime)):
                    cell.number_format = "dd/mm/yyyy"
        sheet.freeze_panes = "A4"
        for index, name in enumerate(table.columns, start=1):
            longest = max([len(str(name))] + [len(cell_text(r[index - 1], report.lang)) for r in table.rows if index - 1 < len(r)])
            sheet.column_dimensions[get_column_letter(index)].width = min(60, max(8, longest + 2))
    return workbook


def _cell(value):
    """Counts, shares, rates and z-scores as numbers, dates as dates (they sort, sum and chart); text as text."""
    if isinstance(value, Number):
        return value.number()
    if value is None or isinstance(value, (int, float, date, datetime)):
        return value
    if hasattr(value, "item"):  # numpy scalars
        return value.item()
    # openpyxl stores any text starting with "=" as a live formula, and refuses control characters
    return spreadsheet_text(ILLEGAL_CHARACTERS_RE.sub("", str(value)))


def write_xlsx(report: Report, target) -> None:
    build_xlsx(report).save(target)


def xlsx_bytes(report: Report) -> bytes:
    buffer = io.BytesIO()
    write_xlsx(report, buffer)
    return buffer.getvalue()

"""``flask --app server report --period 2024-Q1|2024-H1|2024-Q3|2024 [--district CODE] --out FILE.docx|.xlsx``"""
from __future__ import annotations

from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext

from geo.errors import GeoInputError
from cli import cli_language, say


def register(app) -> None:
    app.cli.add_command(report_command)


@click.command("report")
@click.option("--period", "period_code", required=True,
              help="2024-Q1, 2024-H1, 2024-Q3 (nine months by default), 2024, or 2024-01-01..2024-03-31")
@click.option("--district", default=None, help="District code (default: the whole province)")
@click.option("--out", "out_path", required=True, type=click.Path(dir_okay=False),
              help="Output file; .docx (Word report) or .xlsx (figures)")
@with_appcontext
def report_command(period_code, district, out_path):
    """Write the quarterly/annual report of the plan's targets as .docx or .xlsx.

    Run as the system: sensitive (trafficking) cases are counted but never located. The file is worded in the
    commands' language (CLI_LANGUAGE / BANDO_CLI_LANGUAGE, default vi).
    """
    from geo.periods import parse_period, scheme_from_config
    from reports.content import build_report, log_delivered
    from reports.docx_report import write_docx
    from reports.xlsx_report import write_xlsx
    from store.boundaries import known_district_codes

    suffix = Path(out_path).suffix.lower()
    if suffix not in (".docx", ".xlsx"):
        raise click.UsageError(say("cli.report.out_end_docx_xlsx", out_path=out_path))
    scheme = scheme_from_config(current_app.config)
    try:
        period = parse_period(period_code, scheme=scheme)
    except GeoInputError as e:
        raise click.UsageError(say("cli.report.period", e=e)) from None
    db = current_app.extensions["db"]
    session = db.Session()
    try:
        if district and district not in known_district_codes(session):
            raise click.UsageError(say("cli.report.district_one", district=district,
                                       known_district_codes=', '.join(sorted(known_district_codes(session)))))
        report = build_report(session, None, period, district_code=district, scheme=scheme, lang=cli_language())
    finally:
        session.close()
    (write_docx if suffix == ".docx" else write_xlsx)(report, out_path)
    log_delivered(report, file_format=suffix.lstrip("."), by="cli")
    click.echo(say("cli.report.data_version", out_path=out_path, period_label=(period.label_vi, period.label_en),
                   period=(period.dates_vi(), period.dates_en()), report_scope=report.scope, report_data_version=report.data_version))

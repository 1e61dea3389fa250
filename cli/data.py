"""Data commands: ``load-boundaries``, ``seed-demo``, ``import-incidents``, ``export-incidents``."""
from __future__ import annotations

import json
import sys
from datetime import date, timedelta
from pathlib import Path

import click
from flask.cli import with_appcontext
from flask import current_app
from sqlalchemy import select
from translations import message
from cli import cli_language, say, worded

BOUNDARY_FILE = "boundaries/dong_thap_communes_2024.geojson"
POPULATION_FILE = "population/dong_thap_population_2019.csv"


def register(app) -> None:
    for command in (load_boundaries, load_crosswalk, seed_demo, import_incidents_command, export_incidents):
        app.cli.add_command(command)


def default_path(config_key: str, relative: str) -> Path:
    configured = current_app.config.get(config_key)
    return Path(configured) if configured else Path(current_app.config["DATA_DIR"]) / relative


def parse_field_map(pairs) -> dict | None:
    mapping = {}
    for pair in pairs:
        if "=" not in pair:
            raise click.BadParameter(say("cli.data.field_column", pair=pair), param_hint="--field")
        key, column = pair.split("=", 1)
        mapping[key.strip()] = column.strip()
    return mapping or None


@click.command("load-boundaries")
@with_appcontext
@click.argument("path", required=False, type=click.Path(dir_okay=False))
@click.option("--field", "fields", multiple=True, metavar="FIELD=COLUMN",
              help="Map a column of your file to a field, e.g. --field commune_code=MA_XA (repeatable)")
@click.option("--crs", default=None, help="CRS of the file when its .prj is missing or wrong, e.g. EPSG:9210")
@click.option("--layer", default=None, help="Layer name inside a GeoPackage")
@click.option("--version", "version_label", default="2024", show_default=True,
              help="Id of this boundary set (with PATH), e.g. 2024, 2025-07")
@click.option("--effective-date", default="2020-01-01", show_default=True,
              help="First day the set is in force (with PATH)")
@click.option("--effective-to", default=None,
              help="First day the set is no longer in force (with PATH; default: until a later set starts)")
@click.option("--replaces", default=None, metavar="SET_ID",
              help="Replace this stored set (required when the id is taken or to correct a set's file)")
@click.option("--supersedes", default=None, metavar="SET_ID",
              help="The current set this one follows: it ends the day before --effective-date")
@click.option("--population", "population_path", default=None, type=click.Path(dir_okay=False),
              help="Residents per commune (CSV/XLSX); default: DATA_DIR/" + POPULATION_FILE)
@click.option("--population-field", "population_fields", multiple=True, metavar="FIELD=COLUMN")
@click.option("--population-year", default=2019, show_default=True, type=int)
@click.option("--if-empty", is_flag=True, help="Do nothing when a boundary set is already loaded")
@click.option("--set", "constants", multiple=True, metavar="FIELD=VALUE",
              help="A field the file lacks, with one value for every commune, e.g. --set province_code=87")
@click.option("--encoding", default=None, metavar="CODEC",
              help="Encoding of a shapefile's attributes when no .cpg says it (default: detected, UTF-8 or cp1258)")
@click.option("--force", is_flag=True,
              help="Load even when the outline lies farther than --shift-tolerance from the previous set of the "
                   "province")
@click.option("--shift-tolerance", default=500.0, show_default=True, type=float, metavar="METRES",
              help="Largest accepted shift against the previous set of the same province")
def load_boundaries(path, fields, crs, layer, version_label, effective_date, effective_to, replaces, supersedes,
                    population_path, population_fields, population_year, if_empty, constants, encoding, force,
                    shift_tolerance):
    """Load commune boundaries (any CRS) and population into the database.

    Without PATH, loads the shipped sets from DATA_DIR: 2024, 2025-01 (derived) and 2025-07, with their
    population and crosswalks. With PATH, loads one set of your own as a new version.
    """
    from geo.boundaries import read_communes, read_population
    from geo.errors import GeoInputError
    from store.boundaries import save_boundary_set, save_population, set_rows
    from store.shipped_boundaries import read_shipped_sets, save_shipped_sets

    db = current_app.extensions["db"]
    if if_empty:
        with db.transaction() as session:
            if set_rows(session):
                click.echo(say("cli.data.boundaries_already_loaded_nothing"))
                return
    if path is None:
        try:
            shipped = read_shipped_sets(current_app.config["DATA_DIR"],
                                        boundaries_path=current_app.config.get("BOUNDARIES_PATH") or None,
                                        population_path=population_path or current_app.config.get("POPULATION_PATH")
                                        or None)
            with db.transaction() as session:
                lines = save_shipped_sets(session, shipped)
        except (GeoInputError, ValueError, OSError) as e:
            raise click.ClickException(worded(e)) from None
        for line in lines:
            click.echo(line.text(cli_language()))
        for boundary_set in shipped.sets:
            for line in boundary_set.repairs:
                click.echo(say("cli.data.repaired_2", version=boundary_set.version, line=line))
        return
    from geo import boundary_intake
    from geo.boundaries import COMMUNE_FIELDS

    boundary_path = Path(path)
    check_crs_option(crs)
    try:
        constant_values = boundary_intake.parse_constants(constants, COMMUNE_FIELDS)
    except GeoInputError as e:
        raise click.BadParameter(worded(e), param_hint="'--set'") from None
    try:
        boundary_set = read_communes(boundary_path, field_map=parse_field_map(fields), crs=crs, layer=layer,
                                     version=version_label, effective_date=date.fromisoformat(effective_date),
                                     constants=constant_values, encoding=encoding,
                                     options=boundary_intake.CLI_OPTIONS)
        compare_with_previous_set(db, boundary_set, crs=crs, force=force, tolerance_m=shift_tolerance)
        if effective_to:
            boundary_set.effective_to = date.fromisoformat(effective_to)
        population = None
        if population_path:
            pop_path = Path(population_path)
            if not pop_path.exists():
                raise GeoInputError(message("cli.data.population_file_does_exist", pop_path=str(pop_path)))
            population = read_population(pop_path, field_map=parse_field_map(population_fields),
                                         year=population_year, boundaries=boundary_set)
        with db.transaction() as session:
            save_boundary_set(session, boundary_set, replaces=replaces, supersedes=supersedes)
            if population is not None:
                save_population(session, population, source=str(pop_path), boundary_set=boundary_set.version)
    except (GeoInputError, ValueError, OSError) as e:
        raise click.ClickException(worded(e)) from None
    communes = boundary_set.communes
    levels = (message("cli.data.in_districts", n=communes["district_code"].nunique()) if boundary_set.has_districts
              else message("cli.data.without_district_level"))
    click.echo(say("cli.data.loaded_communes_boundary_set", n_communes=len(communes), levels=levels,
                   version=boundary_set.version, effective_date=boundary_set.effective_date))
    for line in boundary_set.repairs:
        click.echo(say("cli.data.repaired", line=line))
    if population is not None:
        click.echo(say("cli.data.loaded_population_communes", population_year=population_year,
                       n_population=len(population)))
    else:
        click.echo(say("cli.data.population_file_population_rates"))


def check_crs_option(crs) -> None:
    """Refuse a ``--crs`` pyproj cannot read as a usage error of that flag (not as a fault of the file)."""
    if crs is None:
        return
    from pyproj import CRS
    from pyproj.exceptions import CRSError

    try:
        CRS.from_user_input(crs)
    except CRSError:
        raise click.BadParameter(say("cli.data.crs_pyproj_knows_e", crs=crs),
                                 param_hint="'--crs'") from None


def compare_with_previous_set(db, boundary_set, *, crs, force: bool, tolerance_m: float) -> None:
    """Refuse a set shifted from the previous set of its province (a wrong --crs) unless ``force``."""
    from geo import boundary_intake
    from geo.errors import GeoInputError
    from store.boundaries import latest_set_of_province

    with db.transaction() as session:
        previous = latest_set_of_province(session, boundary_set.province_code)
    if previous is None or previous[1].empty:
        return
    key, communes = previous
    try:
        shift = boundary_intake.check_shift(boundary_set.communes, communes, previous_label=key,
                                            tolerance_m=tolerance_m, crs_given=crs,
                                            options=boundary_intake.CLI_OPTIONS, force_hint="--force")
    except GeoInputError:
        if not force:
            raise
        shift = boundary_intake.outline_shift(boundary_set.communes, communes)
        click.echo(say("cli.data.force_loading_although_communes", shift=shift.describe(), set_key=key), err=True)
        return
    if shift is not None:
        click.echo(say("cli.data.outline_checked_against_set", set_key=key, shift=shift.describe()), err=True)


@click.command("load-crosswalk")
@with_appcontext
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--from", "from_key", required=True, metavar="SET_ID", help="Set of the old_code column")
@click.option("--to", "to_key", required=True, metavar="SET_ID", help="Set of the new_code column")
def load_crosswalk(file, from_key, to_key):
    """Load a crosswalk CSV (old_code, new_code, alloc_weight) between two loaded boundary sets."""
    from geo.boundary_sets import read_crosswalk_csv
    from geo.errors import GeoInputError
    from store.boundaries import save_crosswalk

    db = current_app.extensions["db"]
    try:
        crosswalk = read_crosswalk_csv(file, from_key=from_key, to_key=to_key)
        with db.transaction() as session:
            n = save_crosswalk(session, crosswalk)
    except GeoInputError as e:
        raise click.ClickException(worded(e)) from None
    click.echo(say("cli.data.crosswalk_links_loaded", from_key=from_key, to_key=to_key, n=n))


@click.command("seed-demo")
@with_appcontext
@click.option("--seed", default=138, show_default=True, type=int)
@click.option("--until", "until", default=None, metavar="YYYY-MM-DD",
              help="Last day of the demo (default: the end of the last full month before today)")
@click.option("--if-empty", is_flag=True, help="Do nothing when incidents already exist")
def seed_demo(seed, until, if_empty):
    """Generate illustrative (not real) incidents and tracker records from December 2022 up to now.

    Each stretch is drawn on the boundary set in force then: old Đồng Tháp (2024 set) until 30/06/2025,
    the new province of 102 communes (2025-07 set, old Tiền Giang included) from 01/07/2025.
    """
    from geo.demo import (BORDER_COMMUNES, BORDER_COMMUNES_2025, DEMO_LABEL_EN, DEMO_LABEL_VI, GENERAL_PER_YEAR, DemoPhase,
                          generate_demo_timeline, last_full_month_end)
    from store.boundaries import communes_frame, population_frame, set_rows
    from store.importing import import_incidents
    from store.incidents import incident_count

    try:
        end = date.fromisoformat(until) if until else last_full_month_end(date.today())
    except ValueError:
        raise click.BadParameter(say("cli.data.date_yyyy_mm_dd", until=until), param_hint="--until") from None
    if end > date.today():
        raise click.BadParameter(say("cli.data.future", end=end), param_hint="--until")
    db = current_app.extensions["db"]
    with db.transaction() as session:
        if if_empty and incident_count(session) > 0:
            click.echo(say("cli.data.incidents_already_present_demo"))
            return
        rows = {row.version: row for row in set_rows(session)}
        if not rows:
            raise click.ClickException(say("cli.data.boundaries_loaded_run_flask"))
        first = rows.get("2024") or next(iter(rows.values()))
        communes = communes_frame(session, first.version)
        population = population_frame(session, boundary_set=first.version)
        phases = []
        # From December 2022: the default reporting year runs 01/12–30/11 (geo/periods.py), so 2023 is whole.
        reform = rows.get("2025-07")
        first_end = min(end, reform.effective_date - timedelta(days=1)) if reform is not None else end
        phases.append(DemoPhase(communes, population, date(2022, 12, 1), first_end, BORDER_COMMUNES,
                                GENERAL_PER_YEAR))
        if reform is not None and end >= reform.effective_date:
            new_communes = communes_frame(session, "2025-07")
            new_population = population_frame(session, boundary_set="2025-07")
            # The same incidents per resident as old Đồng Tháp, over the whole new province.
            old_dt = new_communes["former_district_code"] != ""
            weights = dict(zip(new_population["commune_code"], new_population["population"]))
            total = sum(weights.values()) or 1
            old_share = sum(weights.get(c, 0) for c in new_communes.loc[old_dt, "commune_code"]) / total or 1
            phases.append(DemoPhase(new_communes, new_population, reform.effective_date, end, BORDER_COMMUNES_2025,
                                    GENERAL_PER_YEAR / old_share))
    frame = generate_demo_timeline(phases, seed=seed)
    report = import_incidents(db, None, frame=frame, filename=f"demo-seed-{seed}", username="seed-demo",
                              is_demo=True)
    if not report.committed:
        raise click.ClickException(say("cli.data.demo_invalid_rows", rows="\n".join(report.error_lines()[:20])))
    click.echo(say("cli.data.illustrative_incidents_written", report_written=report.written,
                   phases_start=phases[0].start, end=end, demo_label=(DEMO_LABEL_VI, DEMO_LABEL_EN)))
    for hook in current_app.extensions.get("demo_seeders", []):
        click.echo(hook(db, seed))


@click.command("import-incidents")
@with_appcontext
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--skip-invalid", is_flag=True, help="Write the valid rows and report the others")
@click.option("--encoding", default=None, metavar="CODEC",
              help="Encoding of a CSV file (e.g. utf-8, cp1258); default: detected (UTF-8, else Windows-1258)")
@click.option("--category-map", "category_map_path", type=click.Path(exists=True, dir_okay=False), default=None,
              help="CSV of the office's own offence names: columns name,category (a name may be 'Điều N')")
@click.option("--error-report", "error_report", type=click.Path(dir_okay=False, writable=True), default=None,
              help="Write every refused value (row, field, value, reason) to this CSV; the terminal shows the "
                   "refused rows grouped by reason")
def import_incidents_command(file, skip_invalid, encoding, category_map_path, error_report):
    """Import incidents from CSV, XLSX or GeoJSON (atomic unless --skip-invalid; upsert by id)."""
    from geo.errors import GeoInputError
    from store.importing import import_incidents

    db = current_app.extensions["db"]
    bar = {"bar": None}

    def progress(stage, done, total):
        if stage == "write" and total > 20_000:
            if bar["bar"] is None:
                bar["bar"] = click.progressbar(length=total, label=say("cli.data.stage.writing"), file=sys.stderr)
                bar["bar"].__enter__()
            bar["bar"].update(done - bar["bar"].pos)
        elif stage != "write":
            click.echo(say("cli.data.rows", stage=message(f"cli.data.stage.{stage}"), done=done), err=True)

    from sqlalchemy.exc import OperationalError

    from store.db import explain_operational_error

    category_map = None
    if category_map_path:
        from geo.offences import read_category_map

        try:
            category_map = read_category_map(category_map_path)
        except GeoInputError as e:
            raise click.BadParameter(worded(e), param_hint="'--category-map'") from None
        click.echo(say("cli.data.category_map_office_names", n_category_map=len(category_map.entries()),
                       category_map_path=category_map_path), err=True)
    try:
        report = import_incidents(db, file, skip_invalid=skip_invalid, username="cli", progress=progress,
                                  encoding=encoding, category_map=category_map)
    except (GeoInputError, ValueError, OSError) as e:
        raise click.ClickException(worded(e)) from None
    except OperationalError as e:
        raise click.ClickException(explain_operational_error(e)) from None
    finally:
        if bar["bar"] is not None:
            bar["bar"].__exit__(None, None, None)
    if report.encoding:
        click.echo(report.read_as_line(cli_language()) + ("" if encoding else say("cli.data.detected")), err=True)
    # Grouped by reason: 200,000 bad rows read as a few lines; --error-report keeps the row-by-row list.
    for line in report.error_group_lines(cli_language()) + report.warning_lines():
        click.echo(line, err=True)
    if error_report and report.errors:
        from store.importing import error_report_csv

        Path(error_report).write_text(error_report_csv(report.errors), encoding="utf-8")
        click.echo(say("cli.data.every_refused_value_written", n_report_errors=len(report.errors),
                       error_report=error_report), err=True)
    if report.committed:
        click.echo(say("cli.data.rows_written_unchanged_refused", report_rows=report.rows,
                       report_written=report.written, report_unchanged=report.unchanged,
                       report_refused=report.refused))
    else:
        click.echo(say("cli.data.rows_refused_nothing_was", report_refused=report.refused, report_rows=report.rows), err=True)
    if report.errors:
        sys.exit(1)


@click.command("export-incidents")
@with_appcontext
@click.option("--format", "fmt", type=click.Choice(["csv", "geojson"]), default="csv", show_default=True)
@click.option("--year", type=int, default=None)
@click.option("--out", type=click.Path(dir_okay=False), default=None, help="File to write (default: stdout)")
@click.option("--include-sensitive", is_flag=True,
              help="Include sensitive cases (only for an operator cleared for them)")
@click.option("--boundary-set", "boundary_set", default=None, metavar="SET_ID",
              help="Write each incident's commune in this set (default: the set in force on its date)")
def export_incidents(fmt, year, out, include_sensitive, boundary_set):
    """Export incidents as CSV or GeoJSON; sensitive cases are left out unless --include-sensitive.

    The boundary_set column names the set each row's commune_code and district_code belong to.
    """
    from geo.errors import GeoInputError
    from geo.export import incidents_to_csv, incidents_to_geojson
    from store.incidents import case_records, incident_frame

    db = current_app.extensions["db"]
    viewer = type("Operator", (), {"sensitive_clearance": include_sensitive})()
    try:
        with db.transaction() as session:
            redacted = incident_frame(session, year=year, viewer=viewer, boundary_set=boundary_set,
                                      as_recorded=boundary_set is None)
    except GeoInputError as e:
        raise click.ClickException(worded(e)) from None
    if redacted.attrs.get("outside_set"):
        click.echo(say("cli.data.incidents_lie_outside_boundary", redacted_attrs=redacted.attrs['outside_set'],
                       boundary_set=boundary_set), err=True)
    frame = case_records(redacted)
    if len(frame) < len(redacted):
        click.echo(say("cli.data.confidential_cases_left_out", n_redacted=len(redacted) - len(frame)), err=True)
    text = incidents_to_csv(frame) if fmt == "csv" else json.dumps(incidents_to_geojson(frame), ensure_ascii=False)
    if out:
        Path(out).write_text(text, encoding="utf-8", newline="")  # the CSV brings its own CRLF line ends
        click.echo(say("cli.data.incidents_written", n_frame=len(frame), out=out), err=True)
    else:
        click.echo(text)

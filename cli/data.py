"""Data commands: ``load-boundaries``, ``seed-demo``, ``import-incidents``, ``export-incidents``."""
from __future__ import annotations

import json
import sys
from datetime import date
from pathlib import Path

import click
from flask.cli import with_appcontext
from flask import current_app
from sqlalchemy import select

BOUNDARY_FILE = "boundaries/dong_thap_communes_2024.geojson"
POPULATION_FILE = "population/dong_thap_population_2019.csv"


def register(app) -> None:
    for command in (load_boundaries, seed_demo, import_incidents_command, export_incidents):
        app.cli.add_command(command)


def default_path(config_key: str, relative: str) -> Path:
    configured = current_app.config.get(config_key)
    return Path(configured) if configured else Path(current_app.config["DATA_DIR"]) / relative


def parse_field_map(pairs) -> dict | None:
    mapping = {}
    for pair in pairs:
        if "=" not in pair:
            raise click.BadParameter(f"{pair!r} is not FIELD=COLUMN", param_hint="--field")
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
@click.option("--version", "version_label", default="2024", show_default=True, help="Label of this boundary set")
@click.option("--effective-date", default="2024-01-01", show_default=True, help="First day the set is valid")
@click.option("--population", "population_path", default=None, type=click.Path(dir_okay=False),
              help="Residents per commune (CSV/XLSX); default: DATA_DIR/" + POPULATION_FILE)
@click.option("--population-field", "population_fields", multiple=True, metavar="FIELD=COLUMN")
@click.option("--population-year", default=2019, show_default=True, type=int)
@click.option("--if-empty", is_flag=True, help="Do nothing when a boundary set is already loaded")
def load_boundaries(path, fields, crs, layer, version_label, effective_date, population_path, population_fields,
                    population_year, if_empty):
    """Load commune boundaries (any CRS) and population into the database."""
    from geo.boundaries import read_communes, read_population
    from geo.errors import GeoInputError
    from store.boundaries import active_boundary_set, save_boundary_set, save_population

    db = current_app.extensions["db"]
    if if_empty:
        with db.transaction() as session:
            if active_boundary_set(session) is not None:
                click.echo("boundaries already loaded; nothing to do")
                return
    boundary_path = Path(path) if path else default_path("BOUNDARIES_PATH", BOUNDARY_FILE)
    try:
        boundary_set = read_communes(boundary_path, field_map=parse_field_map(fields), crs=crs, layer=layer,
                                     version=version_label, effective_date=date.fromisoformat(effective_date))
        pop_path = Path(population_path) if population_path else default_path("POPULATION_PATH", POPULATION_FILE)
        population = None
        if pop_path.exists():
            population = read_population(pop_path, field_map=parse_field_map(population_fields),
                                         year=population_year, boundaries=boundary_set)
        elif population_path:
            raise GeoInputError(f"population file {str(pop_path)!r} does not exist")
    except (GeoInputError, ValueError, OSError) as e:
        raise click.ClickException(str(e)) from None
    with db.transaction() as session:
        save_boundary_set(session, boundary_set)
        if population is not None:
            save_population(session, population, source=str(pop_path))
    communes = boundary_set.communes
    click.echo(f"loaded {len(communes)} communes in {communes['district_code'].nunique()} districts "
               f"(version {boundary_set.version}, effective {boundary_set.effective_date})")
    for line in boundary_set.repairs:
        click.echo(f"repaired: {line}")
    if population is not None:
        click.echo(f"loaded population {population_year} for {len(population)} communes")
    else:
        click.echo("no population file: rates per 10,000 residents are unavailable")


@click.command("seed-demo")
@with_appcontext
@click.option("--seed", default=138, show_default=True, type=int)
@click.option("--if-empty", is_flag=True, help="Do nothing when incidents already exist")
def seed_demo(seed, if_empty):
    """Generate illustrative (not real) incidents and tracker records for 2023–2025."""
    from geo.demo import DEMO_LABEL_EN, generate_demo_incidents
    from store.boundaries import communes_frame, population_frame
    from store.importing import import_incidents
    from store.incidents import incident_count

    db = current_app.extensions["db"]
    with db.transaction() as session:
        if if_empty and incident_count(session) > 0:
            click.echo("incidents already present; demo data not added")
            return
        communes = communes_frame(session)
        population = population_frame(session)
    if communes.empty:
        raise click.ClickException("no boundaries loaded: run `flask --app server load-boundaries` first")
    # From December 2022: the default reporting year runs 01/12–30/11 (geo/periods.py), so 2023 is whole.
    frame = generate_demo_incidents(communes, population, seed=seed, start=date(2022, 12, 1))
    report = import_incidents(db, None, frame=frame, filename=f"demo-seed-{seed}", username="seed-demo",
                              is_demo=True)
    if not report.committed:
        raise click.ClickException("demo generator produced invalid rows:\n" + "\n".join(report.error_lines()[:20]))
    click.echo(f"{report.written} illustrative incidents written ({DEMO_LABEL_EN})")
    for hook in current_app.extensions.get("demo_seeders", []):
        click.echo(hook(db, seed))


@click.command("import-incidents")
@with_appcontext
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--skip-invalid", is_flag=True, help="Write the valid rows and report the others")
def import_incidents_command(file, skip_invalid):
    """Import incidents from CSV, XLSX or GeoJSON (atomic unless --skip-invalid; upsert by id)."""
    from geo.errors import GeoInputError
    from store.importing import import_incidents

    db = current_app.extensions["db"]
    bar = {"bar": None}

    def progress(stage, done, total):
        if stage == "write" and total > 20_000:
            if bar["bar"] is None:
                bar["bar"] = click.progressbar(length=total, label="writing", file=sys.stderr)
                bar["bar"].__enter__()
            bar["bar"].update(done - bar["bar"].pos)
        elif stage != "write":
            click.echo(f"{stage}: {done} rows", err=True)

    from sqlalchemy.exc import OperationalError

    from store.db import explain_operational_error

    try:
        report = import_incidents(db, file, skip_invalid=skip_invalid, username="cli", progress=progress)
    except (GeoInputError, ValueError, OSError) as e:
        raise click.ClickException(str(e)) from None
    except OperationalError as e:
        raise click.ClickException(explain_operational_error(e)) from None
    finally:
        if bar["bar"] is not None:
            bar["bar"].__exit__(None, None, None)
    for line in report.error_lines() + report.warning_lines():
        click.echo(line, err=True)
    if report.committed:
        click.echo(f"{report.rows} rows: {report.written} written, {report.unchanged} unchanged, "
                   f"{report.refused} refused")
    else:
        click.echo(f"{report.refused} of {report.rows} rows refused; nothing was written "
                   f"(use --skip-invalid to import the valid rows)", err=True)
    if report.errors:
        sys.exit(1)


@click.command("export-incidents")
@with_appcontext
@click.option("--format", "fmt", type=click.Choice(["csv", "geojson"]), default="csv", show_default=True)
@click.option("--year", type=int, default=None)
@click.option("--out", type=click.Path(dir_okay=False), default=None, help="File to write (default: stdout)")
@click.option("--include-sensitive", is_flag=True,
              help="Exact points of sensitive cases (only for an operator cleared for them)")
def export_incidents(fmt, year, out, include_sensitive):
    """Export incidents as CSV or GeoJSON; sensitive cases are redacted unless --include-sensitive."""
    from geo.export import incidents_to_csv, incidents_to_geojson
    from store.incidents import incident_frame

    db = current_app.extensions["db"]
    viewer = type("Operator", (), {"sensitive_clearance": include_sensitive})()
    with db.transaction() as session:
        frame = incident_frame(session, year=year, viewer=viewer)
    text = incidents_to_csv(frame) if fmt == "csv" else json.dumps(incidents_to_geojson(frame), ensure_ascii=False)
    if out:
        Path(out).write_text(text, encoding="utf-8")
        click.echo(f"{len(frame)} incidents written to {out}", err=True)
    else:
        click.echo(text)

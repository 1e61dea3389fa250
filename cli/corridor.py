"""Border-corridor commands: ``corridor-stats`` (the statistics table as CSV, for batch jobs) and
``load-border-gates`` (seed the gate table from the data files; the pages also do it on first use)."""
from __future__ import annotations

from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext
from cli import say, worded


class _SystemViewer:
    """The batch job counts every incident in its band, segment and gate (the CSV holds counts only, never a
    coordinate), so sensitive cases are included in the aggregates."""

    sensitive_clearance = True


def register(app) -> None:
    app.cli.add_command(corridor_stats)
    app.cli.add_command(load_border_gates)


@click.command("load-border-gates")
@with_appcontext
@click.option("--path", "path", default=None, type=click.Path(exists=True, dir_okay=False),
              help="GeoJSON of gates (default: DATA_DIR/boundaries/border_gates.geojson)")
def load_border_gates(path):
    """Seed the border gates once (the file's points plus the gates still to be placed); later runs do nothing."""
    from store.gates import GATES_FILE, is_seeded, seed_gates

    db = current_app.extensions["db"]
    source = Path(path) if path else Path(current_app.config["DATA_DIR"]) / GATES_FILE
    with db.transaction() as session:
        if is_seeded(session):
            click.echo(say("cli.corridor.border_gates_already_seeded"))
            return
        added = seed_gates(session, source, username="cli")
    click.echo(say("cli.corridor.border_gates_added_from", added=added, source=source))


@click.command("corridor-stats")
@with_appcontext
@click.option("--year", type=int, default=None, help="Year to summarise (default: the latest year with incidents)")
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False), help="CSV file to write")
@click.option("--bands", default="0,2,5,10", show_default=True, help="Band edges in km, comma separated")
@click.option("--segment-km", default=5.0, show_default=True, type=float, help="Border segment length in km")
@click.option("--whole-years", is_flag=True,
              help="Compare with the whole previous year even when the data end earlier in --year")
def corridor_stats(year, out, bands, segment_km, whole_years):
    """Write the corridor statistics (by category, band, segment, gate and month, change vs previous year)."""
    from geo.errors import GeoInputError
    from store.corridor import corridor_analysis, corridor_geometry
    from store.gates import ensure_seeded
    from store.incidents import incident_years

    db = current_app.extensions["db"]
    try:
        edges = tuple(float(v) * 1000.0 for v in bands.split(","))
    except ValueError:
        raise click.BadParameter(say("cli.corridor.list_numbers_km", bands=bands), param_hint="--bands") from None
    ensure_seeded(db, current_app.config["DATA_DIR"])
    with db.transaction() as session:
        if year is None:
            years = incident_years(session)
            if not years:
                raise click.ClickException(say("cli.corridor.incidents_database_give_year"))
            year = years[-1]
        try:
            geometry = corridor_geometry(session, current_app.config["DATA_DIR"], edges_m=edges,
                                         segment_length_m=segment_km * 1000.0)
            result = corridor_analysis(session, geometry, year=year, viewer=_SystemViewer(),
                                       same_span=not whole_years)
        except GeoInputError as error:
            raise click.ClickException(worded(error)) from None
    table = result.statistics
    from geo.export import spreadsheet_csv

    # newline="": the CRLF line ends are the CSV's own
    with open(out, "w", encoding="utf-8", newline="") as handle:
        handle.write(spreadsheet_csv(table, float_format="%.6g"))
    total = int(table.loc[table["dimension"] == "total", "count"].iloc[0])
    click.echo(say("cli.corridor.rows_written_year_incidents", n_table=len(table), out=out, year=year, total=total), err=True)

"""``build-basemap``: the app's own offline vector basemap (PMTiles) from the stored boundaries and data files."""
from __future__ import annotations

import os
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext
from cli import say, worded


def register(app) -> None:
    app.cli.add_command(build_basemap)


@click.command("build-basemap")
@click.argument("out", required=False, type=click.Path(dir_okay=False))
@click.option("--rivers", type=click.Path(exists=True, dir_okay=False),
              help="Vector file (GeoJSON, GeoPackage, Shapefile; any CRS) of rivers or water areas to draw")
@click.option("--roads", type=click.Path(exists=True, dir_okay=False), help="Vector file of roads to draw")
@click.option("--min-zoom", default=6, show_default=True, type=click.IntRange(0, 15),
              help="Lowest data zoom (the map draws zoom z+1 from it)")
@click.option("--max-zoom", default=13, show_default=True, type=click.IntRange(0, 15),
              help="Highest data zoom (the map draws zoom 14 from it and over-zooms beyond)")
@click.option("--if-missing", is_flag=True, help="Do nothing when OUT already exists (for setup)")
@with_appcontext
def build_basemap(out, rivers, roads, min_zoom, max_zoom, if_missing):
    """Write a labelled vector basemap of the province to OUT (.pmtiles; default: the file BANDO_BASEMAP_PMTILES
    names, which the maps serve)."""
    from geo.basemap import write_basemap
    from geo.errors import GeoInputError
    from store.basemap import basemap_layers

    if out is None:
        configured = current_app.config.get("BASEMAP_PMTILES") or ""
        if not configured:
            raise click.UsageError(say("cli.basemap.give_out_pmtiles_basemap"))
        out = str(Path(current_app.instance_path) / configured)  # an absolute setting stays as it is
    target = Path(out)
    if target.suffix != ".pmtiles":
        raise click.BadParameter(say("cli.basemap.end_pmtiles_map_reads", out=out), param_hint="OUT")
    if if_missing and target.exists():
        click.echo(say("cli.basemap.exists_left", out=out))
        return
    if min_zoom > max_zoom:
        raise click.BadParameter(say("cli.basemap.min_zoom_above_max", min_zoom=min_zoom, max_zoom=max_zoom))
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".partial")
    try:
        with current_app.extensions["db"].transaction() as session:
            layers = basemap_layers(session, current_app.config["DATA_DIR"], rivers=rivers, roads=roads)
        summary = write_basemap(
            layers, partial, min_zoom=min_zoom, max_zoom=max_zoom, name="Bản đồ nền Bản đồ 138",
            attribution="Ranh giới: Bản đồ 138 (data/boundaries/PROVENANCE.md)",
            description="Province, communes, former districts, Prey Veng and the border, built by build-basemap")
    except GeoInputError as error:
        partial.unlink(missing_ok=True)
        raise click.ClickException(worded(error)) from None
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    # Renamed into place only when complete, so a running server never serves half a file.
    os.replace(partial, target)
    counts = ", ".join(f"{name} {count}" for name, count in summary.features.items())
    click.echo(say("cli.basemap.zooms_tiles_mb", out=out, summary_min_zoom=summary.min_zoom,
                   summary_max_zoom=summary.max_zoom, summary_tiles=summary.tiles,
                   summary_bytes=summary.bytes / 1000000.0, counts=counts))

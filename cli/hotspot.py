"""``flask --app server hotspot``: Gi*, Local Moran's I or kernel density on a file, for analysts and batch jobs.

Inputs are files, not the database, so any incident extract or polygon layer can be analysed the way the
map page analyses the stored incidents (both call :func:`geo.hotspot_pipeline.run_hotspot_analysis`).
Distances are computed in metres: a file in longitude/latitude is projected to its UTM zone for the
analysis, and the result is written back in the CRS of the input.
"""
from __future__ import annotations

import sys
from pathlib import Path

import click
from flask.cli import with_appcontext

from geo.errors import GeoInputError

STATISTICS = ("gistar", "lisa", "kde")
GRIDS = ("hex", "square")
TABLE_SUFFIXES = (".csv", ".txt", ".tsv")


class FieldError(GeoInputError):
    """A field named by an option is missing or unusable: reported as a usage error of that option."""

    def __init__(self, option: str, message: str):
        super().__init__(message)
        self.option = option


def register(app) -> None:
    app.cli.add_command(hotspot)


def _neighbours(_ctx, _param, value):
    from geo.hotspot_pipeline import parse_neighbours

    if value is None:
        return None
    try:
        return str(parse_neighbours(value))
    except GeoInputError as e:
        raise click.BadParameter(str(e)) from None


def _positive(_ctx, param, value):
    if value is not None and not value > 0:
        raise click.BadParameter(f"must be a positive number of metres, got {value:g}", param=param)
    return value


def _permutations(_ctx, param, value):
    if value is not None and (value < 0 or 0 < value < 99):
        raise click.BadParameter(f"must be 0 or at least 99 (999 is usual), got {value}", param=param)
    return value


def _crs_option(_ctx, param, value):
    if value is None:
        return None
    from pyproj import CRS
    from pyproj.exceptions import CRSError

    try:
        return CRS.from_user_input(value)
    except CRSError:
        raise click.BadParameter(f"{value!r} is not a CRS pyproj knows (e.g. EPSG:4326, EPSG:9210)",
                                 param=param) from None


@click.command("hotspot")
@with_appcontext
@click.option("--stat", "statistic", type=click.Choice(STATISTICS), default="gistar", show_default=True,
              help="Getis-Ord Gi*, Local Moran's I (LISA) or quartic kernel density")
@click.option("--points", "points_path", type=click.Path(exists=True, dir_okay=False),
              help="Incident points: any vector file fiona reads, or a CSV with --x-field/--y-field")
@click.option("--x-field", default="lon", show_default=True, help="CSV column of the x coordinate / longitude")
@click.option("--y-field", default="lat", show_default=True, help="CSV column of the y coordinate / latitude")
@click.option("--crs", "crs", callback=_crs_option,
              help="CRS of the points (CSV default EPSG:4326), or of a file whose .prj is missing or wrong")
@click.option("--zones", "zones_path", type=click.Path(exists=True, dir_okay=False),
              help="Polygons as analysis units (points are counted in them), or with --value-field the values")
@click.option("--value-field", help="Numeric field of --zones holding the value to analyse (no --points)")
@click.option("--grid", type=click.Choice(GRIDS), help="Analysis units: a grid of hexagons or squares (default hex "
              "with --points)")
@click.option("--cell-size", type=float, callback=_positive,
              help="Grid cell size in metres (default: ArcGIS Optimized Hot Spot rule)")
@click.option("--neighbours", callback=_neighbours, default="queen", show_default=True,
              help="queen | rook | distance:METRES | knn:K")
@click.option("--bandwidth", type=float, callback=_positive,
              help="Kernel radius in metres for --stat kde (default: ArcGIS spatial Silverman rule)")
@click.option("--weight-field", help="Numeric field of --points giving each incident a weight")
@click.option("--fdr", is_flag=True, help="False Discovery Rate correction of the Gi* confidence bins")
@click.option("--permutations", type=int, callback=_permutations,
              help="Conditional permutations (0 or >= 99; default 999 for lisa, 0 for gistar)")
@click.option("--seed", type=int, help="Seed of the permutations (reproducible pseudo p-values)")
@click.option("--out", "out_path", type=click.Path(dir_okay=False, writable=True),
              help="GeoJSON file to write, in the input's CRS (default: standard output)")
def hotspot(statistic, points_path, x_field, y_field, crs, zones_path, value_field, grid, cell_size, neighbours,
            bandwidth, weight_field, fdr, permutations, seed, out_path):
    """Hot spot analysis of incident points or zone values; writes GeoJSON with value, gi_z/gi_p/gi_bin,
    lisa_i/lisa_p/lisa_q or density per unit."""
    _check_combination(statistic, points_path, zones_path, value_field, grid, cell_size, bandwidth, weight_field,
                       fdr, permutations, seed)
    from geo.hotspot_pipeline import HotspotSpec, run_hotspot_analysis

    try:
        units = "zones" if zones_path else (grid or "hex")
        spec = HotspotSpec(statistic=statistic, units=units, cell_size=cell_size, neighbours=neighbours,
                           bandwidth=bandwidth, fdr=fdr, permutations=permutations, seed=seed)
        points = _read_points(Path(points_path), x_field, y_field, crs) if points_path else None
        zones = _read_vector(Path(zones_path), "--zones") if zones_path else None
        output_crs = points.crs if points is not None else zones.crs
        analysis_crs = _analysis_crs(points if points is not None else zones)
        kwargs = {}
        if points is not None:
            projected = points.to_crs(analysis_crs) if analysis_crs != output_crs else points
            kwargs.update(x=projected.geometry.x.to_numpy(), y=projected.geometry.y.to_numpy())
            if weight_field:
                kwargs["point_weights"] = _numeric(points, weight_field, "--weight-field", points_path)
        if zones is not None:
            if (zones.crs is None) != (output_crs is None):
                raise GeoInputError(f"one of --zones {zones_path!r} and --points {points_path!r} has a CRS and the other "
                                    f"none; give both a CRS (a .prj, or --crs for the points)")
            kwargs["zones"] = zones.to_crs(analysis_crs) if analysis_crs is not None else zones
            if value_field:
                kwargs["zone_values"] = _numeric(zones, value_field, "--value-field", zones_path)
        result = run_hotspot_analysis(spec, crs=analysis_crs, **kwargs)
    except FieldError as e:
        raise click.BadParameter(str(e), param_hint=f"'{e.option}'") from None
    except GeoInputError as e:
        raise click.ClickException(str(e)) from None
    frame = result.frame
    if output_crs is not None and frame.crs != output_crs:
        frame = frame.to_crs(output_crs)
    _write(frame, out_path)
    _summary(result)


def _check_combination(statistic, points_path, zones_path, value_field, grid, cell_size, bandwidth, weight_field,
                       fdr, permutations, seed):
    """Refuse contradictory options as usage errors (exit code 2), before any file is read."""
    if not points_path and not zones_path:
        raise click.UsageError("give --points FILE, or --zones FILE with --value-field NAME")
    if points_path and value_field:
        raise click.UsageError("--value-field analyses values already on --zones; it cannot be combined with "
                               "--points (points are counted in the zones instead)")
    if zones_path and not points_path and not value_field:
        raise click.UsageError("--zones without --points needs --value-field NAME (the value of each zone)")
    if zones_path and grid:
        raise click.UsageError("choose one kind of analysis unit: --zones FILE or --grid hex|square, not both")
    if cell_size is not None and zones_path:
        raise click.UsageError("--cell-size applies to --grid units, not to --zones")
    if statistic == "kde" and not points_path:
        raise click.UsageError("--stat kde needs --points (a density is smoothed from incident locations)")
    if bandwidth is not None and statistic != "kde":
        raise click.UsageError("--bandwidth applies to --stat kde only")
    if weight_field and not points_path:
        raise click.UsageError("--weight-field is a field of --points")
    if fdr and statistic != "gistar":
        raise click.UsageError("--fdr corrects Gi* confidence bins: use it with --stat gistar")
    if statistic == "kde" and (permutations or seed is not None):
        raise click.UsageError("--permutations/--seed apply to --stat gistar or lisa, not kde")
    if seed is not None and permutations == 0:
        raise click.UsageError("--seed has no effect with --permutations 0")


def _read_vector(path: Path, option: str):
    import geopandas as gpd

    try:
        frame = gpd.read_file(path, engine="fiona")
    except Exception as e:  # fiona/GDAL raise many types for unreadable files
        raise GeoInputError(f"{option} file {str(path)!r} could not be read as a vector layer: {e}") from None
    if frame.empty:
        raise GeoInputError(f"{option} file {str(path)!r} has no features")
    missing = frame.geometry.isna() | frame.geometry.is_empty
    if missing.all():
        raise GeoInputError(f"{option} file {str(path)!r} has no geometries")
    if missing.any():
        click.echo(f"{int(missing.sum())} features of {path.name} have no geometry and are left out", err=True)
        frame = frame[~missing].reset_index(drop=True)
    return frame


def _read_points(path: Path, x_field: str, y_field: str, crs):
    import geopandas as gpd
    import pandas as pd

    if path.suffix.lower() in TABLE_SUFFIXES:
        try:
            table = pd.read_csv(path, sep=None, engine="python", encoding="utf-8-sig")
        except (UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as e:
            raise GeoInputError(f"--points file {str(path)!r} is not a readable CSV: {e}") from None
        for option, name in (("--x-field", x_field), ("--y-field", y_field)):
            if name not in table.columns:
                raise FieldError(option, f"{name!r} is not a column of {path.name}; columns are: "
                                    f"{', '.join(map(str, table.columns))}")
        x = pd.to_numeric(table[x_field], errors="coerce")
        y = pd.to_numeric(table[y_field], errors="coerce")
        bad = x.isna() | y.isna()
        if bad.all():
            raise GeoInputError(f"no row of {path.name} has numeric {x_field}/{y_field} coordinates")
        if bad.any():
            click.echo(f"{int(bad.sum())} rows of {path.name} have no numeric coordinates and are left out", err=True)
            table, x, y = table[~bad].reset_index(drop=True), x[~bad], y[~bad]
        return gpd.GeoDataFrame(table, geometry=gpd.points_from_xy(x, y), crs=crs or "EPSG:4326")
    frame = _read_vector(path, "--points")
    if crs is not None:
        frame = frame.set_crs(crs, allow_override=True)
    kinds = set(frame.geom_type)
    if kinds - {"Point"}:
        raise GeoInputError(f"--points file {path.name} holds {', '.join(sorted(kinds))} geometries; only single "
                            f"points can be analysed (use --zones for polygons)")
    return frame


def _analysis_crs(frame):
    """A metric CRS for distances: the input's own when projected in metres, else the UTM zone of the data."""
    crs = frame.crs
    if crs is None:
        return None
    if crs.is_projected and all(axis.unit_name in ("metre", "meter") for axis in crs.axis_info[:2]):
        return crs
    return frame.estimate_utm_crs()


def _numeric(frame, field_name: str, option: str, path) -> "object":
    import pandas as pd

    if field_name not in frame.columns:
        raise FieldError(option, f"{field_name!r} is not a field of {Path(str(path)).name}; fields are: "
                            f"{', '.join(c for c in frame.columns if c != frame.geometry.name)}")
    values = pd.to_numeric(frame[field_name], errors="coerce")
    if values.isna().any():
        raise FieldError(option, f"{field_name!r} has {int(values.isna().sum())} missing or non-numeric values")
    return values.to_numpy(dtype=float)


def _write(frame, out_path):
    if out_path:
        Path(out_path).unlink(missing_ok=True)  # the GeoJSON driver refuses to overwrite
        frame.to_file(out_path, driver="GeoJSON", engine="fiona")
    else:
        sys.stdout.write(frame.to_json(drop_id=True, na="null"))
        sys.stdout.write("\n")


def _summary(result):
    params = result.params
    parts = [f"{params['n_units']} units", f"statistic {params['statistic']}"]
    if "cell_size" in params and params.get("units") in GRIDS:
        parts.append(f"{params['units']} cells of {params['cell_size']:.0f} m")
    if params["statistic"] != "kde":
        parts.append(f"neighbours {params['neighbours']}")
    if params.get("bandwidth"):
        parts.append(f"bandwidth {params['bandwidth']:.0f} m")
    if params.get("n_outside"):
        parts.append(f"{params['n_outside']} points outside every unit")
    frame = result.frame
    if "gi_bin" in frame:
        parts.append(f"{int((frame['gi_bin'] > 0).sum())} hot / {int((frame['gi_bin'] < 0).sum())} cold")
    if "lisa_cluster" in frame:
        parts.append(f"{int((frame['lisa_cluster'] != 'not significant').sum())} significant clusters")
    click.echo("; ".join(parts), err=True)

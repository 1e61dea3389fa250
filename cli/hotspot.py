"""``hotspot``: Gi*, Local Moran's I, kernel density or the Knox near-repeat test on a file, for analysts and
batch jobs.

Inputs are files, not the database, so any incident extract or polygon layer can be analysed the way the
map page analyses the stored incidents (both call :func:`geo.hotspot_pipeline.run_hotspot_analysis`).
Distances are computed in metres: a file in longitude/latitude is projected to its UTM zone for the
analysis, and the result is written back in the CRS of the input. ``--stat knox`` writes the Near Repeat
Calculator's table (one CSV row per distance band × time band) instead of GeoJSON.

The command needs no application, database or web module, so it also runs on its own:
``python -m cli.hotspot …`` starts in a fraction of the time ``flask --app server hotspot …`` takes to
import the web application first. A CSV of points is read column-wise (only the coordinate and weight
columns, :mod:`geo.point_table`), projected as arrays with pyproj, and the grid written with
:mod:`geo.geojson`; geopandas is imported only for vector files and ``--zones``.
"""
from __future__ import annotations

import atexit
import gc
import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path

if __name__ == "__main__":
    # Run as its own process, the command is one pass from file to file:
    # - nothing in it multiplies dense matrices (sums over neighbours are sparse or shifted grids), yet
    #   OpenBLAS starts a thread per core when numpy loads; one thread saves a tenth of a second of CPU;
    # - its data are a few numpy arrays, not cycles of Python objects, while the libraries' imports create
    #   hundreds of thousands of objects that the cyclic collector would walk again and again (and once
    #   more at exit): about 5 % of a run. The process exits before any uncollected cycle could matter.
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    gc.disable()
    atexit.register(gc.freeze)

import click
import numpy as np

from geo import VECTOR_ENGINE
from geo.errors import GeoInputError
from translations import message
from cli import say, worded

STATISTICS = ("gistar", "lisa", "kde", "knox")
KNOX_COLUMNS = ("space_from", "space_to", "time_from", "time_to", "observed", "expected", "ratio", "p_value")
KNOX_DEFAULT_PERMUTATIONS = 999
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
        raise click.BadParameter(worded(e)) from None


def _positive(_ctx, param, value):
    if value is not None and not value > 0:
        raise click.BadParameter(say("cli.hotspot.positive_number_metres_got", value=value), param=param)
    return value


def _permutations(_ctx, param, value):
    if value is not None and (value < 0 or 0 < value < 99):
        raise click.BadParameter(say("cli.hotspot.least_usual_got", value=value), param=param)
    return value


def _crs_option(_ctx, param, value):
    if value is None:
        return None
    from pyproj import CRS
    from pyproj.exceptions import CRSError

    try:
        return CRS.from_user_input(value)
    except CRSError:
        raise click.BadParameter(say("cli.hotspot.crs_pyproj_knows_e", value=value),
                                 param=param) from None


@click.command("hotspot")
@click.option("--stat", "statistic", type=click.Choice(STATISTICS), default="gistar", show_default=True,
              help="Getis-Ord Gi*, Local Moran's I (LISA), quartic kernel density or the Knox near-repeat test")
@click.option("--points", "points_path", type=click.Path(exists=True, dir_okay=False),
              help="Incident points: any vector file fiona reads, or a CSV with --x-field/--y-field")
@click.option("--x-field", default="lon", show_default=True, help="CSV column of the x coordinate / longitude")
@click.option("--y-field", default="lat", show_default=True, help="CSV column of the y coordinate / latitude")
@click.option("--crs", "crs", callback=_crs_option,
              help="CRS of the input files (--points and --zones alike) when their .prj is missing or wrong; "
                   "CSV points default to EPSG:4326")
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
@click.option("--time-field", help="--stat knox: field of --points with the date of each incident "
              "(e.g. occurred_at)")
@click.option("--space-bands", help="--stat knox: upper limits of the distance bands in metres, e.g. 100,200,400 "
              "(0–100, 101–200, 201–400 and beyond)")
@click.option("--time-bands", help="--stat knox: upper limits of the time bands in days, e.g. 7,14,28")
@click.option("--category-field", help="--stat knox: one table per value of this field (rows get a category column)")
@click.option("--show-empty-low-low", is_flag=True,
              help="LISA on a grid: label cells without incidents Low–Low too (hidden by default)")
@click.option("--out", "out_path", type=click.Path(dir_okay=False, writable=True),
              help="GeoJSON file to write, in the input's CRS (CSV for --stat knox; default: standard output)")
def hotspot(statistic, points_path, x_field, y_field, crs, zones_path, value_field, grid, cell_size, neighbours,
            bandwidth, weight_field, fdr, permutations, seed, time_field, space_bands, time_bands, category_field,
            show_empty_low_low, out_path):
    """Hot spot analysis of incident points or zone values; writes GeoJSON with value, gi_z/gi_p/gi_bin,
    lisa_i/lisa_p/lisa_q or density per unit, or (--stat knox) the near-repeat table as CSV."""
    knox_options = {"--time-field": time_field, "--space-bands": space_bands, "--time-bands": time_bands,
                    "--category-field": category_field}
    if statistic == "knox":
        _check_knox_combination(points_path, zones_path, value_field, grid, cell_size, bandwidth, weight_field, fdr,
                                permutations, knox_options)
        _knox(points_path, x_field, y_field, crs, knox_options, permutations, seed, out_path)
        return
    given = [name for name, value in knox_options.items() if value is not None]
    if given:
        raise click.UsageError(say("cli.hotspot.apply_stat_knox_only", given=', '.join(given)))
    _check_combination(statistic, points_path, zones_path, value_field, grid, cell_size, bandwidth, weight_field,
                       fdr, permutations, seed)
    from geo.crs import DegreesNotMetresError
    from geo.hotspot_pipeline import HotspotSpec, run_hotspot_analysis

    try:
        units = "zones" if zones_path else (grid or "hex")
        spec = HotspotSpec(statistic=statistic, units=units, cell_size=cell_size, neighbours=neighbours,
                           bandwidth=bandwidth, fdr=fdr, permutations=permutations, seed=seed,
                           show_empty_low_low=show_empty_low_low)
        kwargs = {}
        projection = None
        if points_path:
            points = _read_points(Path(points_path), x_field, y_field, crs, weight_field)
            output_crs = points.crs
            analysis_crs = _analysis_crs(points.crs, points.x, points.y)
            kwargs.update(x=points.x, y=points.y, point_weights=points.weight)
            if analysis_crs is not None and not analysis_crs.equals(output_crs):
                projection = _transformer(output_crs, analysis_crs)
                kwargs["x"], kwargs["y"] = _project(projection, points.x, points.y)
        zones = _read_vector(Path(zones_path), "--zones", crs) if zones_path else None
        if zones is not None:
            if points_path is None:
                output_crs = zones.crs
                analysis_crs = _zones_analysis_crs(zones)
            elif (zones.crs is None) != (output_crs is None):
                raise GeoInputError(message("cli.hotspot.one_zones_points_crs", zones_path=zones_path,
                                            points_path=points_path))
            kwargs["zones"] = zones.to_crs(analysis_crs) if analysis_crs is not None else zones
            if value_field:
                kwargs["zone_values"] = _numeric(zones, value_field, "--value-field", zones_path)
        result = run_hotspot_analysis(spec, crs=analysis_crs, **kwargs)
    except FieldError as e:
        raise click.BadParameter(worded(e), param_hint=f"'{e.option}'") from None
    except DegreesNotMetresError as e:
        declared = f"declared {crs.to_string()} by --crs" if crs is not None else "without a CRS"
        raise click.ClickException(
            say("cli.hotspot.input_if_these_longitude", e=e, declared=declared, e_suggested_crs=e.suggested_crs)
        ) from None
    except GeoInputError as e:
        raise click.ClickException(worded(e)) from None
    _write(result, analysis_crs, output_crs, out_path, projection)
    _summary(result)


def _check_combination(statistic, points_path, zones_path, value_field, grid, cell_size, bandwidth, weight_field,
                       fdr, permutations, seed):
    """Refuse contradictory options as usage errors (exit code 2), before any file is read."""
    if not points_path and not zones_path:
        raise click.UsageError(say("cli.hotspot.give_points_file_zones"))
    if points_path and value_field:
        raise click.UsageError(say("cli.hotspot.value_field_analyses_values"))
    if zones_path and not points_path and not value_field:
        raise click.UsageError(say("cli.hotspot.zones_without_points_needs"))
    if zones_path and grid:
        raise click.UsageError(say("cli.hotspot.choose_one_kind_analysis"))
    if cell_size is not None and zones_path:
        raise click.UsageError(say("cli.hotspot.cell_size_applies_grid"))
    if statistic == "kde" and not points_path:
        raise click.UsageError(say("cli.hotspot.stat_kde_needs_points"))
    if bandwidth is not None and statistic != "kde":
        raise click.UsageError(say("cli.hotspot.bandwidth_applies_stat_kde"))
    if weight_field and not points_path:
        raise click.UsageError(say("cli.hotspot.weight_field_field_points"))
    if fdr and statistic != "gistar":
        raise click.UsageError(say("cli.hotspot.fdr_corrects_gi_confidence"))
    if statistic == "kde" and (permutations or seed is not None):
        raise click.UsageError(say("cli.hotspot.permutations_seed_apply_stat"))
    if seed is not None and permutations == 0:
        raise click.UsageError(say("cli.hotspot.seed_effect_permutations"))


def _check_knox_combination(points_path, zones_path, value_field, grid, cell_size, bandwidth, weight_field, fdr,
                            permutations, knox_options):
    if not points_path:
        raise click.UsageError(say("cli.hotspot.stat_knox_needs_points"))
    for option, value in (("--zones", zones_path), ("--value-field", value_field), ("--grid", grid),
                          ("--cell-size", cell_size), ("--bandwidth", bandwidth), ("--weight-field", weight_field)):
        if value is not None:
            raise click.UsageError(say("cli.hotspot.does_apply_stat_knox", option=option))
    if fdr:
        raise click.UsageError(say("cli.hotspot.fdr_does_apply_stat"))
    missing = [name for name in ("--time-field", "--space-bands", "--time-bands") if knox_options[name] is None]
    if missing:
        raise click.UsageError(say("cli.hotspot.stat_knox_needs", missing=', '.join(missing)))
    if permutations == 0:
        raise click.UsageError(say("cli.hotspot.stat_knox_needs_permutations"))


def _knox(points_path, x_field, y_field, crs, knox_options, permutations, seed, out_path):
    """The Knox table of the points (per category with --category-field) as CSV."""
    import pandas as pd

    from geo.near_repeat import knox_test, parse_bands

    try:
        space = parse_bands(knox_options["--space-bands"], "--space-bands")
    except GeoInputError as e:
        raise click.BadParameter(worded(e), param_hint="'--space-bands'") from None
    try:
        time_limits = parse_bands(knox_options["--time-bands"], "--time-bands")
    except GeoInputError as e:
        raise click.BadParameter(worded(e), param_hint="'--time-bands'") from None
    time_field, category_field = knox_options["--time-field"], knox_options["--category-field"]
    permutations = KNOX_DEFAULT_PERMUTATIONS if permutations is None else permutations
    try:
        points = _read_point_frame(Path(points_path), x_field, y_field, crs)
        for option, name in (("--time-field", time_field), ("--category-field", category_field)):
            if name is not None and name not in points.columns:
                raise FieldError(option, f"{name!r} is not a field of {Path(points_path).name}; fields are: "
                                    f"{', '.join(c for c in points.columns if c != points.geometry.name)}")
        when = pd.to_datetime(points[time_field], errors="coerce", dayfirst=False, format="mixed")
        if when.isna().any():
            first = points.loc[when.isna(), time_field].iloc[0]
            raise FieldError("--time-field", f"{int(when.isna().sum())} values of {time_field!r} are not dates "
                                             f"(first: {first!r}); write them as YYYY-MM-DD")
        analysis_crs = _frame_analysis_crs(points)
        if analysis_crs is None:
            raise GeoInputError(message("cli.hotspot.points_crs_give_crs", path_name=Path(points_path).name))
        projected = points.to_crs(analysis_crs) if analysis_crs != points.crs else points
        x, y = projected.geometry.x.to_numpy(), projected.geometry.y.to_numpy()
        days = when.dt.tz_localize(None).to_numpy(dtype="datetime64[D]") if when.dt.tz is not None else \
            when.to_numpy(dtype="datetime64[D]")
        groups = ([(None, slice(None))] if category_field is None else
                  [(value, (points[category_field] == value).to_numpy())
                   for value in sorted(points[category_field].dropna().unique(), key=str)])
        rows = []
        for value, keep in groups:
            result = knox_test(x[keep], y[keep], days[keep], space, time_limits, permutations=permutations,
                               seed=seed)
            for row in result.rows():
                rows.append(row if value is None else {"category": value, **row})
            click.echo(say("cli.hotspot.incidents_pairs_permutations",
                           value0='' if value is None else f'{value}: ', result_n_events=result.n_events,
                           result_n_pairs=result.n_pairs, permutations=permutations), err=True)
    except FieldError as e:
        raise click.BadParameter(worded(e), param_hint=f"'{e.option}'") from None
    except GeoInputError as e:
        raise click.ClickException(worded(e)) from None
    columns = (["category"] if category_field else []) + list(KNOX_COLUMNS)
    table = pd.DataFrame(rows, columns=columns)
    for name in ("space_to", "time_to"):
        table[name] = table[name].astype("Int64")  # the open last band has no upper limit: an empty cell
    text = table.to_csv(index=False, float_format="%.6g", lineterminator="\n")
    if out_path:
        Path(out_path).write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)


def _read_vector(path: Path, option: str, crs=None):
    """A vector layer; ``crs`` (the ``--crs`` option) overrides the file's own CRS or its missing .prj."""
    import geopandas as gpd

    try:
        frame = gpd.read_file(path, engine=VECTOR_ENGINE)
    except Exception as e:  # fiona/GDAL raise many types for unreadable files
        raise GeoInputError(message("cli.hotspot.file_could_read_vector", option=option, path=str(path), e=e)) from None
    if frame.empty:
        raise GeoInputError(message("cli.hotspot.file_features", option=option, path=str(path)))
    missing = frame.geometry.isna() | frame.geometry.is_empty
    if missing.all():
        raise GeoInputError(message("cli.hotspot.file_geometries", option=option, path=str(path)))
    if missing.any():
        click.echo(say("cli.hotspot.features_geometry_left_out", missing=int(missing.sum()), path_name=path.name), err=True)
        frame = frame[~missing].reset_index(drop=True)
    if crs is not None:
        frame = frame.set_crs(crs, allow_override=True)
    return frame


def _read_point_frame(path: Path, x_field: str, y_field: str, crs):
    """All the fields of the points as a GeoDataFrame (``--stat knox`` needs dates and categories)."""
    import geopandas as gpd
    import pandas as pd

    if path.suffix.lower() in TABLE_SUFFIXES:
        try:
            table = pd.read_csv(path, sep=None, engine="python", encoding="utf-8-sig")
        except (UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as e:
            raise GeoInputError(message("cli.hotspot.points_file_readable_csv", path=str(path), e=e)) from None
        for option, name in (("--x-field", x_field), ("--y-field", y_field)):
            if name not in table.columns:
                raise FieldError(option, f"{name!r} is not a column of {path.name}; columns are: "
                                    f"{', '.join(map(str, table.columns))}")
        x = pd.to_numeric(table[x_field], errors="coerce")
        y = pd.to_numeric(table[y_field], errors="coerce")
        bad = x.isna() | y.isna()
        if bad.all():
            raise GeoInputError(message("cli.hotspot.row_numeric_coordinates", path_name=path.name,
                                        x_field=x_field, y_field=y_field))
        if bad.any():
            click.echo(say("cli.hotspot.rows_numeric_coordinates_left", bad=int(bad.sum()), path_name=path.name), err=True)
            table, x, y = table[~bad].reset_index(drop=True), x[~bad], y[~bad]
        return gpd.GeoDataFrame(table, geometry=gpd.points_from_xy(x, y), crs=crs or "EPSG:4326")
    frame = _read_vector(path, "--points", crs)
    kinds = set(frame.geom_type)
    if kinds - {"Point"}:
        raise GeoInputError(message("cli.hotspot.points_file_holds_geometries", path_name=path.name,
                                    kinds=', '.join(sorted(kinds))))
    return frame


@dataclass(frozen=True, eq=False)
class _Points:
    x: np.ndarray
    y: np.ndarray
    weight: np.ndarray | None
    crs: object


def _read_points(path: Path, x_field: str, y_field: str, crs, weight_field):
    """Coordinates (in the file's CRS) and weights of the points of a CSV or a vector file."""
    from pyproj import CRS

    if path.suffix.lower() in TABLE_SUFFIXES:
        from geo.point_table import ColumnError, read_point_columns

        try:
            table = read_point_columns(path, x_field, y_field, weight_field)
        except ColumnError as e:
            option = {x_field: "--x-field", y_field: "--y-field"}.get(e.column, "--weight-field")
            raise FieldError(option, e.message or str(e)) from None
        if table.n_dropped:
            click.echo(say("cli.hotspot.rows_numeric_coordinates_left_2", table_n_dropped=table.n_dropped,
                           path_name=path.name),
                       err=True)
        return _Points(table.x, table.y, table.weight, crs if crs is not None else CRS.from_epsg(4326))
    frame = _read_vector(path, "--points", crs)
    kinds = set(frame.geom_type)
    if kinds - {"Point"}:
        raise GeoInputError(message("cli.hotspot.points_file_holds_geometries_2", path_name=path.name,
                                    kinds=', '.join(sorted(kinds))))
    weight = _numeric(frame, weight_field, "--weight-field", path) if weight_field else None
    return _Points(frame.geometry.x.to_numpy(), frame.geometry.y.to_numpy(), weight,
                   None if frame.crs is None else CRS.from_user_input(frame.crs))


def _frame_analysis_crs(frame):
    xmin, ymin, xmax, ymax = frame.total_bounds
    return _analysis_crs(frame.crs, np.array([xmin, xmax]), np.array([ymin, ymax]))


def _zones_analysis_crs(zones):
    xmin, ymin, xmax, ymax = zones.total_bounds
    return _analysis_crs(zones.crs, np.array([xmin, xmax]), np.array([ymin, ymax]))


def _transformer(source, target):
    from pyproj import Transformer

    return Transformer.from_crs(source, target, always_xy=True)


def _project(transformer, x, y):
    """Coordinates through ``transformer``, over the given arrays when they are writable.

    The input's own coordinates are not needed once projected (the output is the grid, projected back),
    so a million points need no second pair of arrays.
    """
    if all(a.dtype == np.float64 and a.flags.writeable and a.flags.c_contiguous for a in (x, y)):
        return transformer.transform(x, y, inplace=True)
    return transformer.transform(x, y)


def _analysis_crs(crs, x, y):
    """A metric CRS for distances: the input's own when projected in metres, else the UTM zone of the data.

    The zone is the one holding the centre of the data's longitude/latitude bounding box (zone
    ⌊(λ + 180°) / 6°⌋ + 1, north or south of the equator by the centre's latitude; EPSG 326zz / 327zz).
    """
    if crs is None:
        return None
    from pyproj import CRS

    crs = CRS.from_user_input(crs)
    if crs.is_projected and all(axis.unit_name in ("metre", "meter") for axis in crs.axis_info[:2]):
        return crs
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    corners_x = np.array([x.min(), x.max(), x.min(), x.max()])
    corners_y = np.array([y.min(), y.min(), y.max(), y.max()])
    if crs.is_geographic and crs.equals(CRS.from_epsg(4326), ignore_axis_order=True):
        lon, lat = corners_x, corners_y
    else:
        lon, lat = _transformer(crs, CRS.from_epsg(4326)).transform(corners_x, corners_y)
    lon, lat = np.asarray(lon), np.asarray(lat)
    if not (np.isfinite(lon).all() and np.isfinite(lat).all()) or np.abs(lat).max() > 84 or np.abs(lon).max() > 180:
        raise GeoInputError(message("cli.hotspot.coordinates_x_y_longitude", x=x.min(), x2=x.max(), y=y.min(),
                                    y2=y.max(), crs_name=crs.name))
    centre_lon, centre_lat = (lon.min() + lon.max()) / 2.0, (lat.min() + lat.max()) / 2.0
    zone = min(int((centre_lon + 180.0) // 6.0) + 1, 60)
    return CRS.from_epsg((32600 if centre_lat >= 0 else 32700) + zone)


def _numeric(frame, field_name: str, option: str, path) -> "object":
    import pandas as pd

    if field_name not in frame.columns:
        raise FieldError(option, f"{field_name!r} is not a field of {Path(str(path)).name}; fields are: "
                            f"{', '.join(c for c in frame.columns if c != frame.geometry.name)}")
    values = pd.to_numeric(frame[field_name], errors="coerce")
    if values.isna().any():
        raise FieldError(option, f"{field_name!r} has {int(values.isna().sum())} missing or non-numeric values")
    return values.to_numpy(dtype=float)


def _write(result, analysis_crs, output_crs, out_path, projection=None):
    """GeoJSON of the units in the input's CRS: a grid column-wise (:mod:`geo.geojson`), zones by geopandas.

    ``projection`` is the transformer that took the points into ``analysis_crs``; run backwards it takes the
    grid to ``output_crs`` without building a second one.
    """
    if result.zones is not None:
        frame = result.frame
        if output_crs is not None and frame.crs != output_crs:
            frame = frame.to_crs(output_crs)
        if out_path:
            Path(out_path).unlink(missing_ok=True)  # the GeoJSON driver refuses to overwrite
            frame.to_file(out_path, driver="GeoJSON", engine=VECTOR_ENGINE)
        else:
            from geo.geojson import feature_collection

            sys.stdout.write(json.dumps(feature_collection(frame)))
            sys.stdout.write("\n")
        return
    import shapely

    from geo.geojson import feature_collection_text

    geometry = result.geometry
    if output_crs is not None and analysis_crs is not None and not output_crs.equals(analysis_crs):
        if projection is not None:
            back = lambda x, y: projection.transform(x, y, direction="INVERSE")  # noqa: E731
        else:
            transformer = _transformer(analysis_crs, output_crs)
            back = lambda x, y: transformer.transform(x, y)  # noqa: E731
        geometry = shapely.transform(geometry, back, interleaved=False)
    text = feature_collection_text(geometry, result.columns, crs=output_crs)
    if out_path:
        Path(out_path).write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)


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
    columns = result.columns
    if "gi_bin" in columns:
        parts.append(f"{int((columns['gi_bin'] > 0).sum())} hot / {int((columns['gi_bin'] < 0).sum())} cold")
    if "lisa_cluster" in columns:
        parts.append(f"{int((columns['lisa_cluster'] != 'not significant').sum())} significant clusters")
    click.echo("; ".join(parts), err=True)


if __name__ == "__main__":
    hotspot(prog_name="python -m cli.hotspot")

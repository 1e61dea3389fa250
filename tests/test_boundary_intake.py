"""Boundary files as a GIS officer has them: VN-2000, Vietnamese field names, no province field, no .cpg."""
from __future__ import annotations

import geopandas as gpd
import pytest
from shapely.geometry import box

from geo.boundaries import read_communes
from geo.errors import GeoInputError
from tests.vn_files import encode_cp1258

# The provincial VN-2000 TM-3 zone of Đồng Tháp's cadastral files (central meridian 105°30').
TM3_105_30 = "EPSG:9209"
NAMES = ["Phường 11", "Mỹ Trà", "Xã Tân Thuận Đông", "Thị trấn Mỹ Thọ"]
TYPES = ["P", "Phường", "Xã", "TT"]  # "Mỹ Trà" is a ward although its name has no prefix


def office_communes(x0=560_000.0, y0=1_150_000.0):
    """Four 1 km communes near Cao Lãnh in EPSG:9209 metres, as the office's schema names them."""
    from pyproj import Transformer

    to_tm3 = Transformer.from_crs("EPSG:32648", TM3_105_30, always_xy=True)
    polygons = []
    for dx, dy in [(0, 0), (1000, 0), (0, 1000), (1000, 1000)]:
        square = box(x0 + dx, y0 + dy, x0 + dx + 1000, y0 + dy + 1000)
        xs, ys = to_tm3.transform(*square.exterior.xy)
        polygons.append(box(min(xs), min(ys), max(xs), max(ys)))
    return gpd.GeoDataFrame({"MaXa": ["99901", "99902", "99903", "99904"], "TenXa": NAMES,
                             "MaHuyen": ["999", "999", "998", "998"], "TenHuyen": ["TP Cao Lãnh"] * 2 + ["Cao Lãnh"] * 2,
                             "LoaiXa": TYPES}, geometry=polygons, crs=TM3_105_30)


def write_shapefile(frame, path, encoding: str, keep_cpg=False, keep_prj=True):
    """Write the DBF bytes exactly as ``encoding`` (Windows-1258 the way Windows writes it), without .cpg."""
    frame = frame.copy()
    for column in ("TenXa", "TenHuyen", "LoaiXa"):
        raw = [encode_cp1258(v) if encoding == "cp1258" else v.encode(encoding) for v in frame[column]]
        frame[column] = [b.decode("latin-1") for b in raw]
    frame.to_file(path, engine="fiona", encoding="ISO-8859-1")
    if not keep_cpg:
        path.with_suffix(".cpg").unlink(missing_ok=True)
    if not keep_prj:
        path.with_suffix(".prj").unlink()
    return path


@pytest.mark.parametrize("encoding", ["utf-8", "cp1258"])
def test_shapefile_without_cpg_is_decoded_and_typed_from_its_column(tmp_path, encoding):
    path = write_shapefile(office_communes(), tmp_path / f"xa_{encoding}.shp", encoding)
    result = read_communes(path, constants={"province_code": "99"})
    communes = result.communes.set_index("commune_code")
    assert communes["commune_name"].tolist() == NAMES
    assert communes["commune_type"].tolist() == ["phường", "phường", "xã", "thị trấn"]
    assert set(communes["province_code"]) == {"99"}
    assert communes["district_name"].tolist()[0] == "TP Cao Lãnh"


def test_a_wrong_encoding_gives_garbled_names_and_is_refused(tmp_path):
    path = write_shapefile(office_communes(), tmp_path / "xa.shp", "utf-8")
    with pytest.raises(GeoInputError, match=r"not Vietnamese \('Æ°.*check encoding="):
        read_communes(path, constants={"province_code": "99"}, encoding="latin-1")
    with pytest.raises(GeoInputError, match="not Windows-1258 text.*check encoding="):
        read_communes(path, constants={"province_code": "99"}, encoding="cp1258")
    # A .cpg that lies (says ISO-8859-1 for UTF-8 bytes) gives mojibake: refused rather than stored.
    path.with_suffix(".cpg").write_text("ISO-8859-1")
    with pytest.raises(GeoInputError, match="look garbled"):
        read_communes(path, constants={"province_code": "99"})


def test_missing_field_message_and_constants(tmp_path):
    path = write_shapefile(office_communes(), tmp_path / "xa.shp", "utf-8")
    with pytest.raises(GeoInputError, match=r"province_code not found.*field_map=\{'province_code'"):
        read_communes(path)
    with pytest.raises(GeoInputError, match="also comes from the column 'MaXa'"):
        read_communes(path, constants={"commune_code": "99901", "province_code": "99"})


def run_load(runner, path, *args):
    return runner.invoke(args=["load-boundaries", str(path), *map(str, args)])


def test_command_names_its_options(runner, tmp_path):
    path = write_shapefile(office_communes(), tmp_path / "xa.shp", "cp1258")
    result = run_load(runner, path, "--version", "t1", "--effective-date", "2030-01-01")
    assert result.exit_code == 1
    assert "--field province_code=YOUR_COLUMN" in result.output and "--set province_code=VALUE" in result.output
    assert "field_map" not in result.output
    result = run_load(runner, path, "--set", "provinz=99")
    assert result.exit_code == 2 and "'--set'" in result.output and "provinz" in result.output
    result = run_load(runner, path, "--crs", "EPSG:nonsense", "--set", "province_code=99")
    assert result.exit_code == 2 and "'--crs'" in result.output and "not a CRS" in result.output
    result = run_load(runner, path, "--crs", "EPSG:32633", "--set", "province_code=99")
    assert result.exit_code == 1 and "outside Viet Nam" in result.output
    assert "the CRS given with --crs" in result.output
    result = run_load(runner, path, "--encoding", "klingon", "--set", "province_code=99")
    assert result.exit_code == 1 and "'klingon' is not an encoding" in result.output and "--encoding" in result.output


def test_a_wrong_crs_that_still_lands_in_vietnam_is_refused_against_the_previous_set(runner, db, tmp_path):
    first = write_shapefile(office_communes(), tmp_path / "xa_2030.shp", "cp1258")
    loaded = run_load(runner, first, "--set", "province_code=99", "--version", "t1", "--effective-date", "2030-01-01",
                      "--supersedes", "2024")
    assert loaded.exit_code == 0, loaded.output
    assert "4 communes" in loaded.output
    # The same file again, without .prj, declared with the neighbouring zone (105°45' instead of 105°30').
    second = write_shapefile(office_communes(), tmp_path / "xa_2031.shp", "cp1258", keep_prj=False)
    args = ["--set", "province_code=99", "--version", "t2", "--effective-date", "2031-01-01", "--supersedes", "t1"]
    wrong = run_load(runner, second, "--crs", "EPSG:9210", *args)
    assert wrong.exit_code == 1
    assert "--crs EPSG:9210 is probably wrong" in wrong.output and "from boundary set t1" in wrong.output
    assert "27." in wrong.output and "km to the" in wrong.output and "4 matching communes" in wrong.output
    with db.transaction() as session:
        from store.boundaries import set_rows
        assert "t2" not in {row.version for row in set_rows(session)}  # nothing stored
    right = run_load(runner, second, "--crs", TM3_105_30, *args)
    assert right.exit_code == 0, right.output
    assert "outline checked against set t1: 0.0 km" in right.output
    forced = run_load(runner, second, "--crs", "EPSG:9210", "--set", "province_code=99", "--version", "t3",
                      "--effective-date", "2032-01-01", "--supersedes", "t2", "--force")
    assert forced.exit_code == 0 and "--force: loading although" in forced.output

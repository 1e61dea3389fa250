"""The offline basemap: build-basemap writes a PMTiles archive of MVT tiles; the app answers range requests."""
from __future__ import annotations

import gzip
import json
import math

import geopandas as gpd
import mapbox_vector_tile
import pytest
from pmtiles.reader import MmapSource, Reader
from shapely.geometry import LineString

from geo.basemap import HALF_WORLD, SCHEMA, tile_bounds, tiles_covering

from tests.conftest import make_app


def _tile_of(lon: float, lat: float, z: int) -> tuple[int, int]:
    # The OSM slippy-map formula (wiki.openstreetmap.org/wiki/Slippy_map_tilenames), written out independently.
    n = 2 ** z
    x = int((lon + 180) / 360 * n)
    y = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)
    return x, y


def test_tile_bounds_cover_the_world_at_zoom_zero_and_halve_each_zoom():
    assert tile_bounds(0, 0, 0) == pytest.approx((-HALF_WORLD, -HALF_WORLD, HALF_WORLD, HALF_WORLD))
    minx, miny, maxx, maxy = tile_bounds(1, 1, 0)  # north-east quarter
    assert (minx, miny, maxx, maxy) == pytest.approx((0, 0, HALF_WORLD, HALF_WORLD))


def test_tiles_covering_a_point_is_the_slippy_map_tile():
    point = gpd.GeoSeries.from_xy([105.633], [10.456], crs="EPSG:4326").to_crs("EPSG:3857")
    x, y = float(point.x.iloc[0]), float(point.y.iloc[0])
    for z in (7, 10, 13):
        assert list(tiles_covering((x, y, x, y), z)) == [_tile_of(105.633, 10.456, z)]


def _read(path):
    handle = open(path, "rb")
    reader = Reader(MmapSource(handle))
    return handle, reader


def _decode(reader, z, x, y):
    data = reader.get(z, x, y)
    return mapbox_vector_tile.decode(gzip.decompress(data)) if data else {}


def test_build_basemap_writes_labelled_communes_border_and_prey_veng(runner, app, tmp_path):
    out = tmp_path / "nen.pmtiles"
    result = runner.invoke(args=["build-basemap", str(out), "--min-zoom", "6", "--max-zoom", "9"])
    assert result.exit_code == 0, result.output
    assert "zooms 6–9" in result.output and "communes 143" in result.output
    handle, reader = _read(out)
    with handle:
        header, metadata = reader.header(), reader.metadata()
        assert (header["min_zoom"], header["max_zoom"]) == (6, 9)
        assert metadata["schema"] == SCHEMA
        assert {layer["id"] for layer in metadata["vector_layers"]} >= {
            "province", "districts", "communes", "border", "neighbour", "places"}
        # Cao Lãnh city at zoom 9: communes with names, label points of every kind present in the province.
        tile = _decode(reader, 9, *_tile_of(105.633, 10.456, 9))
        assert {"province", "districts", "communes", "places"} <= set(tile)
        names = {f["properties"]["name"] for f in tile["communes"]["features"]}
        assert any("Cao Lãnh" in name or "Mỹ Phú" in name for name in names), names
        kinds = {f["properties"]["kind"] for f in tile["places"]["features"]}
        assert "commune" in kinds
        # The border north of Hồng Ngự: the line and Prey Veng drawn there.
        border_tile = _decode(reader, 8, *_tile_of(105.35, 10.95, 8))
        assert "border" in border_tile and "neighbour" in border_tile
        # Outside the bounding box nothing is written.
        assert reader.get(9, 0, 0) is None


def test_rivers_from_a_given_file_become_the_water_layer(runner, app, tmp_path):
    rivers = tmp_path / "song.geojson"
    gpd.GeoDataFrame({"ten": ["Sông Tiền"]}, geometry=[LineString([(105.40, 10.60), (105.90, 10.30)])],
                     crs="EPSG:4326").to_crs("EPSG:32648").to_file(rivers, driver="GeoJSON")
    out = tmp_path / "nen.pmtiles"
    result = runner.invoke(args=["build-basemap", str(out), "--rivers", str(rivers), "--min-zoom", "7",
                                 "--max-zoom", "8"])
    assert result.exit_code == 0, result.output
    handle, reader = _read(out)
    with handle:
        tile = _decode(reader, 8, *_tile_of(105.65, 10.45, 8))
    assert [f["properties"]["name"] for f in tile["water"]["features"]] == ["Sông Tiền"]


@pytest.mark.parametrize("args, message", [
    (["OUT.png"], "must end with .pmtiles"),
    (["OUT.pmtiles", "--min-zoom", "10", "--max-zoom", "8"], "above --max-zoom"),
    (["OUT.pmtiles", "--rivers", "RIVERS"], "cannot be read as a vector file"),
])
def test_bad_input_is_refused_and_writes_nothing(runner, app, tmp_path, args, message):
    folder = tmp_path / "out"
    folder.mkdir()
    junk = tmp_path / "song.geojson"
    junk.write_text("không phải GeoJSON")
    args = [str(folder / a) if a.startswith("OUT") else str(junk) if a == "RIVERS" else a for a in args]
    result = runner.invoke(args=["build-basemap", *args])
    assert result.exit_code != 0
    assert message in result.output
    assert list(folder.iterdir()) == []


def test_without_boundaries_the_build_says_to_load_them(tmp_path):
    from server import create_app

    empty = create_app({"TESTING": True, "SECRET_KEY": "k", "DATABASE_URL": f"sqlite:///{tmp_path / 'e.sqlite3'}",
                        "BASEMAP_PMTILES": ""})
    try:
        assert empty.test_cli_runner().invoke(args=["init-db"]).exit_code == 0
        result = empty.test_cli_runner().invoke(args=["build-basemap", str(tmp_path / "nen.pmtiles")])
        assert result.exit_code != 0 and "load-boundaries" in result.output
        assert not (tmp_path / "nen.pmtiles").exists() and not (tmp_path / "nen.pmtiles.partial").exists()
    finally:
        empty.extensions["db"].dispose()


@pytest.fixture(scope="module")
def built_basemap(tmp_path_factory, template_db, data_dir):
    folder = tmp_path_factory.mktemp("basemap")
    builder = make_app(folder, template_db, data_dir)
    result = builder.test_cli_runner().invoke(args=["build-basemap", str(folder / "nen.pmtiles"), "--max-zoom", "8"])
    assert result.exit_code == 0, result.output
    builder.extensions["db"].dispose()
    return folder / "nen.pmtiles"


@pytest.fixture
def basemap_client(tmp_path, template_db, data_dir, built_basemap):
    from tests.conftest import drop_app_database

    application = make_app(tmp_path, template_db, data_dir, BASEMAP_PMTILES=str(built_basemap))
    yield application.test_client()
    drop_app_database(application)


def _sign_in(client, username="planner"):
    from tests.conftest import PASSWORD, csrf_token_from

    page = client.get("/login")
    client.post("/login", data={"username": username, "password": PASSWORD,
                                "csrf_token": csrf_token_from(page.get_data(as_text=True))})


def test_archive_answers_range_requests_with_206(basemap_client, built_basemap):
    _sign_in(basemap_client)
    size = built_basemap.stat().st_size
    head = basemap_client.get("/basemap/basemap.pmtiles", headers={"Range": "bytes=0-126"})
    assert head.status_code == 206
    assert head.headers["Content-Range"] == f"bytes 0-126/{size}"
    assert head.data[:7] == b"PMTiles" and len(head.data) == 127
    tail = basemap_client.get("/basemap/basemap.pmtiles", headers={"Range": f"bytes={size - 10}-"})
    assert tail.status_code == 206 and tail.data == built_basemap.read_bytes()[-10:]
    outside = basemap_client.get("/basemap/basemap.pmtiles", headers={"Range": f"bytes={size + 5}-{size + 9}"})
    assert outside.status_code == 416
    assert "no-store" not in head.headers["Cache-Control"]
    for response in (head, tail, outside):
        response.close()  # send_file keeps the file open until the answer is closed


def test_archive_needs_sign_in(basemap_client):
    response = basemap_client.get("/basemap/basemap.pmtiles", headers={"Range": "bytes=0-126"})
    assert response.status_code in (302, 401)


def test_no_basemap_file_is_a_404_and_maps_offer_none(client, login):
    login("planner")
    assert client.get("/basemap/basemap.pmtiles").status_code == 404
    script = client.get("/map/overview.js?year=2024").get_data(as_text=True)
    assert "bandoBasemap" not in script


def test_map_scripts_offer_the_offline_basemap_and_the_tile_server(tmp_path, template_db, data_dir, built_basemap):
    from tests.conftest import drop_app_database

    application = make_app(tmp_path, template_db, data_dir, BASEMAP_PMTILES=str(built_basemap),
                           TILE_URL="https://tiles.intranet.local/{z}/{x}/{y}.png")
    client = application.test_client()
    try:
        _sign_in(client)
        script = client.get("/map/overview.js?year=2024").get_data(as_text=True)
        assert "bandoBasemap.pmtilesLayer" in script and "/basemap/basemap.pmtiles?v=" in script
        assert "tiles.intranet.local/{z}/{x}/{y}.png" in script
        control = script[script.index("base_layers"):script.index("overlays")]
        assert all(json.dumps(name) in control for name in ("Bản đồ nền (ngoại tuyến)", "Bản đồ nền (máy chủ bản đồ)",
                                                            "Không có nền"))
        page = client.get("/?year=2024").get_data(as_text=True)
        assert "/vendor/protomaps-leaflet/dist/protomaps-leaflet.js" in page
        assert "/vendor/pmtiles/dist/pmtiles.js" in page
        for path in ("/vendor/protomaps-leaflet/dist/protomaps-leaflet.js", "/vendor/pmtiles/dist/pmtiles.js"):
            with client.get(path) as response:
                assert response.status_code == 200
    finally:
        drop_app_database(application)


def test_the_drug_status_map_gets_a_layer_control_only_to_switch_basemaps():
    import geopandas as gpd
    from shapely.geometry import box

    from layers.base import map_parts
    from layers.basemap import BasemapSource
    from layers.drug_status import drug_status_map

    communes = gpd.GeoDataFrame({"commune_code": ["1"], "commune_name": ["Xã A"], "district_code": ["869"],
                                 "district_name": ["Huyện B"]}, geometry=[box(105.5, 10.5, 105.6, 10.6)],
                                crs="EPSG:4326")
    plain = map_parts(drug_status_map(communes, {})).script
    assert "L.control.layers" not in plain
    source = BasemapSource(url="/basemap/basemap.pmtiles?v=1", script_url="/static/js/basemap.js")
    with_basemap = map_parts(drug_status_map(communes, {}, basemap=source))
    assert "L.control.layers" in with_basemap.script and "bandoBasemap.pmtilesLayer" in with_basemap.script
    assert with_basemap.js[-3:] == ("/vendor/pmtiles/dist/pmtiles.js",
                                    "/vendor/protomaps-leaflet/dist/protomaps-leaflet.js", "/static/js/basemap.js")


def test_a_basemap_url_must_name_a_pmtiles_file():
    from layers.basemap import BasemapSource

    with pytest.raises(ValueError, match="must end with .pmtiles"):
        BasemapSource(url="/basemap/tiles/{z}/{x}/{y}.mvt", script_url="/static/js/basemap.js")

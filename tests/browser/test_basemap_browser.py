"""The offline basemap in a real browser: tiles read from the app's PMTiles file by range requests, nothing else."""
from __future__ import annotations

import pytest

from tests.browser.conftest import BrowserPage, served
from tests.conftest import make_app
from tests.browser.conftest import wait_until

pytestmark = pytest.mark.browser


@pytest.fixture
def basemap_server(tmp_path, template_db, data_dir):
    (tmp_path / "build").mkdir()
    builder = make_app(tmp_path / "build", template_db, data_dir)
    out = tmp_path / "nen.pmtiles"
    result = builder.test_cli_runner().invoke(args=["build-basemap", str(out), "--max-zoom", "10"])
    assert result.exit_code == 0, result.output
    builder.extensions["db"].dispose()
    application = make_app(tmp_path, template_db, data_dir, BASEMAP_PMTILES=str(out))
    with served(application) as url:
        yield url


def test_basemap_tiles_load_offline_by_range_requests(chromium, basemap_server):
    browser_page = BrowserPage(chromium, basemap_server)
    archive_answers = []
    browser_page.page.on("response", lambda r: "/basemap/basemap.pmtiles" in r.url and archive_answers.append(
        (r.status, r.request.headers.get("range", ""))))
    try:
        page = browser_page.login("planner")
        page.goto(f"{basemap_server}/?year=2024")
        wait_until(page, "() => window.bandoBasemapState === 'ready'")
        page.wait_for_load_state("networkidle")
        # protomaps-leaflet draws each tile on a canvas inside the basemap's own pane layer.
        page.wait_for_selector(".leaflet-tile-container canvas", state="attached", timeout=30000)
        drawn = page.evaluate("""() => Array.from(document.querySelectorAll('.leaflet-tile-container canvas'))
            .filter(c => c.width > 0 && c.getContext('2d').getImageData(0, 0, c.width, c.height).data
            .some((v, i) => i % 4 === 3 && v > 0)).length""")
        assert drawn > 0, "no basemap tile was painted"
        assert archive_answers, "the map never read the basemap file"
        assert all(status == 206 and ranges.startswith("bytes=") for status, ranges in archive_answers), archive_answers
        assert browser_page.external_requests == []
        assert browser_page.console_errors == []
        # The layer control switches to "no basemap": the basemap's canvases leave the map.
        page.hover(".leaflet-control-layers")
        page.get_by_label("Không có nền").check()
        wait_until(page, "() => document.querySelectorAll('.leaflet-tile-container canvas').length === 0")
        page.get_by_label("Bản đồ nền (ngoại tuyến)").check()
        page.wait_for_selector(".leaflet-tile-container canvas", state="attached")
    finally:
        browser_page.close()


def _protomaps_like_archive(path):
    """A one-layer archive shaped like a Protomaps build (layer ``earth``, no app schema in its metadata)."""
    import gzip

    import mapbox_vector_tile
    from pmtiles.tile import Compression, TileType, zxy_to_tileid
    from pmtiles.writer import write
    from shapely.geometry import box

    from geo.basemap import EXTENT, tiles_covering

    bounds = (11_600_000, 1_100_000, 11_900_000, 1_300_000)  # web mercator around the province
    with write(str(path)) as writer:
        tiles = []
        for z in range(6, 10):
            for x, y in tiles_covering(bounds, z):
                data = mapbox_vector_tile.encode([{"name": "earth", "features": [
                    {"geometry": box(0, 0, EXTENT, EXTENT), "properties": {"kind": "earth"}}]}],
                    default_options={"extents": EXTENT})
                tiles.append((zxy_to_tileid(z, x, y), gzip.compress(data, mtime=0)))
        for tile_id, data in sorted(tiles):
            writer.write_tile(tile_id, data)
        writer.finalize({"tile_type": TileType.MVT, "tile_compression": Compression.GZIP,
                         "min_lon_e7": 1040000000, "min_lat_e7": 98000000, "max_lon_e7": 1070000000,
                         "max_lat_e7": 116000000, "center_zoom": 8, "center_lon_e7": 1056000000,
                         "center_lat_e7": 105000000},
                        {"name": "protomaps-like", "attribution": "© OpenStreetMap", "vector_layers": [
                            {"id": "earth", "fields": {"kind": "String"}}]})


def test_an_openstreetmap_build_is_drawn_with_the_protomaps_style(chromium, tmp_path, template_db, data_dir):
    out = tmp_path / "osm.pmtiles"
    _protomaps_like_archive(out)
    application = make_app(tmp_path, template_db, data_dir, BASEMAP_PMTILES=str(out))
    with served(application) as url:
        browser_page = BrowserPage(chromium, url)
        try:
            page = browser_page.login("planner")
            page.goto(f"{url}/?year=2024")
            wait_until(page, "() => window.bandoBasemapState === 'ready'")
            page.wait_for_load_state("networkidle")
            page.wait_for_selector(".leaflet-tile-container canvas", state="attached", timeout=30000)
            painted = page.evaluate("""() => Array.from(document.querySelectorAll('.leaflet-tile-container canvas'))
                .some(c => c.width > 0 && c.getContext('2d').getImageData(0, 0, c.width, c.height).data
                .some((v, i) => i % 4 === 3 && v > 0))""")
            assert painted
            assert "OpenStreetMap" in page.inner_text(".leaflet-control-attribution")
            assert browser_page.external_requests == [] and browser_page.console_errors == []
        finally:
            browser_page.close()

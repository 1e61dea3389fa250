"""layers.base: local Leaflet assets, basemap tiles from configuration, rendered in pieces or whole."""
from __future__ import annotations

import re

import folium
import pytest
from folium.plugins import FastMarkerCluster, MarkerCluster

from layers.base import ExternalAssetError, local_asset_url, make_map, map_document, map_parts

CDN_HOSTS = ("jsdelivr", "cdnjs", "cloudflare", "unpkg", "bootstrapcdn", "code.jquery.com", "googleapis",
             "openstreetmap", "cartocdn")


def external_sources(page: str) -> list[str]:
    """src/href of <script> and <link> elements that point off the app."""
    tags = re.findall(r"<(?:script|link)\b[^>]*>", page)
    return [url for tag in tags for url in re.findall(r'(?:src|href)\s*=\s*"([^"]*)"', tag)
            if re.match(r"^(?:https?:)?//", url)]


def test_map_with_plugins_renders_only_local_assets():
    m = make_map(vendor_url="/vendor")
    MarkerCluster().add_to(m)
    FastMarkerCluster([[10.5, 105.6]]).add_to(m)
    page = map_document(m)
    assert external_sources(page) == []
    assert not any(host in page for host in CDN_HOSTS)
    assert "http://" not in page and "https://" not in page
    assert '<script src="/vendor/leaflet/dist/leaflet.js"></script>' in page
    assert "/vendor/leaflet.markercluster/dist/leaflet.markercluster.js" in page
    assert "/vendor/leaflet.markercluster/dist/MarkerCluster.Default.css" in page


def test_folium_class_defaults_are_left_untouched():
    before = list(MarkerCluster.default_js)
    m = make_map()
    MarkerCluster().add_to(m)
    map_document(m)
    assert MarkerCluster.default_js == before
    assert folium.Map.default_js[0][1].startswith("https://")


def test_unknown_external_asset_is_refused():
    class Plugin(folium.plugins.MarkerCluster):
        default_js = [("mystery", "https://cdn.example.org/mystery.js")]

    m = make_map()
    Plugin().add_to(m)
    with pytest.raises(ExternalAssetError, match="mystery.js"):
        map_document(m)


def test_local_asset_url_maps_known_cdn_urls_and_keeps_local_ones():
    assert local_asset_url("https://cdn.jsdelivr.net/npm/leaflet@1.9.3/dist/leaflet.css", "/app/vendor/") == \
        "/app/vendor/leaflet/dist/leaflet.css"
    assert local_asset_url("/static/js/x.js") == "/static/js/x.js"
    with pytest.raises(ExternalAssetError):
        local_asset_url("//cdn.example.org/x.js")


def test_without_tile_url_there_is_no_tile_layer():
    page = map_document(make_map())
    assert "L.tileLayer" not in page
    assert '"maxZoom": 18' in page  # markercluster needs it when no tile layer sets one


def test_tile_url_and_attribution_from_configuration():
    m = make_map(tile_url="http://tiles.intranet.local/{z}/{x}/{y}.png", tile_attribution="Sở TN&MT <b>")
    page = map_document(m)
    assert "tiles.intranet.local/{z}/{x}/{y}.png" in page
    # the attribution (operator configuration, may hold links) is a JSON string that cannot close <script>
    assert "Sở TN\\u0026MT \\u003cb\\u003e" in page or "S\\u1edf TN\\u0026MT \\u003cb\\u003e" in page
    assert external_sources(page) == []


def test_tile_url_without_placeholders_is_refused():
    with pytest.raises(ValueError, match="tile_url"):
        make_map(tile_url="http://tiles.intranet.local/tile.png")


def test_parts_split_assets_container_and_script_without_inline_header():
    parts = map_parts(make_map(map_id="overview"))
    assert parts.js == ("/vendor/leaflet/dist/leaflet.js",)
    assert parts.css == ("/vendor/leaflet/dist/leaflet.css",)
    assert 'id="map_overview"' in parts.html
    assert 'L.map(\n                "map_overview"' in parts.script or '"map_overview"' in parts.script
    assert "<script" not in parts.script and "<style" not in parts.html
    assert "bootstrap" not in " ".join(parts.css + parts.js)


def test_map_id_must_be_a_plain_identifier():
    with pytest.raises(ValueError, match="map_id"):
        make_map(map_id='x"><script>')


def test_pre_serialised_geojson_renders_the_same_features_as_folium():
    import json
    import re

    import folium
    import geopandas as gpd
    from shapely.geometry import Polygon

    from layers.base import PreSerialisedGeoJson, map_parts, serialised_geometries

    frame = gpd.GeoDataFrame({"code": ["a", "b"]}, geometry=[
        Polygon([(105.0, 10.0), (105.1, 10.0), (105.1, 10.1)]), Polygon([(105.2, 10.2), (105.3, 10.2), (105.3, 10.3)])],
        crs=4326)
    serialised = serialised_geometries(frame)
    assert serialised_geometries(frame) is serialised  # once per frame object
    features = [{"type": "Feature", "id": code, "properties": {"tip": code}, "geometry": geometry}
                for code, geometry in zip(frame["code"], serialised.mappings)]

    def script(layer_class, *extra):
        m = make_map(map_id="same")
        layer_class({"type": "FeatureCollection", "features": features}, *extra, name="x").add_to(m)
        text = map_parts(m).script
        return json.loads(re.search(r"_add\((\{.*?\})\);", text, re.S).group(1)), text

    ours, text = script(PreSerialisedGeoJson, serialised.texts)
    theirs, _ = script(folium.GeoJson)
    assert ours == theirs
    assert "__raw_json_" not in text
    assert features[0]["geometry"]["type"] == "Polygon"  # the layer's own data keeps its mappings


def test_pre_serialised_geojson_refuses_texts_that_do_not_match_the_features():
    import pytest

    from layers.base import PreSerialisedGeoJson

    feature = {"type": "Feature", "properties": {}, "geometry": {"type": "Point", "coordinates": [105.0, 10.0]}}
    with pytest.raises(ValueError, match="geometry_texts has 0 entries for 1 features"):
        PreSerialisedGeoJson({"type": "FeatureCollection", "features": [feature]}, [])


def test_per_frame_keeps_the_frames_used_most_recently(monkeypatch):
    import pandas as pd

    from layers import base

    monkeypatch.setattr(base, "PER_FRAME_ENTRIES", 2)
    kept, built = pd.DataFrame({"a": [1]}), []
    base.per_frame(kept, "t", lambda: built.append("kept") or 1)
    for n in range(3):  # frames filtered per request, each seen once, the kept one asked in between
        base.per_frame(pd.DataFrame({"a": [n]}), "t", lambda: 0)
        assert base.per_frame(kept, "t", lambda: built.append("again") or 1) == 1
    assert built == ["kept"]


def _overview_of_grid():
    """An overview map of the four test communes with points, Gi* overlay, legend, search and a Jinja-like
    text in a popup, as the page builds it."""
    from layers.overview import overview_map
    from tests.test_layers_communes import grid_communes, incidents_in

    communes = grid_communes(["Xã {{ 7 }}", "Xã Hai", "Phường\r\nBa", "Xã Bốn"])
    incidents = incidents_in(["00001", "00001", "00002", "00003", "00004", "00004", "00004"])
    return overview_map(communes, incidents, caption="Năm 2024 · {# tất cả #}", profile_url="/communes/{code}",
                        district_url="/?district={district}").map


def test_parts_are_rendered_once_and_exactly_as_branca_renders_them(monkeypatch):
    """layers.base writes each element's rendered parts as they are instead of compiling them as templates
    again: the map's script, HTML and whole document are byte for byte what branca renders."""
    import itertools

    from branca.element import Element, MacroElement

    from layers import base

    def rendered():
        """The same map built afresh (ids numbered from 0, as a figure renders only once) and rendered."""
        ids = itertools.count()
        monkeypatch.setattr(Element, "_generate_id", classmethod(lambda cls: f"{next(ids):032x}"))
        parts = map_parts(_overview_of_grid())
        ids = itertools.count()
        return parts, map_document(_overview_of_grid())

    ours = rendered()
    monkeypatch.setattr(MacroElement, "render", base._BRANCA_MACRO_RENDER)
    theirs = rendered()
    assert ours[0].script == theirs[0].script and ours[0].html == theirs[0].html
    assert ours[1] == theirs[1]
    assert len(ours[0].script) > 1000


def test_a_part_with_template_syntax_keeps_the_template_element():
    from branca.element import Element

    from layers.base import RenderedPart, rendered_part

    assert isinstance(rendered_part("var a = 1;\n"), RenderedPart)
    assert rendered_part("var a = 1;\n").render() == Element("var a = 1;\n").render() == "var a = 1;"
    for text in ("{{ 1 + 1 }}", "{% if true %}x{% endif %}", "{# c #}", "a\r\nb"):
        part = rendered_part(text)
        assert not isinstance(part, RenderedPart) and part.render() == Element(text).render()

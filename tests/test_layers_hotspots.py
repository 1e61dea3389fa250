"""Hot spot map layers: colours per class, legends in both languages, escaping, only significant units drawn."""
from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import shapely

from layers.base import make_map, map_document
from layers.hotspots import (DENSITY_COLOURS, EMERGING_COLOURS, GI_BIN_COLOURS, LISA_COLOURS, add_density_layer,
                             add_emerging_layer, add_gi_star_layer, add_hotspot_layer, add_lisa_layer,
                             add_overview_hotspot_layer)

EVIL = '<script>alert("x")</script> & Xã "Mỹ"'


def units(n=10, **columns):
    """``n`` squares of 1 km in a row near Cao Lãnh, EPSG:32648."""
    boxes = [shapely.box(560_000 + 1000 * i, 1_150_000, 561_000 + 1000 * i, 1_151_000) for i in range(n)]
    return gpd.GeoDataFrame(columns, geometry=boxes, crs=32648)


def features(layer):
    return layer.layer.data["features"]


def fill_colours(layer):
    """The fill colour the layer's style gives each drawn feature (by its class index)."""
    return [layer.layer.style_function(f)["fillColor"] for f in features(layer)]


def gi_frame():
    bins = np.array([3, 2, 1, 0, 0, 0, -1, -2, -3, 0])
    z = np.array([3.5, 2.2, 1.7, 0.1, -0.2, 0.3, -1.7, -2.1, -3.0, 0.0])
    p = np.array([0.0004, 0.03, 0.08, 0.9, 0.8, 0.7, 0.08, 0.035, 0.002, 1.0])
    return units(value=np.arange(10.0), count=np.arange(10), gi_z=z, gi_p=p, gi_bin=bins)


def test_gi_star_colours_follow_arcgis_bins():
    m = make_map()
    frame = gi_frame()
    layer = add_gi_star_layer(m, frame)
    drawn = features(layer)
    assert len(drawn) == 6 and layer.drawn == 6 and layer.total == 10
    assert layer.hot == 3 and layer.cold == 3
    assert fill_colours(layer) == [GI_BIN_COLOURS[b] for b in (3, 2, 1, -1, -2, -3)]
    assert GI_BIN_COLOURS[3] == "#d62f27" and GI_BIN_COLOURS[-3] == "#4575b5"
    # popups carry count, z and p, formatted the Vietnamese way
    first = drawn[0]["properties"]
    assert first["n"] == "0" and first["z"] == "3,50" and first["p"] == "&lt; 0,001"
    assert "v" not in first  # the value equals the count: not repeated


def test_gi_star_legend_vietnamese_and_english():
    m = make_map()
    layer = add_gi_star_layer(m, gi_frame(), notes=["Năm 2024"])
    markup = layer.legend.markup
    assert "Điểm nóng Getis-Ord Gi*" in markup
    assert "Điểm nóng — độ tin cậy 99%" in markup and "Điểm lạnh — độ tin cậy 90%" in markup
    assert "Không có ý nghĩa thống kê" not in markup  # not drawn, so not in the legend
    assert "Chỉ vẽ 6/10 đơn vị có ý nghĩa thống kê" in markup
    m_en = make_map()
    english = add_gi_star_layer(m_en, gi_frame(), lang="en", significant_only=False)
    assert "Hot spot — 99% confidence" in english.legend.markup
    assert "Not significant" in english.legend.markup
    assert english.drawn == 10


def test_everything_drawn_on_request_unless_too_many():
    m = make_map()
    layer = add_gi_star_layer(m, gi_frame(), significant_only=False, max_all=5)
    assert layer.drawn == 6  # ten units exceed max_all: significant only, said in the legend
    assert "quá nhiều" in layer.legend.markup


def test_only_the_most_significant_units_are_drawn_above_the_cap_and_the_legend_says_so():
    layer = add_gi_star_layer(make_map(), gi_frame(), max_drawn=3)
    drawn_z = sorted(float(f["properties"]["z"].replace(",", ".")) for f in features(layer))
    assert layer.drawn == 3 and drawn_z == [-3.0, 2.2, 3.5]  # the largest |z| of the six significant
    assert "Chỉ vẽ 3 trong 6 đơn vị có ý nghĩa thống kê" in layer.legend.markup
    lisa = units(lisa_i=np.array([0.5, 2.0, 1.0, 0.0, 3.0, 0.1, 0.2, 0.3, 0.4, 0.6]),
                 lisa_p=np.array([0.01, 0.001, 0.001, 0.5, 0.04, 0.9, 0.9, 0.9, 0.9, 0.9]),
                 lisa_cluster=["HH", "HH", "LL", "not significant", "HL"] + ["not significant"] * 5,
                 count=np.arange(10), value=np.arange(10.0))
    layer = add_lisa_layer(make_map(), lisa, lang="en", max_drawn=2)
    assert layer.drawn == 2 and "Only 2 of the 4 significant units are drawn" in layer.legend.markup
    assert sorted(f["properties"]["k"] for f in features(layer)) == [0, 1]  # the two with p = 0.001: HH and LL


def test_no_significant_unit_says_so():
    frame = gi_frame().assign(gi_bin=0)
    layer = add_gi_star_layer(make_map(), frame)
    assert layer.drawn == 0 and "Không có đơn vị nào có ý nghĩa thống kê" in layer.legend.markup


def test_text_from_data_is_escaped():
    frame = gi_frame()
    frame["commune_name"] = [EVIL] * 10
    m = make_map()
    add_gi_star_layer(m, frame, notes=[EVIL])
    document = map_document(m)
    assert "<script>alert" not in document
    assert "&lt;script&gt;alert" in document or "\\u0026lt;script\\u0026gt;alert" in document
    heading = features(add_gi_star_layer(make_map(), frame))[0]["properties"]["h"]
    assert heading == "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; Xã &quot;Mỹ&quot;"


def test_map_uses_local_assets_only():
    m = make_map(vendor_url="/vendor")
    add_gi_star_layer(m, gi_frame())
    document = map_document(m)
    assert "cdn" not in document.lower() and "https://" not in document
    assert "/vendor/leaflet/dist/leaflet.js" in document


def test_lisa_clusters_in_geoda_colours():
    clusters = ["HH", "HH", "LL", "HL", "LH"] + ["not significant"] * 5
    frame = units(value=np.arange(10.0), lisa_i=np.linspace(-1, 1, 10), lisa_p=np.full(10, 0.01),
                  lisa_q=["HH"] * 10, lisa_cluster=clusters)
    m = make_map()
    layer = add_lisa_layer(m, frame)
    assert layer.drawn == 5 and layer.hot == 2 and layer.cold == 1
    assert fill_colours(layer) == [LISA_COLOURS[c] for c in clusters[:5]]
    assert "Cao – Cao (điểm nóng)" in layer.legend.markup
    assert "Low – High (low outlier)" in add_lisa_layer(make_map(), frame, lang="en").legend.markup


def test_density_classes_and_threshold():
    density = np.array([0.0, 0.01, 0.04, 0.06, 0.25, 0.45, 0.65, 0.85, 1.0, 0.5]) * 40
    frame = units(value=np.ones(10), count=np.ones(10, dtype=int), density=density)
    layer = add_density_layer(make_map(), frame)
    drawn = features(layer)
    assert layer.drawn == 7  # below 5 % of the maximum is not drawn
    colours = fill_colours(layer)
    assert colours[0] == DENSITY_COLOURS[0] and colours[-2] == DENSITY_COLOURS[4]
    assert "Mật độ vụ việc (số vụ/km²)" in layer.legend.markup
    capped = add_density_layer(make_map(), frame, max_cells=3)
    assert capped.drawn == 3 and capped.capped
    assert sorted(f["properties"]["d"] for f in features(capped)) == sorted(["34,00", "40,00", "26,00"])


def test_emerging_classes():
    categories = ["new_hot", "intensifying_hot", "persistent_cold", "no_pattern", "no_pattern", "sporadic_hot",
                  "historical_cold", "no_pattern", "oscillating_hot", "no_pattern"]
    frame = units(count=np.arange(10), value=np.arange(10.0), category=categories, trend_z=np.linspace(-2, 2, 10),
                  trend_p=np.full(10, 0.2))
    layer = add_emerging_layer(make_map(), frame)
    assert layer.drawn == 6 and layer.hot == 4 and layer.cold == 2
    assert fill_colours(layer) == [EMERGING_COLOURS[c] for c in categories
                                                                if c != "no_pattern"]
    assert "Điểm nóng mới" in layer.legend.markup and "Điểm lạnh kéo dài" in layer.legend.markup
    assert "Không có xu hướng" not in layer.legend.markup
    assert "Intensifying hot spot" in add_emerging_layer(make_map(), frame, lang="en").legend.markup


def test_dispatch_and_overview_overlay():
    m = make_map()
    layer = add_overview_hotspot_layer(m, gi_frame())
    assert layer.legend is None and layer.layer.show is False
    with pytest.raises(ValueError, match="not one of"):
        add_hotspot_layer(m, gi_frame(), "moran")


def test_popup_labels_are_escaped_once_in_the_script():
    m = make_map()
    add_gi_star_layer(m, gi_frame(), lang="en")
    document = map_document(m)
    assert 'cls: "Class"' in document and 'p: "p-value"' in document


def test_style_table_has_one_case_per_class_and_clipped_cells_are_simplified():
    """The map script grows with the drawn cells' coordinates only: no per-feature id, colour or style case."""
    n = 400
    bins = np.where(np.arange(n) % 2 == 0, 3, -3)
    frame = units(n, value=np.arange(float(n)), count=np.arange(n), gi_z=np.where(bins > 0, 3.5, -3.5),
                  gi_p=np.full(n, 0.0004), gi_bin=bins)
    jagged = shapely.Polygon([(560_000 + x, 1_150_000 + (0.3 if i % 2 else 0.0))
                              for i, x in enumerate(np.linspace(0, 1000, 200))] + [(561_000, 1_151_000),
                                                                                  (560_000, 1_151_000)])
    frame.loc[0, "geometry"] = jagged  # a cell clipped along a boundary drawn vertex by vertex
    m = make_map()
    layer = add_gi_star_layer(m, frame)
    script = map_document(m)
    # Two classes: one is the table's default, the other its one case (folium wrote 200 cases before).
    assert script.count("case ") == 1 and "case 399" not in script
    drawn = features(layer)
    assert all("id" not in f and "f" not in f["properties"] for f in drawn)
    assert len(drawn[0]["geometry"]["coordinates"][0]) < 10  # 200 boundary vertices within 0.3 m of a line
    assert fill_colours(layer)[:2] == [GI_BIN_COLOURS[3], GI_BIN_COLOURS[-3]]

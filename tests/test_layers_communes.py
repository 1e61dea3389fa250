"""layers.communes / layers.legend / layers.overview on rendered text, with communes built in the test."""
from __future__ import annotations

import json
import re

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import box

from layers.base import make_map, map_document
from layers.communes import (NO_DATA_COLOUR, PALETTE, ZERO_COLOUR, add_commune_choropleth, class_breaks,
                             colour_for, commune_statistics, display_geometries, legend_entries)
from layers.legend import Legend
from layers.overview import overview_map
from layers.text import format_number

EVIL = "<script>alert(1)</script>"


def grid_communes(names=None) -> gpd.GeoDataFrame:
    """Four 0.05° squares in two districts near Cao Lãnh."""
    names = names or ["Xã Một", "Xã Hai", "Phường Ba", "Xã Bốn"]
    cells = [box(105.60 + 0.05 * (i % 2), 10.40 + 0.05 * (i // 2), 105.65 + 0.05 * (i % 2),
                 10.45 + 0.05 * (i // 2)) for i in range(4)]
    return gpd.GeoDataFrame({
        "commune_code": ["00001", "00002", "00003", "00004"],
        "commune_name": names,
        "commune_type": ["xã", "xã", "phường", "xã"],
        "district_code": ["801", "801", "802", "802"],
        "district_name": ["Huyện A", "Huyện A", "Thành phố B", "Thành phố B"],
        "province_code": "87", "province_name": "Tỉnh Đồng Tháp",
    }, geometry=cells, crs="EPSG:4326")


def incidents_in(codes, *, redacted=None) -> pd.DataFrame:
    n = len(codes)
    centres = {"00001": (105.625, 10.425), "00002": (105.675, 10.425), "00003": (105.625, 10.475),
               "00004": (105.675, 10.475)}
    frame = pd.DataFrame({
        "id": [f"V{i}" for i in range(n)],
        "occurred_at": pd.Timestamp("2024-05-01"),
        "category": "theft", "severity": "serious", "case_status": "cleared",
        "lon": [centres[c][0] for c in codes], "lat": [centres[c][1] for c in codes],
        "commune_code": list(codes),
        "redacted": redacted if redacted is not None else [False] * n,
    })
    frame.loc[frame["redacted"], ["lon", "lat"]] = np.nan
    return frame


def test_statistics_count_every_commune_including_redacted_rows():
    communes = grid_communes()
    incidents = incidents_in(["00001", "00001", "00003"], redacted=[False, True, False])
    population = pd.DataFrame({"commune_code": ["00001", "00002", "00003"], "population": [20_000, 5_000, 0]})
    stats = commune_statistics(communes, incidents, population).set_index("commune_code")
    assert stats["count"].to_dict() == {"00001": 2, "00002": 0, "00003": 1, "00004": 0}
    assert stats.loc["00001", "rate"] == pytest.approx(1.0)  # 2 / 20,000 × 10,000
    assert stats.loc["00002", "rate"] == 0
    assert np.isnan(stats.loc["00003", "rate"])  # population 0: no rate
    assert np.isnan(stats.loc["00004", "rate"])  # no figure


def test_class_breaks_are_quantiles_rounded_up_and_cover_the_maximum():
    assert class_breaks([0, 0, 0]) == []
    bounds = class_breaks([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10], integer=True)
    assert bounds == sorted(set(bounds)) and bounds[-1] == 10
    assert len(bounds) == 5
    assert class_breaks([0.123, 0.5, 7.77], k=2) == [0.5, 7.8]  # two significant figures, rounded up
    assert colour_for(0, bounds) == ZERO_COLOUR
    assert colour_for(float("nan"), bounds) == NO_DATA_COLOUR
    assert colour_for(10, bounds) == PALETTE[-1]
    assert colour_for(1, bounds) == PALETTE[0]


def test_legend_entries_name_classes_in_each_language():
    entries = legend_entries([2.0, 5.0], "count", "vi")
    assert [label for _, label in entries] == ["0", "1–2", "3–5"]
    rate = legend_entries([1.5, 12.25], "rate", "vi", has_missing=True)
    assert rate[1][1] == "> 0,0 – 1,5"
    assert rate[-1] == (NO_DATA_COLOUR, "không có số dân")
    assert legend_entries([1.5], "rate", "en", has_missing=True)[-1][1] == "no population figure"
    assert format_number(12345.67, "vi", 1) == "12.345,7"
    assert format_number(12345.67, "en", 1) == "12,345.7"


def test_display_geometries_round_coordinates():
    shown = display_geometries(grid_communes())
    coords = json.dumps(shown.geometry.iloc[0].__geo_interface__)
    assert not re.search(r"\d\.\d{6,}", coords)
    assert shown.crs.to_epsg() == 4326 and len(shown) == 4


def test_choropleth_escapes_names_in_tooltips_popups_and_legend():
    communes = grid_communes([EVIL, "Xã <b>Hai</b>", "Phường & Ba", "Xã Bốn"])
    communes.loc[0, "district_name"] = '"><img src=x onerror=alert(2)>'
    incidents = incidents_in(["00001", "00002"])
    stats = commune_statistics(communes, incidents)
    m = make_map()
    add_commune_choropleth(m, communes, stats, measure="count", title=EVIL, notes=[EVIL])
    page = map_document(m)
    assert EVIL not in page
    assert "<img" not in page and "<b>Hai" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page or "\\u0026lt;script\\u0026gt;" in page


def test_choropleth_tooltip_shows_names_count_and_rate_with_census_year():
    communes = grid_communes()
    incidents = incidents_in(["00001"] * 3)
    population = pd.DataFrame({"commune_code": ["00001", "00002", "00003", "00004"],
                               "population": [15_000, 1_000, 1_000, 1_000]})
    result = overview_map(communes, incidents, population=population, population_year=2019, measure="rate",
                          map_id="t")
    page = map_document(result.map)
    assert "Xã Một" in page or "X\\u00e3 M\\u1ed9t" in page
    legend = result.legend.markup
    assert "Số vụ trên 10.000 dân" in legend
    assert "Dân số năm 2019 của bộ ranh giới đang xem" in legend
    assert "2,0" in page  # 3 / 15,000 × 10,000, Vietnamese decimal comma
    assert page.count('"className": "commune-shape"') == 1
    assert "district-outline" in page


def test_english_legend_and_illustrative_label():
    result = overview_map(grid_communes(), incidents_in(["00002"]), lang="en", demo=True,
                          caption="Year 2024 · All")
    legend = result.legend.markup
    assert "Incidents per commune" in legend
    assert "Illustrative data" in legend
    assert "Year 2024 · All" in legend
    vi = overview_map(grid_communes(), incidents_in(["00002"]), demo=True).legend.markup
    assert "minh họa" in vi


def test_district_filter_keeps_only_its_communes_and_unknown_district_is_refused():
    result = overview_map(grid_communes(), incidents_in(["00001", "00003"]), district_code="802")
    assert set(result.statistics["commune_code"]) == {"00003", "00004"}
    assert result.points.shown == 1
    with pytest.raises(ValueError, match="district_code '999'"):
        overview_map(grid_communes(), incidents_in([]), district_code="999")


@pytest.mark.parametrize("district, codes, max_points, redacted", [
    (None, ["00001", "00001", "00003"], 3000, None),
    ("802", ["00001", "00003", "00004"], 3000, [False, True, False]),
    (None, ["00001", "00002", "00003"], 2, None),  # capped: no point drawn
    (None, [], 3000, None),
])
def test_page_figures_and_assets_are_those_of_the_map(district, codes, max_points, redacted):
    """The overview page shows overview_figures and loads overview_assets without building the map: both must
    be exactly what overview_map computes and loads for the same arguments."""
    from layers.base import asset_urls
    from layers.overview import OVERVIEW_MAP_ELEMENT, overview_assets, overview_figures

    communes, incidents = grid_communes(), incidents_in(codes, redacted=redacted)
    population = pd.DataFrame({"commune_code": ["00001", "00002", "00003", "00004"],
                               "population": [15_000, 1_000, 2_000, 1_000]})
    built = overview_map(communes, incidents, population=population, district_code=district, max_points=max_points)
    figures = overview_figures(communes, incidents, population=population, district_code=district,
                               max_points=max_points)
    pd.testing.assert_frame_equal(figures.statistics, built.statistics)
    assert figures.points == built.points
    assert figures.points.severities == built.points.severities
    assert overview_assets(points_drawn=built.points.shown > 0) == asset_urls(built.map)
    assert built.map.get_name() == OVERVIEW_MAP_ELEMENT


def test_measure_must_be_known():
    communes = grid_communes()
    with pytest.raises(ValueError, match="measure 'density'"):
        add_commune_choropleth(make_map(), communes, commune_statistics(communes, incidents_in([])),
                               measure="density")


def test_legend_markup_is_escaped_and_position_checked():
    legend = Legend(EVIL, [("#fff", EVIL)], notes=[EVIL])
    assert EVIL not in legend.markup
    assert "<" not in legend.markup_js and ">" not in legend.markup_js
    with pytest.raises(ValueError, match="position"):
        Legend("x", [], position="middle")

"""Border corridor: geometry built here (straight and bent borders) and the real Đồng Tháp – Prey Veng data."""
from __future__ import annotations

import math

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from shapely.geometry import LineString, Point, box

from geo import corridor_geometry as C
from geo import corridor_statistics as CS
from geo.crs import METRIC_CRS
from geo.errors import GeoInputError

X0, Y0 = 500_000.0, 1_200_000.0  # UTM 48N metres near Đồng Tháp

# A straight border along y = Y0 from X0 to X0 + 10 km; the province lies south of it and reaches 15 km
# beyond both ends, "Cambodia" lies north.
STRAIGHT = LineString([(X0, Y0), (X0 + 10_000, Y0)])
STRAIGHT_PROVINCE = box(X0 - 15_000, Y0 - 20_000, X0 + 25_000, Y0)

# A bent border: east along y = Y0, then north along x = X0 + 10 km. The province is the L-shaped region
# south of the first leg and east of the second; "Cambodia" is the quadrant north-west of the bend.
BENT = LineString([(X0, Y0), (X0 + 10_000, Y0), (X0 + 10_000, Y0 + 10_000)])
BENT_PROVINCE = shapely.union(box(X0 - 5_000, Y0 - 15_000, X0 + 25_000, Y0),
                              box(X0 + 10_000, Y0, X0 + 25_000, Y0 + 15_000))


def gates_frame(points, names):
    return gpd.GeoDataFrame({"name": names}, geometry=[Point(p) for p in points], crs=METRIC_CRS)


def assign(x, y, line=STRAIGHT, province=STRAIGHT_PROVINCE, gates=None, edges=C.DEFAULT_EDGES_M, length_m=3000.0):
    segments = C.border_segments(line, length_m)
    if gates is None:
        gates = gates_frame([(X0, Y0), (X0 + 10_000, Y0)], ["Tây", "Đông"])
    return C.assign_corridor(np.atleast_1d(x), np.atleast_1d(y), line, segments, gates, edges,
                             province_polygon=province)


# ------------------------------------------------------------------ edges and labels


@pytest.mark.parametrize("edges", [(2000, 1000), (0, 0, 10), (-1, 10), (5,), (0, float("nan")), "abc"])
def test_validate_edges_refuses_bad_edges(edges):
    with pytest.raises(GeoInputError, match="edges_m"):
        C.validate_edges(edges)


def test_validate_edges_accepts_a_corridor_not_starting_at_zero():
    assert C.validate_edges([500, 2000]).tolist() == [500.0, 2000.0]


def test_band_labels_use_km_and_a_decimal_comma():
    assert C.band_label(0, 2000) == "0–2 km"
    assert C.band_label(2500, 5000) == "2,5–5 km"


# ------------------------------------------------------------------ bands


def test_bands_on_a_straight_border_have_the_area_of_clipped_buffers():
    bands = C.corridor_bands(STRAIGHT, STRAIGHT_PROVINCE)
    assert bands["label"].tolist() == ["0–2 km", "2–5 km", "5–10 km"]
    assert bands.crs == METRIC_CRS
    # Half of each buffer lies in the province: a rectangle along the line plus two quarter discs.
    for row in bands.itertuples():
        expected = (10_000 * (row.outer_m - row.inner_m) + math.pi / 2 * (row.outer_m**2 - row.inner_m**2)) / 1e6
        assert row.area_km2 == pytest.approx(expected, rel=1e-3)
    assert not bands.geometry.iloc[0].intersects(box(X0, Y0 + 1, X0 + 10_000, Y0 + 5_000))  # nothing north


def test_bands_refuse_degrees_and_bad_edges():
    with pytest.raises(GeoInputError, match="longitude/latitude"):
        C.corridor_bands(LineString([(105.3, 10.9), (105.6, 10.95)]), STRAIGHT_PROVINCE)
    with pytest.raises(GeoInputError, match="edges_m"):
        C.corridor_bands(STRAIGHT, STRAIGHT_PROVINCE, edges_m=(0, 5000, 2000))
    with pytest.raises(GeoInputError, match="zero length"):
        C.corridor_bands(LineString([(X0, Y0), (X0, Y0)]), STRAIGHT_PROVINCE)
    with pytest.raises(GeoInputError, match="Polygon"):
        C.corridor_bands(STRAIGHT, STRAIGHT)


# ------------------------------------------------------------------ segments


def test_segments_cover_the_line_in_order_and_the_last_is_shorter():
    seg = C.border_segments(STRAIGHT, 3000)
    assert seg["segment_id"].tolist() == [1, 2, 3, 4]
    assert seg["from_km"].tolist() == [0, 3, 6, 9]
    assert seg["to_km"].tolist() == [3, 6, 9, 10]
    assert seg.geometry.length.tolist() == pytest.approx([3000, 3000, 3000, 1000])
    assert seg["label"].iloc[3] == "Đoạn 4 (9–10 km)"


def test_segments_of_an_exact_multiple_have_no_empty_tail():
    seg = C.border_segments(STRAIGHT, 5000)
    assert seg["length_km"].tolist() == pytest.approx([5, 5])


@pytest.mark.parametrize("length", [0, -5, float("inf")])
def test_segments_refuse_bad_length(length):
    with pytest.raises(GeoInputError, match="length_m"):
        C.border_segments(STRAIGHT, length)


# ------------------------------------------------------------------ assignment: straight border


def test_band_edges_go_to_the_inner_band_and_the_outermost_edge_stays_inside():
    y = Y0 - np.array([0.0, 1999.999, 2000.0, 2000.001, 5000.0, 10_000.0, 10_000.001])
    out = assign(np.full(y.size, X0 + 4_000), y)
    assert out["distance_m"].tolist() == pytest.approx(Y0 - y, abs=1e-9)
    assert out["band"].tolist() == [0, 0, 0, 1, 1, 2, -1]
    assert out["in_province"].all()


def test_corridor_not_starting_at_zero_leaves_the_nearest_strip_out():
    out = assign([X0 + 4_000] * 3, [Y0 - 200, Y0 - 500, Y0 - 700], edges=(500, 2000))
    assert out["band"].tolist() == [-1, 0, 0]


def test_points_on_the_cambodian_side_are_not_in_the_corridor():
    out = assign([X0 + 4_000, X0 + 4_000, X0 + 4_000], [Y0 + 1_000, Y0 - 1_000, Y0])
    assert out["in_province"].tolist() == [False, True, True]  # a point on the line counts as inside
    assert out["band"].tolist() == [-1, 0, 0]
    assert out["distance_m"].tolist() == pytest.approx([1000, 1000, 0])


def test_segment_and_chainage_follow_the_nearest_point_of_the_line():
    out = assign([X0 + 2_999, X0 + 3_000, X0 + 9_500, X0 - 2_000], [Y0 - 100] * 4)
    assert out["segment_id"].tolist() == [1, 2, 4, 1]  # a boundary chainage goes to the later segment
    assert out["along_km"].tolist() == pytest.approx([2.999, 3.0, 9.5, 0.0])
    assert out["distance_m"].iloc[3] == pytest.approx(math.hypot(2000, 100))


def test_nearest_gate_name_and_straight_line_distance():
    gates = gates_frame([(X0, Y0), (X0 + 8_000, Y0 - 1_000)], ["Cửa khẩu A", "Cửa khẩu B"])
    out = assign([X0 + 1_000, X0 + 7_000], [Y0 - 1_000, Y0 - 1_000], gates=gates)
    assert out["gate"].astype(str).tolist() == ["Cửa khẩu A", "Cửa khẩu B"]
    assert out["gate_distance_m"].tolist() == pytest.approx([math.hypot(1000, 1000), 1000])


def test_without_gates_the_gate_columns_are_empty():
    out = assign([X0 + 1_000], [Y0 - 1_000], gates=gates_frame([], []))
    assert out["gate"].isna().all() and out["gate_distance_m"].isna().all()


def test_far_points_outside_the_lookup_grid_are_still_exact():
    out = assign([X0 + 5_000, X0 - 90_000], [Y0 - 80_000, Y0 + 3_000])
    assert out["distance_m"].tolist() == pytest.approx([80_000, math.hypot(90_000, 3_000)])
    assert out["band"].tolist() == [-1, -1]
    assert out["segment_id"].tolist() == [2, 1]


def test_assignment_refuses_degrees_unequal_arrays_and_foreign_segments():
    segments = C.border_segments(STRAIGHT)
    gates = gates_frame([(X0, Y0)], ["A"])
    with pytest.raises(GeoInputError, match="longitude/latitude"):
        C.assign_corridor([105.5], [10.9], STRAIGHT, segments, gates, province_polygon=STRAIGHT_PROVINCE)
    with pytest.raises(GeoInputError, match="equal length"):
        C.assign_corridor([X0, X0], [Y0], STRAIGHT, segments, gates, province_polygon=STRAIGHT_PROVINCE)
    with pytest.raises(GeoInputError, match="segments"):
        C.assign_corridor([X0], [Y0], BENT, segments, gates, province_polygon=BENT_PROVINCE)


# ------------------------------------------------------------------ assignment: bent border


def test_bent_border_points_near_the_bend_on_both_sides():
    out = assign([X0 + 12_000, X0 + 8_000, X0 + 12_000], [Y0 - 2_000, Y0 + 2_000, Y0 + 5_000],
                 line=BENT, province=BENT_PROVINCE, length_m=5000)
    # Outside the bend (province side): nearest is the vertex itself.
    assert out["distance_m"].iloc[0] == pytest.approx(math.hypot(2000, 2000))
    assert out["band"].iloc[0] == 1 and out["along_km"].iloc[0] == pytest.approx(10.0)
    # Inside the bend (Cambodia): 2 km from both legs, not in the corridor.
    assert out["distance_m"].iloc[1] == pytest.approx(2000)
    assert not out["in_province"].iloc[1] and out["band"].iloc[1] == -1
    # East of the northern leg: province side, chainage 15 km, segment 3 (10–15 km boundary goes later).
    assert out["distance_m"].iloc[2] == pytest.approx(2000)
    assert out["along_km"].iloc[2] == pytest.approx(15.0) and out["segment_id"].iloc[2] == 4
    assert out["band"].iloc[2] == 0


def test_bent_border_matches_geos_for_random_points_on_both_sides():
    rng = np.random.default_rng(138)
    x = rng.uniform(X0 - 15_000, X0 + 30_000, 3000)
    y = rng.uniform(Y0 - 20_000, Y0 + 25_000, 3000)
    segments = C.border_segments(BENT, 4000)
    gates = gates_frame([(X0 + 3_000, Y0), (X0 + 10_000, Y0 + 6_000), (X0 + 14_000, Y0 - 9_000)], ["A", "B", "C"])
    out = C.assign_corridor(x, y, BENT, segments, gates, province_polygon=BENT_PROVINCE)
    points = shapely.points(x, y)
    assert out["distance_m"].to_numpy() == pytest.approx(shapely.distance(BENT, points), abs=1e-6)
    assert out["along_km"].to_numpy() * 1000 == pytest.approx(shapely.line_locate_point(BENT, points), abs=1e-6)
    nearest_segment = segments["segment_id"].to_numpy()[shapely.STRtree(segments.geometry.values).query_nearest(
        points, all_matches=False)[1]]
    assert (out["segment_id"].to_numpy() == nearest_segment).mean() > 0.999  # ties at shared ends aside
    nearest_gate = gates["name"].to_numpy()[shapely.STRtree(gates.geometry.values).query_nearest(points, all_matches=False)[1]]
    assert (out["gate"].astype(str).to_numpy() == nearest_gate).all()
    inside = shapely.intersects(BENT_PROVINCE, points)
    assert (out["in_province"].to_numpy() == inside).all()
    expected_band = np.where(inside, np.digitize(out["distance_m"], [0, 2000, 5000, 10000], right=True) - 1, -1)
    expected_band[inside & (out["distance_m"].to_numpy() == 0)] = 0
    expected_band[expected_band == 3] = -1
    assert (out["band"].to_numpy() == expected_band).all()
    # Band polygons agree with the exact distances away from their (polygonal) edges.
    bands = C.corridor_bands(BENT, BENT_PROVINCE)
    clear = np.min(np.abs(out["distance_m"].to_numpy()[:, None] - np.array([2000, 5000, 10000])), axis=1) > 5
    for band in bands.itertuples():
        in_polygon = shapely.intersects(band.geometry, points)
        assert (in_polygon[clear] == (out["band"].to_numpy()[clear] == band.band)).all()


# ------------------------------------------------------------------ derived border line


def test_derived_border_follows_the_shared_edge_within_tolerance_and_wraps_the_ring_start():
    province = box(X0, Y0, X0 + 10_000, Y0 + 10_000)  # ring starts at its south-east corner
    neighbour = box(X0 + 10_050, Y0 - 20_000, X0 + 30_000, Y0 + 30_000)  # 50 m gap, digitised apart
    line = C.derive_border_line(province, neighbour, tolerance_m=300).geometry.iloc[0]
    # The east edge plus the 250 m of the south and north edges within 300 m of the neighbour.
    assert line.length == pytest.approx(10_500, abs=2 * 25)
    assert line.coords[0][0] < line.coords[-1][0] or line.coords[0][0] == pytest.approx(line.coords[-1][0])
    assert shapely.hausdorff_distance(line, LineString([(X0 + 9_750, Y0), (X0 + 10_000, Y0),
                                                        (X0 + 10_000, Y0 + 10_000),
                                                        (X0 + 9_750, Y0 + 10_000)])) < 30


def test_derived_border_bridges_small_gaps_only():
    province = box(X0, Y0, X0 + 10_000, Y0 + 10_000)
    # The neighbour pulls away 1 km from the middle 400 m of the shared edge.
    neighbour = shapely.difference(box(X0 + 10_000, Y0 + 1, X0 + 30_000, Y0 + 9_999),
                                   box(X0 + 10_000, Y0 + 4_800, X0 + 11_000, Y0 + 5_200))
    bridged = C.derive_border_line(province, neighbour, tolerance_m=50, max_gap_m=500).geometry.iloc[0]
    assert bridged.length == pytest.approx(10_000, abs=100)
    split = C.derive_border_line(province, neighbour, tolerance_m=50, max_gap_m=100).geometry.iloc[0]
    assert split.length == pytest.approx(4_850, abs=60)  # the longer of the two pieces


def test_derived_border_refuses_polygons_far_apart_and_bad_tolerance():
    with pytest.raises(GeoInputError, match="tolerance_m"):
        C.derive_border_line(box(X0, Y0, X0 + 1_000, Y0 + 1_000), box(X0 + 5_000, Y0, X0 + 6_000, Y0 + 1_000))
    with pytest.raises(GeoInputError, match="tolerance_m"):
        C.derive_border_line(STRAIGHT_PROVINCE, BENT_PROVINCE, tolerance_m=-1)


# ------------------------------------------------------------------ communes


def test_border_communes_and_communes_in_bands_on_built_geometry():
    communes = gpd.GeoDataFrame(
        {"commune_code": ["1", "2", "3"], "commune_name": ["Xã Tây", "Xã Đông", "Xã Nam"]},
        geometry=[box(X0 - 5_000, Y0 - 3_000, X0 + 4_000, Y0), box(X0 + 4_000, Y0 - 3_000, X0 + 15_000, Y0),
                  box(X0 - 5_000, Y0 - 20_000, X0 + 15_000, Y0 - 3_000)],
        crs=METRIC_CRS,
    )
    touching = C.border_communes(communes, STRAIGHT, tolerance_m=10)
    assert touching["commune_name"].tolist() == ["Xã Tây", "Xã Đông"]
    assert touching["border_length_km"].tolist() == pytest.approx([4, 6])
    assert touching["from_km"].tolist() == pytest.approx([0, 4])
    pieces = C.communes_in_bands(communes, C.corridor_bands(STRAIGHT, STRAIGHT_PROVINCE))
    by = pieces.set_index(["commune_code", "band"])["share"]
    assert set(pieces.loc[pieces["band"] == 0, "commune_code"]) == {"1", "2"}
    assert by[("3", 2)] > 0 and ("3", 0) not in by.index
    assert pieces.groupby("commune_code")["share"].sum()["1"] <= 1 + 1e-9


# ------------------------------------------------------------------ statistics and linear hotspot


def test_yearly_change_is_an_exact_poisson_test():
    from scipy import stats

    out = CS.yearly_change([3, 30, 0, 0], [4, 12, 0, 5])
    assert out["p_value"].iloc[0] == pytest.approx(1.0)  # 4 → 3 is no evidence of anything
    assert out["p_value"].iloc[1] == pytest.approx(stats.binomtest(30, 42, 0.5).pvalue)
    assert out["ratio_low"].iloc[1] > 1 and out["ratio_low"].iloc[0] < 0.75 / 1 < out["ratio_high"].iloc[0]
    assert out["change_pct"].iloc[1] == pytest.approx(150.0)
    assert np.isnan(out["p_value"].iloc[2]) and np.isnan(out["change_pct"].iloc[2])
    assert out["ratio_low"].iloc[3] == 0 and out["change"].iloc[3] == -5


def test_corridor_statistics_counts_only_the_corridor_by_every_dimension():
    frame = pd.DataFrame({
        "band": [0, 0, 1, 2, -1, 0, 1],
        "segment_id": [1, 2, 2, 3, 1, 1, 3],
        "gate": pd.Categorical(["A", "B", "B", "A", "A", "A", "B"]),
        "category": ["smuggling", "drugs", "drugs", "smuggling", "drugs", "drugs", "smuggling"],
        "occurred_on": pd.to_datetime(["2024-01-05", "2024-01-20", "2024-03-01", "2024-12-31", "2024-05-05",
                                       "2023-01-10", "2022-06-01"]),
    })
    bands = pd.DataFrame({"band": [0, 1, 2], "label": ["0–2 km", "2–5 km", "5–10 km"]})
    stats = CS.corridor_statistics(frame, year=2024, bands=bands)
    get = stats.set_index(["dimension", "key"])
    assert get.loc[("total", "all"), ["count", "previous_count"]].tolist() == [4, 1]
    assert get.loc[("category", "drugs"), ["count", "previous_count"]].tolist() == [2, 1]
    assert get.loc[("category", "drugs"), "label"] == "Ma túy"
    assert get.loc[("band", "0"), "count"] == 2 and get.loc[("band", "0"), "label"] == "0–2 km"
    assert get.loc[("band", "2"), "count"] == 1
    assert get.loc[("segment", "2"), "count"] == 2
    assert get.loc[("gate", "B"), "count"] == 2
    assert get.loc[("month", "2024-01"), ["count", "previous_count"]].tolist() == [2, 1]
    assert get.loc[("month", "2024-06"), "count"] == 0 and len(stats[stats["dimension"] == "month"]) == 12
    only = CS.corridor_statistics(frame, year=2024, categories=["smuggling", "trafficking"])
    assert only.set_index(["dimension", "key"]).loc[("category", "trafficking"), "count"] == 0
    assert only.set_index(["dimension", "key"]).loc[("total", "all"), "count"] == 2
    with pytest.raises(GeoInputError, match="year"):
        CS.corridor_statistics(frame, year="2024")
    with pytest.raises(GeoInputError, match="category"):
        CS.corridor_statistics(frame.drop(columns="category"), year=2024)


def test_line_neighbour_weights_link_k_positions_each_way():
    w = CS.line_neighbour_weights(5, 2).toarray()
    assert w[0].tolist() == [1, 1, 1, 0, 0]
    assert w[2].tolist() == [1, 1, 1, 1, 1]
    assert (w == w.T).all()


def test_linear_hotspot_marks_the_busy_stretch_and_matches_pysal():
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from esda.getisord import G_Local
        from libpysal.weights import WSP

    counts = np.array([1, 2, 1, 0, 14, 18, 15, 1, 2, 0, 1, 2])
    lengths = np.array([5.0] * 11 + [2.5])
    out = CS.linear_hotspot(counts, lengths, k=1)
    assert out["per_km"].iloc[-1] == pytest.approx(0.8)
    assert out["gi_bin"].iloc[5] == 3 and out["gi_bin"].iloc[0] <= 0
    peer = G_Local(out["per_km"].to_numpy(), WSP(CS.line_neighbour_weights(12, 1)).to_W(silence_warnings=True),
                   transform="B", star=True, permutations=0)
    assert out["gi_z"].to_numpy() == pytest.approx(peer.Zs)


def test_linear_hotspot_without_variation_or_with_bad_input():
    flat = CS.linear_hotspot([0, 0, 0, 0], [5, 5, 5, 5])
    assert flat["gi_z"].isna().all() and (flat["gi_bin"] == 0).all()
    with pytest.raises(GeoInputError, match="segment_lengths"):
        CS.linear_hotspot([1, 2, 3], [5, 0, 5])
    with pytest.raises(GeoInputError, match="segment_counts"):
        CS.linear_hotspot([1, 2], [5, 5])


def test_gate_classes_from_the_source_wording():
    assert C._gate_class("international (quốc tế)") == "international"
    assert C._gate_class("national (cửa khẩu chính/song phương); listed as auxiliary (cửa khẩu phụ) in 2017") == "main"
    assert C._gate_class("Cửa khẩu phụ") == "secondary"
    with pytest.raises(GeoInputError, match="gate_class"):
        C._gate_class("unknown")


# ------------------------------------------------------------------ real data (data/boundaries)

BORDER_COMMUNES = {"Xã Tân Hộ Cơ", "Xã Thông Bình", "Xã Bình Phú", "Xã Thường Phước 1", "Xã Thường Thới Hậu A",
                   "Xã Thường Lạc", "Xã Bình Thạnh", "Xã Tân Hội"}
# Gates are approximate points: each must lie within this distance of the province (the largest offset between
# the Vietnamese and Cambodian outlines of this border is 286 m, and commune boundaries are good to 50–300 m,
# data/boundaries PROVENANCE.md §1.4 and §3).
GATE_PROVINCE_TOLERANCE_M = 300.0


@pytest.fixture(scope="module")
def real(data_dir):
    folder = data_dir / "boundaries"
    communes = gpd.read_file(folder / "dong_thap_communes_2024.geojson")
    return {
        "line": C.read_border_line(folder / "cambodia_vietnam_border_dong_thap.geojson"),
        "kh_line": C.read_border_line(folder / "cambodia_vietnam_border_dong_thap.geojson", "kh_side_from_osm"),
        "gates": C.read_border_gates(folder / "border_gates.geojson"),
        "communes": communes,
        "province": communes.to_crs(METRIC_CRS).union_all(),
        "prey_veng": gpd.read_file(folder / "prey_veng_province.geojson"),
        "folder": folder,
    }


def test_real_border_line_is_about_48_km_and_runs_west_to_east(real):
    line = real["line"]
    assert line.crs == METRIC_CRS and line["id"].iloc[0] == "vn_side_from_communes"
    assert line["length_m"].iloc[0] / 1000 == pytest.approx(47.96, abs=0.05)
    coords = line.geometry.iloc[0].coords
    assert coords[0][0] < coords[-1][0]
    assert real["kh_line"]["length_m"].iloc[0] / 1000 == pytest.approx(51.61, abs=0.05)


def test_real_border_line_unknown_id_is_refused(real):
    with pytest.raises(GeoInputError, match="line_id"):
        C.read_border_line(real["folder"] / "cambodia_vietnam_border_dong_thap.geojson", "nope")
    with pytest.raises(GeoInputError, match="does not exist"):
        C.read_border_line(real["folder"] / "missing.geojson")


def test_real_border_communes_are_the_eight_of_provenance(real):
    for line in (real["line"], real["kh_line"]):
        touching = C.border_communes(real["communes"], line)
        assert set(touching["commune_name"]) == BORDER_COMMUNES
    lengths = C.border_communes(real["communes"], real["line"]).set_index("commune_name")["border_length_km"]
    assert lengths["Xã Tân Hộ Cơ"] == pytest.approx(9.7, abs=0.1)
    assert lengths["Xã Tân Hội"] == pytest.approx(3.5, abs=0.1)
    assert lengths.sum() == pytest.approx(47.96, abs=0.05)


def test_real_derived_border_agrees_with_the_file(real):
    derived = C.derive_border_line(real["province"], real["prey_veng"])
    line = real["line"].geometry.iloc[0]
    assert 48 < derived["length_m"].iloc[0] / 1000 < 52  # untrimmed at the tri-points, unlike the file
    # Every point of the file's line is on the derived one (same outline); the ends reach ≤ 1 km further.
    assert shapely.distance(derived.geometry.iloc[0], shapely.points(np.asarray(line.coords))).max() < 1
    assert derived.geometry.iloc[0].hausdorff_distance(line) < 1000


def test_real_gates_lie_on_the_province_side_within_tolerance(real):
    gates = real["gates"]
    assert len(gates) == 4 and gates["approximate"].all()
    assert set(gates["gate_class"]) <= set(C.GATE_CLASSES)
    assert (gates["gate_class"] == "international").sum() == 2
    province, line = real["province"], real["line"].geometry.iloc[0]
    assert (gates.geometry.distance(province) <= GATE_PROVINCE_TOLERANCE_M).all()
    # ... and no farther from the border than their own stated uncertainty.
    assert (gates.geometry.distance(line) <= gates["uncertainty_m"]).all()


def test_real_bands_and_assignment(real):
    line, province = real["line"], real["province"]
    bands = C.corridor_bands(line, province)
    assert (bands["area_km2"] > 0).all()
    assert bands["area_km2"].sum() < province.area / 1e6
    pieces = C.communes_in_bands(real["communes"], bands)
    assert BORDER_COMMUNES <= set(pieces.loc[pieces["band"] == 0, "commune_name"])
    segments = C.border_segments(line)
    assert len(segments) == 10 and segments["to_km"].iloc[-1] == pytest.approx(47.96, abs=0.01)
    gates = real["gates"]
    out = C.assign_corridor(gates.geometry.x.to_numpy(), gates.geometry.y.to_numpy(), line, segments, gates,
                            province_polygon=province)
    assert out["gate"].astype(str).tolist() == gates["name"].tolist()
    assert (out["gate_distance_m"] == 0).all()
    assert (out["distance_m"] < 500).all()

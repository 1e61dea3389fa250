"""Versioned administrative units: the 2024, 2025-01 and 2025-07 sets, crosswalks, records in any set, commune
committees, and bad input (issue 10). Fixtures are the shipped files (read from the data folder)."""
from __future__ import annotations

import json
from datetime import date

import pandas as pd
import pytest
import shapely
from sqlalchemy import func, select

from geo.boundary_sets import (
    Crosswalk,
    SetVersion,
    carry_statuses,
    check_new_version,
    reallocate_counts,
    record_unit,
    set_in_force,
    validate_crosswalk,
)
from geo.errors import GeoInputError

PHUONG_1_2024 = "29866"   # 2024 code dropped on 01/01/2025 (merged with Phường 2 under 29869)
REUSED_CODE = "29869"     # Phường 2 (2024), Phường 1 (2025-01), Phường Cao Lãnh (2025-07)
TG_COMMUNE = "28249"      # Phường Đạo Thạnh, old Tiền Giang: outside the province before 01/07/2025
SPLIT_2024 = "30079"      # Gáo Giồng: split between Phong Mỹ (30088) and Phú Cường (30025)


def interior_point(geometry):
    point = geometry.representative_point()
    return point.x, point.y


def communes_of(app, key):
    from store.boundaries import communes_frame

    with app.extensions["db"].transaction() as session:
        return communes_frame(session, key)


def import_rows(app, rows):
    from store.importing import import_incidents

    frame = pd.DataFrame(rows)
    return import_incidents(app.extensions["db"], None, frame=frame, filename="t.csv", username="test")


def incident(id_, day, lon, lat, category="theft"):
    return {"id": id_, "occurred_at": day, "category": category, "severity": "less_serious",
            "case_status": "received", "lon": lon, "lat": lat}


# --- 1. boundary sets are versions ------------------------------------------------------------------------
def test_three_sets_ship_with_spans_provinces_and_levels(vclient, vlogin):
    vlogin("planner")
    sets = {s["id"]: s for s in vclient.get("/api/boundary-sets").get_json()["boundary_sets"]}
    assert list(sets) == ["2024", "2025-01", "2025-07"]
    assert (sets["2024"]["communes"], sets["2025-01"]["communes"], sets["2025-07"]["communes"]) == (143, 141, 102)
    assert sets["2024"]["effective_to"] == "2025-01-01" and sets["2025-01"]["effective_from"] == "2025-01-01"
    assert sets["2025-01"]["effective_to"] == "2025-07-01" and sets["2025-07"]["effective_to"] is None
    assert sets["2024"]["province_code"] == "87" and sets["2025-07"]["province_code"] == "82"
    assert sets["2024"]["levels"] == ["province", "district", "commune"]
    assert sets["2025-07"]["levels"] == ["province", "commune"]
    assert [sets[k]["label"] for k in sets] == ["2024", "01/2025", "07/2025"]


def test_the_january_2025_set_is_derived_from_the_2024_polygons(versioned_app):
    old, merged = communes_of(versioned_app, "2024"), communes_of(versioned_app, "2025-01")
    assert PHUONG_1_2024 not in set(merged["commune_code"]) and "29863" not in set(merged["commune_code"])
    one = merged.set_index("commune_code").loc[REUSED_CODE]
    assert one["commune_name"] == "Phường 1"
    union = shapely.union_all(old[old["commune_code"].isin([PHUONG_1_2024, REUSED_CODE])].geometry.values)
    assert one.geometry.symmetric_difference(union).area == pytest.approx(0, abs=1e-12)
    assert merged.set_index("commune_code").loc["29881", "commune_type"] == "phường"


def test_population_of_each_set_is_its_own(versioned_app):
    from store.boundaries import population_frame

    with versioned_app.extensions["db"].transaction() as session:
        census = population_frame(session, boundary_set="2024")
        merged = population_frame(session, boundary_set="2025-01")
        new = population_frame(session, boundary_set="2025-07")
    assert census.attrs["year"] == 2019 and new.attrs["year"] == 2025
    assert census["population"].sum() == merged["population"].sum() == 1_599_504
    assert new["population"].sum() == 4_370_046 and len(new) == 102
    assert "2019" in census.attrs["source"] and "2025" in new.attrs["source"]


def test_an_overlapping_set_is_refused_unless_it_replaces_one(versioned_app, data_dir, tmp_path):
    runner = versioned_app.test_cli_runner()
    path = data_dir / "boundaries" / "dong_thap_communes_2025.geojson"
    result = runner.invoke(args=["load-boundaries", str(path), "--version", "2025-mine",
                                 "--effective-date", "2025-09-01"])
    assert result.exit_code != 0 and "overlaps set '2025-07'" in result.output and "--supersedes" in result.output
    result = runner.invoke(args=["load-boundaries", str(path), "--version", "2025-07", "--effective-date", "2025-07-01"])
    assert result.exit_code != 0 and "already exists" in result.output
    with versioned_app.extensions["db"].transaction() as session:
        from store.boundaries import set_rows
        assert [r.version for r in set_rows(session)] == ["2024", "2025-01", "2025-07"]
    result = runner.invoke(args=["load-boundaries", str(path), "--version", "2025-07", "--effective-date",
                                 "2025-07-01", "--replaces", "2025-07"])
    assert result.exit_code == 0, result.output
    assert "without a district level" in result.output
    later = runner.invoke(args=["load-boundaries", str(path), "--version", "2027", "--effective-date", "2027-01-01",
                                "--supersedes", "2025-07"])
    assert later.exit_code == 0, later.output
    with versioned_app.extensions["db"].transaction() as session:
        from store.boundaries import get_boundary_set
        assert get_boundary_set(session, "2025-07").effective_to == date(2027, 1, 1)


def test_set_in_force_and_overlap_rules_pure():
    a = SetVersion("a", date(2020, 1, 1), date(2025, 1, 1))
    b = SetVersion("b", date(2025, 1, 1))
    assert set_in_force([b, a], date(2024, 12, 31)).key == "a"
    assert set_in_force([a, b], date(2025, 1, 1)).key == "b"
    with pytest.raises(GeoInputError, match="before the first boundary set"):
        set_in_force([a, b], date(2019, 12, 31))
    with pytest.raises(GeoInputError, match="supersedes='a'"):
        check_new_version([SetVersion("a", date(2020, 1, 1))], SetVersion("b", date(2025, 1, 1)))
    closed = check_new_version([SetVersion("a", date(2020, 1, 1))], SetVersion("b", date(2025, 1, 1)), supersedes="a")
    assert closed[0].effective_to == date(2025, 1, 1)
    with pytest.raises(GeoInputError, match="overlaps"):
        check_new_version([a], SetVersion("c", date(2024, 6, 1), date(2024, 9, 1)))
    assert check_new_version([a], SetVersion("c", date(2024, 6, 1), date(2025, 1, 1)), replaces="a") == []


# --- 2. records in any set; never joined by code ---------------------------------------------------------
def test_a_2024_record_in_a_commune_whose_code_is_gone_counts_under_its_2025_commune(versioned_app):
    from store.incidents import incident_frame

    old, new = communes_of(versioned_app, "2024"), communes_of(versioned_app, "2025-07")
    assert PHUONG_1_2024 not in set(new["commune_code"])
    target = new.set_index("commune_code").loc[REUSED_CODE].geometry
    piece = old.set_index("commune_code").loc[PHUONG_1_2024].geometry.intersection(target)
    lon, lat = interior_point(piece)
    report = import_rows(versioned_app, [incident("A-1", "2024-05-01", lon, lat)])
    assert report.committed, report.error_lines()
    with versioned_app.extensions["db"].transaction() as session:
        as_2024 = incident_frame(session, boundary_set="2024")
        as_2025 = incident_frame(session, boundary_set="2025-07")
        recorded = incident_frame(session, as_recorded=True)
    assert as_2024["commune_code"].tolist() == [PHUONG_1_2024]
    assert as_2025["commune_code"].tolist() == [REUSED_CODE] and as_2025["district_code"].tolist() == [""]
    assert recorded["boundary_set"].tolist() == ["2024"] and recorded["commune_code"].tolist() == [PHUONG_1_2024]


def test_a_reused_code_shows_the_name_of_the_set_shown(vclient, vlogin):
    vlogin("planner")
    names = {}
    for key in ("2024", "2025-01", "2025-07"):
        body = vclient.get(f"/api/communes?set={key}").get_json()
        assert body["boundary_set"] == key
        names[key] = {f["properties"]["commune_code"]: f["properties"]["commune_name"] for f in body["features"]}
    assert (names["2024"][REUSED_CODE], names["2025-01"][REUSED_CODE], names["2025-07"][REUSED_CODE]) == (
        "Phường 2", "Phường 1", "Phường Cao Lãnh")


def test_communes_api_by_date_with_district_fields_only_where_the_set_has_them(vclient, vlogin):
    vlogin("planner")
    early = vclient.get("/api/communes?on=2024-06-01").get_json()
    late = vclient.get("/api/communes?on=2026-01-01").get_json()
    today = vclient.get("/api/communes").get_json()
    assert len(early["features"]) == 143 and early["boundary_set"] == "2024"
    assert {"district_code", "district_name"} <= set(early["features"][0]["properties"])
    assert len(late["features"]) == 102 and today["boundary_set"] == "2025-07"
    assert "district_code" not in late["features"][0]["properties"]
    assert "former_district_code" in late["features"][0]["properties"]


def test_records_without_a_point_go_through_the_crosswalk(versioned_app):
    from store.boundaries import crosswalk_between

    with versioned_app.extensions["db"].transaction() as session:
        crosswalk = crosswalk_between(session, "2024", "2025-07")
        chained = crosswalk_between(session, "2025-01", "2025-07")
    counts = pd.Series({SPLIT_2024: 10.0, PHUONG_1_2024: 3.0, REUSED_CODE: 2.0})
    moved = reallocate_counts(counts, crosswalk)
    assert moved.sum() == pytest.approx(15.0)
    assert moved["30088"] == pytest.approx(8.945) and moved["30025"] == pytest.approx(1.055)
    assert moved[REUSED_CODE] == pytest.approx(5.0)
    unit, note = record_unit(SPLIT_2024, crosswalk)
    assert unit == "30088" and "split" in note and "largest share" in note
    assert record_unit(PHUONG_1_2024, crosswalk) == (REUSED_CODE, "")
    # The merged January 2025 ward goes on whole, like the two wards it was made of.
    assert chained.targets(REUSED_CODE)[["to_code", "weight"]].values.tolist() == [[REUSED_CODE, 1.0]]
    assert chained.links.groupby("from_code")["weight"].sum().between(0.95, 1.05).all()


def test_a_merged_commune_is_drug_free_only_if_all_its_parts_were():
    crosswalk = Crosswalk("a", "b", pd.DataFrame({"from_code": ["1", "2", "3"], "to_code": ["9", "9", "8"],
                                                  "weight": 1.0, "relation": "whole", "note": ""}))
    carried, _ = carry_statuses({"1": "drug_free", "2": "key_3", "3": "drug_free"}, crosswalk,
                                ("drug_free", "with_drugs", "key_3", "key_2", "key_1"))
    assert carried == {"9": "key_3", "8": "drug_free"}


def test_drug_status_years_across_the_reform_are_compared_on_the_new_set(versioned_app):
    from store.drug_status import record_drug_status, year_comparison
    from tests.tracker_helpers import PLANNER

    with versioned_app.extensions["db"].transaction() as session:
        for code in (PHUONG_1_2024, REUSED_CODE):  # both wards of 2024 drug-free …
            record_drug_status(session, PLANNER, commune_code=code, year=2024, indicators={"residents": 9000})
        # … the 2025 ward made of them (Phường Cao Lãnh, the same code as 2024's Phường 2) is not.
        record_drug_status(session, PLANNER, commune_code=REUSED_CODE, year=2025,
                           indicators={"residents": 30000, "addicts": 12, "offenders_arrested": 3})
        comparison = year_comparison(session, None, 2025)
    assert comparison.previous_drug_free == 1  # two 2024 wards are one commune of the 2025 set
    assert comparison.lost_drug_free == 1 and comparison.compared == 1


# --- 3. the province outline follows the date -----------------------------------------------------------
def test_a_tien_giang_point_is_outside_before_the_reform_and_inside_after(versioned_app):
    new = communes_of(versioned_app, "2025-07")
    lon, lat = interior_point(new.set_index("commune_code").loc[TG_COMMUNE].geometry)
    before = import_rows(versioned_app, [incident("TG-1", "2025-03-01", lon, lat)])
    assert not before.committed or before.errors
    message = before.error_lines()[0]
    assert "outside the province on 01/03/2025" in message and "boundary set 2025-01" in message
    after = import_rows(versioned_app, [incident("TG-2", "2025-08-01", lon, lat)])
    assert after.committed and not after.errors
    from store.incidents import incident_frame

    with versioned_app.extensions["db"].transaction() as session:
        frame = incident_frame(session, as_recorded=True)
        in_2024 = incident_frame(session, boundary_set="2024")
    assert frame["commune_code"].tolist() == [TG_COMMUNE] and frame["boundary_set"].tolist() == ["2025-07"]
    assert in_2024.empty and in_2024.attrs["outside_set"] == 1


def test_an_incident_before_the_first_set_is_refused(versioned_app):
    old = communes_of(versioned_app, "2024")
    lon, lat = interior_point(old.geometry.iloc[0])
    report = import_rows(versioned_app, [incident("OLD-1", "2019-06-01", lon, lat)])
    assert report.errors and "before the first boundary set (2024, in force from 01/01/2020)" in report.error_lines()[0]
    from store.incidents import incident_count

    with versioned_app.extensions["db"].transaction() as session:
        assert incident_count(session) == 0


def test_the_corridor_border_communes_follow_the_set(versioned_app, data_dir):
    from store.corridor import corridor_geometry

    with versioned_app.extensions["db"].transaction() as session:
        new = corridor_geometry(session, data_dir, boundary_set="2025-07")
        old = corridor_geometry(session, data_dir, boundary_set="2024")
    assert set(new.border_communes["commune_name"]) == {
        "Phường Thường Lạc", "Xã Tân Hộ Cơ", "Xã Tân Hồng", "Xã Thường Phước", "Xã Tân Thành", "Phường Hồng Ngự"}
    assert "Xã Thường Phước 1" in set(old.border_communes["commune_name"])


# --- 4./5. views choose a set and say which ---------------------------------------------------------------
def test_the_overview_defaults_to_the_set_in_force_at_the_end_of_the_year_and_offers_the_others(vclient, vlogin):
    vlogin("planner")
    late = vclient.get("/?year=2026").get_data(as_text=True)
    assert 'data-boundary-set="2025-07"' in late and "102 xã/phường; không còn cấp huyện" in late
    assert ">07/2025</option>" in late and ">01/2025</option>" in late and ">2024</option>" in late
    early = vclient.get("/?year=2024").get_data(as_text=True)
    assert 'data-boundary-set="2024"' in early and "143 xã/phường trong 12 huyện/thành phố" in early
    chosen = vclient.get("/?year=2024&set=2025-07").get_data(as_text=True)
    assert 'data-boundary-set="2025-07"' in chosen
    assert "năm 2025" in chosen  # the 2025 population of the set shown, not the 2019 census
    assert vclient.get("/?set=1999").status_code == 400
    assert vclient.get("/api/communes?set=nope").status_code == 400


def test_the_former_district_grouping_of_the_new_set(vclient, vlogin, versioned_app):
    vlogin("planner")
    new = communes_of(versioned_app, "2025-07")
    tan_hong = new[new["former_district_code"] == "869"]
    assert "29929" in set(tan_hong["commune_code"])  # Tân Hộ Cơ mostly came from Tân Hồng
    assert (new["former_district_code"] == "").sum() == 57  # the communes of old Tiền Giang
    page = vclient.get("/?year=2026&set=2025-07&district=869")
    assert page.status_code == 200 and "Huyện cũ" in page.get_data(as_text=True)


# --- 6. commune committees --------------------------------------------------------------------------------
def test_create_user_for_a_commune_checks_the_code_in_the_set_in_force(versioned_app):
    runner = versioned_app.test_cli_runner()
    ok = runner.invoke(args=["create-user", "lan", "--role", "commune", "--commune", "29926"],
                       input="mot-mat-khau-dai\n")
    assert ok.exit_code == 0 and "for commune 29926" in ok.output
    gone = runner.invoke(args=["create-user", "minh", "--role", "commune", "--commune", PHUONG_1_2024],
                         input="mot-mat-khau-dai\n")
    assert gone.exit_code != 0 and "not a commune of boundary set '2025-07'" in gone.output
    missing = runner.invoke(args=["create-user", "hoa", "--role", "commune"], input="mot-mat-khau-dai\n")
    assert missing.exit_code != 0 and "needs --commune" in missing.output


def _area_payload(commune, year=2026):
    return {"name": "Ấp 3", "kind": "commune", "commune_code": commune, "year_selected": year,
            "decision_date": f"{year}-03-01", "complexity_types": ["drugs"], "decision_number": "5/QĐ-BCĐ138"}


def test_a_commune_committee_keeps_to_its_own_commune(versioned_app, vclient, vlogin):
    from tests.tracker_helpers import PLANNER
    from store import key_areas as ka

    with versioned_app.extensions["db"].transaction() as session:
        other = ka.create_key_area(session, PLANNER, district_code="", **_area_payload("29926")).id
        # The same code in the 2024 set was another commune (Phường 2): not this committee's record.
        old = ka.create_key_area(session, PLANNER, district_code="866",
                                 **{**_area_payload(REUSED_CODE, 2024), "decision_date": "2024-03-01"}).id
    vlogin("commune_29929")
    token = vlogin.csrf_token
    mine = vclient.post("/api/key-areas", data=json.dumps(_area_payload("29929")), content_type="application/json",
                        headers={"X-CSRFToken": token})
    assert mine.status_code == 201, mine.get_json()
    assert vclient.get(f"/api/key-areas/{other}").status_code == 404
    refused = vclient.post("/api/key-areas", data=json.dumps(_area_payload("29926")),
                           content_type="application/json", headers={"X-CSRFToken": token})
    assert refused.status_code in (403, 404)
    listed = {f["id"] for f in vclient.get("/api/key-areas").get_json()["features"]}
    assert listed == {mine.get_json()["id"]}
    vlogin("commune_29869")
    assert vclient.get(f"/api/key-areas/{old}").status_code == 404
    with versioned_app.extensions["db"].transaction() as session:
        assert session.scalar(select(func.count()).select_from(ka.KeyArea)) == 3
        created = session.get(ka.KeyArea, mine.get_json()["id"])
        assert created.district_code == "" and created.boundary_set_id is not None


def test_a_district_account_keeps_its_2024_district_records(versioned_app, vclient, vlogin):
    from tests.tracker_helpers import PLANNER
    from store import key_areas as ka

    with versioned_app.extensions["db"].transaction() as session:
        old = ka.create_key_area(session, PLANNER, district_code="869",
                                 **{**_area_payload("29929", 2024), "decision_date": "2024-03-01"}).id
        new = ka.create_key_area(session, PLANNER, district_code="", **_area_payload("29929")).id
    vlogin("district_869")
    assert vclient.get(f"/api/key-areas/{old}").status_code == 200
    assert vclient.get(f"/api/key-areas/{new}").status_code == 404


# --- 7./8. demo data up to now; export in any set ----------------------------------------------------------
def test_demo_runs_to_the_pinned_end_over_both_structures(versioned_app):
    from geo.demo import last_full_month_end
    from store.incidents import incident_frame

    assert last_full_month_end(date(2026, 12, 1)) == date(2026, 11, 30)
    assert last_full_month_end(date(2026, 3, 15)) == date(2026, 2, 28)
    runner = versioned_app.test_cli_runner()
    result = runner.invoke(args=["seed-demo", "--until", "2026-02-28"])
    assert result.exit_code == 0, result.output
    with versioned_app.extensions["db"].transaction() as session:
        frame = incident_frame(session, as_recorded=True)
    occurred = pd.to_datetime(frame["occurred_at"])
    assert occurred.max() < pd.Timestamp("2026-03-01") and occurred.max() >= pd.Timestamp("2026-02-01")
    after = frame[occurred >= pd.Timestamp("2025-07-01")]
    assert set(after["boundary_set"]) == {"2025-07"}
    tien_giang = {c for c in communes_of(versioned_app, "2025-07").query("former_district_code == ''")["commune_code"]}
    assert after["commune_code"].isin(tien_giang).mean() > 0.3  # the new province's other half has its share
    assert set(frame.loc[occurred < pd.Timestamp("2025-01-01"), "boundary_set"]) == {"2024"}
    assert frame.loc[~frame["redacted"], "description"].str.startswith("Dữ liệu minh họa").all()
    again = versioned_app.test_cli_runner().invoke(args=["seed-demo", "--until", "2030-01-01"])
    assert again.exit_code != 0 and "in the future" in again.output


def test_export_writes_each_incidents_commune_in_the_set_asked(versioned_app, tmp_path):
    old, new = communes_of(versioned_app, "2024"), communes_of(versioned_app, "2025-07")
    lon, lat = interior_point(old.set_index("commune_code").loc[PHUONG_1_2024].geometry.intersection(
        new.set_index("commune_code").loc[REUSED_CODE].geometry))
    tg_lon, tg_lat = interior_point(new.set_index("commune_code").loc[TG_COMMUNE].geometry)
    assert import_rows(versioned_app, [incident("E-1", "2024-05-01", lon, lat),
                                       incident("E-2", "2026-05-01", tg_lon, tg_lat)]).committed
    runner = versioned_app.test_cli_runner()
    default = tmp_path / "default.csv"
    assert runner.invoke(args=["export-incidents", "--out", str(default)]).exit_code == 0
    rows = pd.read_csv(default, dtype=str).set_index("id")
    assert rows.loc["E-1", ["commune_code", "boundary_set"]].tolist() == [PHUONG_1_2024, "2024"]
    assert rows.loc["E-2", ["commune_code", "boundary_set"]].tolist() == [TG_COMMUNE, "2025-07"]
    in_2025 = tmp_path / "in_2025.csv"
    assert runner.invoke(args=["export-incidents", "--boundary-set", "2025-07", "--out", str(in_2025)]).exit_code == 0
    rows = pd.read_csv(in_2025, dtype=str).set_index("id")
    assert rows.loc["E-1", ["commune_code", "boundary_set"]].tolist() == [REUSED_CODE, "2025-07"]
    in_2024 = runner.invoke(args=["export-incidents", "--boundary-set", "2024", "--out", str(tmp_path / "o.csv")])
    assert in_2024.exit_code == 0 and "1 incidents lie outside boundary set 2024" in in_2024.output
    bad = runner.invoke(args=["export-incidents", "--boundary-set", "2031"])
    assert bad.exit_code != 0 and "is not loaded" in bad.output


# --- 9. bad crosswalks change nothing ---------------------------------------------------------------------
def test_bad_crosswalks_are_refused_and_change_nothing(versioned_app, tmp_path):
    from store.models import CrosswalkLink

    def count():
        with versioned_app.extensions["db"].transaction() as session:
            return session.scalar(select(func.count()).select_from(CrosswalkLink))

    before = count()
    runner = versioned_app.test_cli_runner()
    unknown = tmp_path / "unknown.csv"
    unknown.write_text("old_code,new_code,alloc_weight\n29866,99999,1\n", encoding="utf-8")
    result = runner.invoke(args=["load-crosswalk", str(unknown), "--from", "2024", "--to", "2025-07"])
    assert result.exit_code != 0 and "not in boundary set '2025-07': 99999" in result.output
    shares = tmp_path / "shares.csv"
    old = communes_of(versioned_app, "2024")
    lines = ["old_code,new_code,alloc_weight"] + [f"{c},29869,1" for c in old["commune_code"] if c != SPLIT_2024]
    lines += [f"{SPLIT_2024},30088,0.6", f"{SPLIT_2024},30025,0.2"]
    shares.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = runner.invoke(args=["load-crosswalk", str(shares), "--from", "2024", "--to", "2025-07"])
    assert result.exit_code != 0 and f"{SPLIT_2024}: 0.800" in result.output
    assert runner.invoke(args=["load-crosswalk", str(shares), "--from", "2024", "--to", "2040"]).exit_code != 0
    assert count() == before


def test_validate_crosswalk_pure():
    crosswalk = Crosswalk("a", "b", pd.DataFrame({"from_code": ["1", "1"], "to_code": ["8", "9"],
                                                  "weight": [0.5, 0.47], "relation": "split", "note": ""}))
    validate_crosswalk(crosswalk, {"1"}, {"8", "9"})  # 0.97 is within 1 ± 0.05
    with pytest.raises(GeoInputError, match="have no link: 2"):
        validate_crosswalk(crosswalk, {"1", "2"}, {"8", "9"})


def test_drug_status_and_key_area_pages_show_the_set_of_their_year(versioned_app, vclient, vlogin):
    from store.drug_status import record_drug_status
    from tests.tracker_helpers import PLANNER

    with versioned_app.extensions["db"].transaction() as session:
        record_drug_status(session, PLANNER, commune_code=REUSED_CODE, year=2024, indicators={"residents": 9000})
        record_drug_status(session, PLANNER, commune_code="29929", year=2025, indicators={"residents": 20000})
    vlogin("planner")
    page = vclient.get("/drug-status?year=2025").get_data(as_text=True)
    assert 'data-boundary-set="2025-07"' in page and "Xã Tân Hộ Cơ" in page
    old = vclient.get("/drug-status?year=2024").get_data(as_text=True)
    assert 'data-boundary-set="2024"' in old and "Phường 2" in old and "Phường Cao Lãnh" not in old
    carried = vclient.get("/drug-status?year=2024&set=2025-07")
    assert carried.status_code == 200 and 'data-boundary-set="2025-07"' in carried.get_data(as_text=True)
    areas = vclient.get("/key-areas?year=2026").get_data(as_text=True)
    assert 'data-boundary-set="2025-07"' in areas and 'name="set"' in areas
    assert vclient.get("/drug-status?set=zzz").status_code == 400


def test_downloads_and_the_ogc_api_take_the_set(vclient, vlogin):
    vlogin("planner")
    new = vclient.get("/exports/communes.geojson?set=2025-07").get_json()
    assert len(new["features"]) == 102
    first = new["features"][0]["properties"]
    assert first["boundary_set"] == "2025-07" and first["population_year"] == 2025
    old = vclient.get("/exports/communes.geojson?year=2024").get_json()
    assert len(old["features"]) == 143 and old["features"][0]["properties"]["population_year"] == 2019
    former = vclient.get("/exports/communes.geojson?set=2025-07&district=869").get_json()
    assert 0 < len(former["features"]) < 102
    page = vclient.get("/exports?year=2026").get_data(as_text=True)
    assert 'data-boundary-set="2025-07"' in page
    items = vclient.get("/ogc/collections/communes/items?set=2025-07&limit=200").get_json()
    assert items["numberMatched"] == 102
    assert vclient.get("/exports/communes.geojson?set=nope").status_code == 400


def test_the_admin_page_creates_a_commune_committee(versioned_app, vclient, vlogin):
    from tests.conftest import PASSWORD
    from web.auth import create_user

    with versioned_app.extensions["db"].transaction() as session:
        create_user(session, "root", PASSWORD, "admin", actor="test")
    vlogin("root")
    page = vclient.get("/admin/users").get_data(as_text=True)
    assert 'name="commune_code"' in page and "Xã Tân Hộ Cơ (29929)" in page
    response = vclient.post("/admin/users", data={"csrf_token": vlogin.csrf_token, "username": "xa-thuong-phuoc",
                                                  "password": "mot-mat-khau-dai", "role": "commune",
                                                  "commune_code": "29971"})
    assert response.status_code == 303
    refused = vclient.post("/admin/users", data={"csrf_token": vlogin.csrf_token, "username": "xa-cu",
                                                 "password": "mot-mat-khau-dai", "role": "commune",
                                                 "commune_code": PHUONG_1_2024})
    assert refused.status_code == 400
    from store.models import User

    with versioned_app.extensions["db"].transaction() as session:
        made = session.scalar(select(User).where(User.username == "xa-thuong-phuoc"))
        assert made.commune_code == "29971" and made.commune_set_id is not None
        assert session.scalar(select(User).where(User.username == "xa-cu")) is None


def test_hot_spots_default_to_the_set_of_the_period_and_compare_on_one_set(versioned_app, vclient, vlogin):
    new = communes_of(versioned_app, "2025-07")
    old = communes_of(versioned_app, "2024")
    lon, lat = interior_point(old.set_index("commune_code").loc[PHUONG_1_2024].geometry.intersection(
        new.set_index("commune_code").loc[REUSED_CODE].geometry))
    rows = [incident(f"H-{i}", f"2024-0{1 + i % 8}-10", lon, lat) for i in range(6)]
    rows += [incident(f"N-{i}", f"2025-0{1 + i % 8}-12", lon, lat) for i in range(4)]
    assert import_rows(versioned_app, rows).committed
    vlogin("planner")
    page = vclient.get("/hotspots?period=2024-CY&stat=gistar&units=communes&baseline=2023").get_data(as_text=True)
    assert 'data-boundary-set="2024"' in page and 'name="set"' in page
    later = vclient.get("/hotspots?period=2025-CY&stat=gistar&units=communes&baseline=2024")
    body = later.get_data(as_text=True)
    assert later.status_code == 200 and 'data-boundary-set="2025-07"' in body
    # 2025 against 2024, both counted in the 2025 set: the two 2024 wards are Phường Cao Lãnh there.
    assert "Phường Cao Lãnh" in body
    assert vclient.get("/hotspots?period=2025-CY&set=unknown").status_code == 400


def test_a_report_is_made_in_the_set_of_its_period_and_says_so(versioned_app):
    from geo.periods import parse_period
    from reports.content import build_report

    with versioned_app.extensions["db"].transaction() as session:
        old = build_report(session, None, parse_period("2024"))
        new = build_report(session, None, parse_period("2026"))
    old_notes = " ".join(p for s in old.sections for p in s.paragraphs)
    new_notes = " ".join(p for s in new.sections for p in s.paragraphs)
    assert "Ranh giới: bộ 2024 (143 xã/phường, mã tỉnh 87" in old_notes
    assert "Ranh giới: bộ 07/2025 (102 xã/phường, mã tỉnh 82" in new_notes


def test_a_commune_committee_downloads_the_report_of_its_commune(versioned_app, vclient, vlogin):
    from geo.periods import parse_period
    from reports.content import build_report

    new = communes_of(versioned_app, "2025-07").set_index("commune_code")
    mine, other = new.loc["29929"].geometry, new.loc["29926"].geometry
    rows = [incident("R-1", "2026-02-01", *interior_point(mine)), incident("R-2", "2026-02-02", *interior_point(mine)),
            incident("R-3", "2026-02-03", *interior_point(other))]
    assert import_rows(versioned_app, rows).committed
    with versioned_app.extensions["db"].transaction() as session:
        report = build_report(session, None, parse_period("2026"), commune_code="29929", boundary_set="2025-07")
    text = " ".join(p for s in report.sections for p in s.paragraphs)
    assert "xảy ra 2 vụ" in text
    vlogin("commune_29929")
    response = vclient.get("/reports/download?period=2026&format=docx")
    assert response.status_code == 200 and "_29929_" in response.headers["Content-Disposition"]


def test_the_targets_page_says_which_set_it_counts_in(vclient, vlogin):
    vlogin("planner")
    page = vclient.get("/targets?period=2024").get_data(as_text=True)
    assert "Ranh giới: bộ 2024 (143 xã/phường" in page


def test_case_pages_from_the_placed_table_equal_the_database_pages(versioned_app, monkeypatch):
    """OGC incident pages (store.incidents.case_page) cut from the placed table kept per data version are the
    pages the database answers: rows recorded in other sets placed, filters, boxes (one across the
    antimeridian), confidential cases left out for an uncleared viewer, the offset past the end."""
    from types import SimpleNamespace

    import store.incidents as store_incidents
    from store.incidents import case_page

    old, new = communes_of(versioned_app, "2024"), communes_of(versioned_app, "2025-07")
    rows = [incident(f"Q-{i}", day, *interior_point(geometry), category=category)
            for i, (day, geometry, category) in enumerate(
                [("2024-03-01", old.geometry.iloc[0], "theft"), ("2024-09-01", old.geometry.iloc[5], "drugs"),
                 ("2025-03-01", old.geometry.iloc[9], "theft"), ("2025-08-01", new.geometry.iloc[3], "fraud"),
                 ("2025-09-01", new.set_index("commune_code").loc[TG_COMMUNE].geometry, "theft"),
                 ("2025-09-02", old.geometry.iloc[2], "drugs")])]
    rows[-1]["sensitive"] = True
    assert import_rows(versioned_app, rows).committed
    uncleared, cleared = SimpleNamespace(sensitive_clearance=False), SimpleNamespace(sensitive_clearance=True)
    district = old["district_code"].iloc[0]
    cases = [{}, {"start": pd.Timestamp("2024-06-01"), "end": pd.Timestamp("2025-06-01")}, {"categories": ["theft"]},
             {"district_code": district}, {"bbox": (105.0, 10.0, 105.7, 11.0)}, {"bbox": (105.7, 9.0, -170.0, 11.5)}]
    db = versioned_app.extensions["db"]
    compared, matched = 0, {}
    for boundary_set in ("2024", "2025-07"):
        for index, chosen in enumerate(cases):
            for viewer in (uncleared, cleared):
                for limit, offset in ((100, 0), (2, 1), (3, 50)):
                    asked = dict(boundary_set=boundary_set, viewer=viewer, limit=limit, offset=offset, **chosen)
                    store_incidents.clear_placed_cache()
                    with db.transaction() as session:
                        cached, cached_matched = case_page(session, **asked)
                        assert store_incidents.placed_incidents(session, None) is not None
                    monkeypatch.setattr(store_incidents, "PLACED_CACHE_MAX_ROWS", 0)
                    store_incidents.clear_placed_cache()
                    with db.transaction() as session:
                        read, read_matched = case_page(session, **asked)
                    monkeypatch.setattr(store_incidents, "PLACED_CACHE_MAX_ROWS", 300_000)
                    assert cached_matched == read_matched, asked
                    matched[boundary_set, index, viewer.sensitive_clearance] = read_matched
                    columns = [c for c in read.columns if c != "outside"]
                    pd.testing.assert_frame_equal(cached[columns], read[columns], check_dtype=False,
                                                  check_column_type=False, check_index_type=False)
                    compared += len(read)
    store_incidents.clear_placed_cache()
    assert compared > 20
    assert matched["2025-07", 0, False] + 1 == matched["2025-07", 0, True]  # the confidential case
    assert matched["2025-07", 5, True] < matched["2025-07", 0, True]  # the box across the antimeridian cuts


def test_filters_on_the_placed_table_equal_the_database_read(versioned_app, monkeypatch):
    """Incidents recorded in three sets, read in each set with every kind of filter: the in-memory placed table
    (built once per data version) answers exactly what the per-call database read answers, outside counts too."""
    import store.incidents as store_incidents
    from store.incidents import incident_frame
    from store.meta import bump_data_version

    old, new = communes_of(versioned_app, "2024"), communes_of(versioned_app, "2025-07")
    rows = [incident(f"P-{i}", day, *interior_point(geometry), category=category)
            for i, (day, geometry, category) in enumerate(
                [("2024-03-01", old.geometry.iloc[0], "theft"), ("2024-09-01", old.geometry.iloc[5], "drugs"),
                 ("2025-03-01", old.geometry.iloc[9], "theft"), ("2025-08-01", new.geometry.iloc[3], "fraud"),
                 ("2025-09-01", new.set_index("commune_code").loc[TG_COMMUNE].geometry, "theft")])]
    assert import_rows(versioned_app, rows).committed
    district = old["district_code"].iloc[0]
    filters = [{}, {"start": pd.Timestamp("2024-06-01"), "end": pd.Timestamp("2025-06-01")},
               {"categories": ["theft"]}, {"district_code": district}, {"commune_code": old["commune_code"].iloc[5]},
               {"bbox": (105.0, 10.0, 105.7, 11.0)}, {"as_recorded": True}]
    db = versioned_app.extensions["db"]
    for boundary_set in ("2024", "2025-01", "2025-07"):
        for chosen in filters:
            with db.transaction() as session:
                cached = incident_frame(session, boundary_set=boundary_set, **chosen)
            monkeypatch.setattr(store_incidents, "PLACED_CACHE_MAX_ROWS", 0)
            store_incidents.clear_placed_cache()
            with db.transaction() as session:
                read = incident_frame(session, boundary_set=boundary_set, **chosen)
            monkeypatch.setattr(store_incidents, "PLACED_CACHE_MAX_ROWS", 300_000)
            store_incidents.clear_placed_cache()
            pd.testing.assert_frame_equal(cached, read, check_dtype=False, check_column_type=False,
                                          check_index_type=False)
            assert cached.attrs == read.attrs, (boundary_set, chosen)
    with db.transaction() as session:
        # the records of the 2025-07 set whose points lie in old Tiền Giang are outside the 2024 province
        assert incident_frame(session, boundary_set="2024").attrs["outside_set"] >= 1
    # A session that changed the data and has not committed reads the database, and fills no cache.
    with db.transaction() as session:
        bump_data_version(session, "incidents")
        assert store_incidents.placed_incidents(session, None) is None
    with db.transaction() as session:
        assert store_incidents.placed_incidents(session, None) is not None


def test_the_shipped_sets_are_reported_in_the_commands_language(db, shipped_sets):
    from store.shipped_boundaries import save_shipped_sets

    with db.transaction() as session:
        lines = save_shipped_sets(session, shipped_sets)
    vietnamese, english = [line.text("vi") for line in lines], [line.text("en") for line in lines]
    assert "bộ ranh giới 2025-07: 102 xã/phường, không có cấp huyện, tỉnh 82, từ 01/07/2025" in vietnamese
    assert "boundary set 2025-07: 102 communes, no district level, province 82, from 01/07/2025" in english
    assert any(line.startswith("bảng chuyển đổi 2024 → ") for line in vietnamese)

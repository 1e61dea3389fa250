"""geo.drug_rules: each rule of QĐ 3122/2010/QĐ-BCA and QĐ 28/2025/QĐ-TTg on its own."""
from __future__ import annotations

from datetime import date

import pytest

from geo import drug_rules as dr
from geo.drug_rules import DrugIndicators as Ind
from geo.errors import GeoInputError

BEFORE_2025 = date(2024, 12, 31)
AFTER_2025 = date(2025, 12, 31)


def test_rule_set_in_force_switches_on_24_august_2025():
    assert dr.rule_set_in_force(date(2025, 8, 23)).document_number == "3122/2010/QĐ-BCA"
    assert dr.rule_set_in_force(date(2025, 8, 24)).document_number == "28/2025/QĐ-TTg"
    assert dr.rule_set_in_force(date(2011, 1, 1)).code == "qd3122_2010"


def test_no_rule_set_before_2010_is_an_error_naming_the_date():
    with pytest.raises(GeoInputError, match="2009-01-01"):
        dr.rule_set_in_force(date(2009, 1, 1))


def test_later_version_of_same_rules_replaces_earlier():
    newer = dr.with_thresholds(dr.QD_3122_2010, dr.KEY_2, {"addicts": {"addicts": 30}}, date(2020, 1, 1))
    sets = dr.DEFAULT_RULE_SETS + (newer,)
    ind = Ind(residents=5000, addicts=35)
    assert dr.classify(ind, date(2019, 12, 31), sets).status == dr.KEY_3
    assert dr.classify(ind, date(2020, 1, 1), sets).status == dr.KEY_2


# --- drug-free / with drugs -------------------------------------------------------------------------------
def test_all_zero_is_drug_free_under_both_rule_sets():
    for on in (BEFORE_2025, AFTER_2025):
        result = dr.classify(Ind(residents=8000), on)
        assert result.status == dr.DRUG_FREE and not result.has_drugs


@pytest.mark.parametrize("field", ["addicts", "users_with_records", "offenders_arrested", "drug_use_places",
                                   "drug_plants"])
def test_any_single_person_place_or_plant_means_not_drug_free(field):
    assert not dr.is_drug_free(Ind(residents=8000, **{field: 1}))


def test_on_a_route_alone_is_not_having_drugs_in_2010():
    assert dr.classify(Ind(residents=8000, on_drug_route=True), BEFORE_2025).status == dr.DRUG_FREE


def test_one_user_is_with_drugs_but_not_key_in_2010():
    assert dr.classify(Ind(residents=8000, users_with_records=1), BEFORE_2025).status == dr.WITH_DRUGS


# --- QĐ 3122/2010: any one criterion --------------------------------------------------------------------
@pytest.mark.parametrize("values", [{"addicts": 100}, {"drug_use_places": 5}, {"drug_crop_m2": 2000}])
def test_2010_class_one_on_any_single_criterion(values):
    result = dr.classify(Ind(residents=10000, **values), BEFORE_2025)
    assert result.status == dr.KEY_1
    assert result.document_number == "3122/2010/QĐ-BCA"
    assert len(result.criteria_met) == 1


@pytest.mark.parametrize("values", [{"addicts": 99}, {"drug_use_places": 4}, {"drug_crop_m2": 1999}])
def test_2010_just_below_class_one_is_lower(values):
    assert dr.classify(Ind(residents=10000, **values), BEFORE_2025).status in (dr.KEY_2, dr.KEY_3)


def test_2010_class_two_and_three_use_configurable_thresholds():
    assert dr.classify(Ind(addicts=50), BEFORE_2025).status == dr.KEY_2
    assert dr.classify(Ind(addicts=10), BEFORE_2025).status == dr.KEY_3
    assert dr.classify(Ind(addicts=9), BEFORE_2025).status == dr.WITH_DRUGS
    assert dr.QD_3122_2010.unconfirmed_levels == [dr.KEY_2, dr.KEY_3]


# --- QĐ 28/2025: at least k of n -------------------------------------------------------------------------
def test_2025_class_one_needs_three_of_five():
    # 0.5 % of 10,000 = 50 addicts+users; 0.1 % = 10 offenders
    two = Ind(residents=10000, addicts=30, users_with_records=20, drug_use_places=2)
    three = Ind(residents=10000, addicts=30, users_with_records=20, drug_use_places=2, offenders_arrested=10)
    assert dr.classify(three, AFTER_2025).status == dr.KEY_1
    assert set(dr.classify(three, AFTER_2025).criteria_met) == {"addicts_users_share", "places", "offenders_share"}
    assert dr.classify(two, AFTER_2025).status != dr.KEY_1
    assert dr.classify(three, AFTER_2025).document_number == "28/2025/QĐ-TTg"


def test_2025_share_criteria_are_per_resident():
    many_people = Ind(residents=100_000, addicts=60, drug_use_places=2, offenders_arrested=10, on_drug_route=True)
    # 60/100,000 = 0.06 % < 0.5 %, 10/100,000 = 0.01 % < 0.1 %: only places and route hold for class I
    assert dr.classify(many_people, AFTER_2025).status != dr.KEY_1


def test_2025_crops_criterion_by_plants_or_area():
    base = dict(residents=10000, drug_use_places=2, on_drug_route=True)
    assert dr.classify(Ind(**base, drug_plants=3000), AFTER_2025).status == dr.KEY_1
    assert dr.classify(Ind(**base, drug_crop_m2=750), AFTER_2025).status == dr.KEY_1
    assert dr.classify(Ind(**base, drug_plants=2999, drug_crop_m2=749), AFTER_2025).status != dr.KEY_1


def test_2025_route_counts_as_one_criterion():
    ind = Ind(residents=10000, drug_use_places=2, offenders_arrested=10, on_drug_route=True)
    assert "route" in dr.classify(ind, AFTER_2025).criteria_met


def test_2025_class_three_needs_one_lower_band_criterion():
    assert dr.classify(Ind(residents=10000, drug_use_places=1), AFTER_2025).status == dr.KEY_3


def test_2025_without_residents_share_criteria_cannot_hold():
    ind = Ind(residents=0, addicts=500, offenders_arrested=50)
    assert dr.classify(ind, AFTER_2025).status == dr.WITH_DRUGS


# --- inputs, round trip, comparison ------------------------------------------------------------------------
def test_indicators_from_form_mapping():
    ind = Ind.from_mapping({"residents": "9000", "addicts": "3", "drug_crop_m2": "12.5", "on_drug_route": "on"})
    assert ind == Ind(residents=9000, addicts=3, drug_crop_m2=12.5, on_drug_route=True)


@pytest.mark.parametrize("values, message", [
    ({"addicts": "-1"}, "'addicts' must be a number ≥ 0, got '-1'"),
    ({"addicts": "ba"}, "'addicts'"),
    ({"addicts": "1.5"}, "whole number"),
    ({"heroin": 1}, "heroin"),
])
def test_indicators_refuse_bad_values(values, message):
    with pytest.raises(GeoInputError, match=message):
        Ind.from_mapping(values)


def test_rule_set_round_trips_through_dict():
    for rule_set in dr.DEFAULT_RULE_SETS:
        assert dr.RuleSet.from_dict(rule_set.to_dict()) == rule_set


def test_malformed_rule_set_is_refused():
    data = dr.QD_28_2025.to_dict()
    data["levels"][0]["min_met"] = 9
    with pytest.raises(GeoInputError, match="min_met"):
        dr.RuleSet.from_dict(data)


def test_compare_years_counts_kept_and_reduced():
    previous = {"a": dr.DRUG_FREE, "b": dr.DRUG_FREE, "c": dr.KEY_1, "d": dr.WITH_DRUGS}
    current = {"a": dr.DRUG_FREE, "b": dr.WITH_DRUGS, "c": dr.DRUG_FREE, "d": dr.DRUG_FREE}
    result = dr.compare_years(previous, current)
    assert result.kept_drug_free == 1 and result.became_drug_free == 2 and result.lost_drug_free == 1
    assert result.year_drug_free == 3 and result.previous_drug_free == 2
    assert result.with_drugs_change == 1 - 2
    assert result.year_key == 0 and result.previous_key == 1


def test_compare_years_refuses_unknown_status():
    with pytest.raises(GeoInputError, match="sạch"):
        dr.compare_years({"a": "sạch"}, {})

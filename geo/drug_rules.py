"""Classification of communes by drug situation, under the rule set in force on a date.

Two rule sets are known (DOMAIN.md §3):

* **QĐ 3122/2010/QĐ-BCA** (in force from 09/8/2010): a commune with drugs is *trọng điểm* loại I when any
  one criterion holds — at least 100 registered addicts, at least 5 drug-use spots, or at least 2,000 m² of
  drug crops. The loại II and III thresholds were not confirmed from a public source, so they are parameters
  (flagged ``unconfirmed``) that a planner may replace by adding a new version of the rule set.
* **QĐ 28/2025/QĐ-TTg** (in force from 24/8/2025): criteria are counted "at least *k* of *n*". Loại I needs
  at least 3 of: addicts plus users with records ≥ 0.5 % of residents; ≥ 2 places organising or harbouring
  drug use; arrested drug offenders ≥ 0.1 % of residents; ≥ 3,000 drug plants or ≥ 750 m² of drug crops;
  lying on a drug route. Loại II needs at least 3 of the same criteria in lower bands and loại III at
  least 1; those lower bands are parameters (flagged ``unconfirmed``).

A commune is *drug-free* (không có ma túy) when it has no addicts, no users with records, no drug
offenders, no drug-use places and no drug crops; otherwise it is *with drugs* (có ma túy), and a key
commune (trọng điểm) of the first level whose "at least k of n" test passes.

Everything here is pure: plain dataclasses in, plain dataclasses out, no database. The store keeps each
classification with the rule set's document number so it stays explainable after the rules change.
"""
from __future__ import annotations

from dataclasses import dataclass, field, fields, replace
from datetime import date
from typing import Iterable, Mapping

from geo.errors import GeoInputError
from translations import Message, message, translate

# Status codes, from best to worst.
DRUG_FREE = "drug_free"
WITH_DRUGS = "with_drugs"
KEY_3 = "key_3"
KEY_2 = "key_2"
KEY_1 = "key_1"
STATUSES = (DRUG_FREE, WITH_DRUGS, KEY_3, KEY_2, KEY_1)
STATUS_LABELS = {
    DRUG_FREE: ("Không có ma túy", "Drug-free"),
    WITH_DRUGS: ("Có ma túy", "With drugs"),
    KEY_3: ("Trọng điểm loại III", "Key commune, class III"),
    KEY_2: ("Trọng điểm loại II", "Key commune, class II"),
    KEY_1: ("Trọng điểm loại I", "Key commune, class I"),
}
HAS_DRUGS = frozenset({WITH_DRUGS, KEY_3, KEY_2, KEY_1})


@dataclass(frozen=True)
class DrugIndicators:
    """What a commune recorded for one period (counts of people, places, plants, square metres)."""

    residents: int = 0
    addicts: int = 0  # người nghiện có hồ sơ
    users_with_records: int = 0  # người sử dụng trái phép có hồ sơ quản lý
    drug_use_places: int = 0  # tụ điểm / điểm tổ chức, chứa chấp sử dụng
    offenders_arrested: int = 0  # đối tượng phạm tội về ma túy bị bắt
    drug_plants: int = 0  # cây có chứa chất ma túy
    drug_crop_m2: float = 0.0
    on_drug_route: bool = False  # nằm trên tuyến ma túy

    @property
    def addicts_and_users(self) -> int:
        return self.addicts + self.users_with_records

    def value(self, name: str) -> float:
        if name == "addicts_and_users":
            return float(self.addicts_and_users)
        if name not in INDICATOR_NAMES:
            raise GeoInputError(message("geo.drug_rules.indicator_one", name=name,
                                        indicator_names=', '.join(INDICATOR_NAMES + ('addicts_and_users',))))
        return float(getattr(self, name))

    @classmethod
    def from_mapping(cls, values: Mapping) -> "DrugIndicators":
        """Build from a form or JSON mapping; every count must be a whole number ≥ 0."""
        unknown = sorted(set(values) - set(INDICATOR_NAMES))
        if unknown:
            raise GeoInputError(message("geo.drug_rules.indicators_among", unknown=unknown,
                                        indicator_names=', '.join(INDICATOR_NAMES)))
        parsed = {}
        for name in INDICATOR_NAMES:
            raw = values.get(name)
            if raw is None or raw == "":
                continue
            if name == "on_drug_route":
                parsed[name] = raw in (True, 1, "1", "true", "True", "on", "yes", "có")
                continue
            try:
                number = float(raw)
            except (TypeError, ValueError):
                raise GeoInputError(message("geo.drug_rules.indicator_number_got", name=name, raw=raw)) from None
            if number < 0 or number != number:
                raise GeoInputError(message("geo.drug_rules.indicator_number_got", name=name, raw=raw))
            if name != "drug_crop_m2":
                if number != int(number):
                    raise GeoInputError(message("geo.drug_rules.indicator_whole_number_got", name=name, raw=raw))
                number = int(number)
            parsed[name] = number
        return cls(**parsed)

    def as_dict(self) -> dict:
        return {f.name: getattr(self, f.name) for f in fields(self)}


INDICATOR_NAMES = tuple(f.name for f in fields(DrugIndicators))
INDICATOR_LABELS = {
    "residents": ("Số dân", "Residents"),
    "addicts": ("Người nghiện có hồ sơ", "Registered addicts"),
    "users_with_records": ("Người sử dụng trái phép có hồ sơ", "Users with records"),
    "drug_use_places": ("Điểm, tụ điểm tổ chức/chứa chấp sử dụng", "Places organising/harbouring use"),
    "offenders_arrested": ("Đối tượng phạm tội ma túy bị bắt", "Drug offenders arrested"),
    "drug_plants": ("Cây có chứa chất ma túy (cây)", "Drug plants (count)"),
    "drug_crop_m2": ("Diện tích trồng cây có chất ma túy (m²)", "Drug crop area (m²)"),
    "on_drug_route": ("Nằm trên tuyến ma túy", "Lies on a drug route"),
}


@dataclass(frozen=True)
class Criterion:
    """One criterion: met when ANY of its indicators reaches its minimum.

    With ``per_resident`` the minimums are shares of residents (0.005 = 0.5 %); a commune with no recorded
    residents cannot meet such a criterion.
    """

    code: str
    label_vi: str
    minimums: Mapping[str, float]
    per_resident: bool = False
    label_en: str = ""  # a rule set written by an office may have only its Vietnamese label

    def label(self, lang: str = "vi") -> str:
        return self.label_en if lang == "en" and self.label_en else self.label_vi

    def is_met(self, indicators: DrugIndicators) -> bool:
        for name, minimum in self.minimums.items():
            value = indicators.value(name)
            if self.per_resident:
                if indicators.residents <= 0:
                    continue
                value = value / indicators.residents
            if value >= minimum and value > 0:
                return True
        return False


@dataclass(frozen=True)
class Level:
    """A key-commune class: at least ``min_met`` of ``criteria`` must hold."""

    status: str
    min_met: int
    criteria: tuple[Criterion, ...]
    unconfirmed: bool = False

    def met(self, indicators: DrugIndicators) -> list[str]:
        return [c.code for c in self.criteria if c.is_met(indicators)]


@dataclass(frozen=True)
class RuleSet:
    """A versioned rule set: the levels apply from ``effective_from`` until a later rule set starts."""

    code: str
    document_number: str
    title_vi: str
    effective_from: date
    levels: tuple[Level, ...]  # most severe first
    notes_vi: str = ""

    @property
    def unconfirmed_levels(self) -> list[str]:
        return [level.status for level in self.levels if level.unconfirmed]

    def to_dict(self) -> dict:
        return {
            "code": self.code, "document_number": self.document_number, "title_vi": self.title_vi,
            "effective_from": self.effective_from.isoformat(), "notes_vi": self.notes_vi,
            "levels": [{"status": lv.status, "min_met": lv.min_met, "unconfirmed": lv.unconfirmed,
                        "criteria": [{"code": c.code, "label_vi": c.label_vi, "minimums": dict(c.minimums),
                                      "per_resident": c.per_resident,
                                      **({"label_en": c.label_en} if c.label_en else {})}
                                     for c in lv.criteria]}
                       for lv in self.levels],
        }

    @classmethod
    def from_dict(cls, data: Mapping) -> "RuleSet":
        """Inverse of :meth:`to_dict`, checking every part (a stored or submitted rule set)."""
        try:
            levels = []
            for lv in data["levels"]:
                if lv["status"] not in (KEY_1, KEY_2, KEY_3):
                    raise GeoInputError(message("geo.drug_rules.level_status_one", lv=lv['status'], key_1=KEY_1,
                                                key_2=KEY_2, key_3=KEY_3))
                criteria = []
                for c in lv["criteria"]:
                    minimums = {str(k): float(v) for k, v in dict(c["minimums"]).items()}
                    for name, value in minimums.items():
                        DrugIndicators().value(name)
                        if value < 0:
                            raise GeoInputError(message("geo.drug_rules.minimum_got", name=name, value=value))
                    criteria.append(Criterion(str(c["code"]), str(c.get("label_vi", c["code"])), minimums,
                                              bool(c.get("per_resident", False)), str(c.get("label_en", ""))))
                min_met = int(lv["min_met"])
                if not 1 <= min_met <= len(criteria):
                    raise GeoInputError(message("geo.drug_rules.min_met_got", lv=lv['status'],
                                                n_criteria=len(criteria), min_met=min_met))
                levels.append(Level(lv["status"], min_met, tuple(criteria), bool(lv.get("unconfirmed", False))))
            return cls(str(data["code"]), str(data["document_number"]), str(data.get("title_vi", "")),
                       date.fromisoformat(str(data["effective_from"])), tuple(levels), str(data.get("notes_vi", "")))
        except (KeyError, TypeError, ValueError) as e:
            if isinstance(e, GeoInputError):
                raise
            raise GeoInputError(message("geo.drug_rules.rule_set_malformed", dict=dict(data).get('code'), e=e)) from None


@dataclass(frozen=True)
class Classification:
    status: str
    rule_set_code: str
    document_number: str
    criteria_met: tuple[str, ...] = field(default_factory=tuple)

    @property
    def has_drugs(self) -> bool:
        return self.status in HAS_DRUGS


def _criterion(code: str, key: str, minimums: dict, per_resident: bool = False, **params) -> Criterion:
    """A criterion of a shipped rule set, labelled from the catalogs in both languages."""
    return Criterion(code, translate(key, "vi", **params), minimums, per_resident, translate(key, "en", **params))


def _criteria_2010(addicts: float, places: float, crop_m2: float) -> tuple[Criterion, ...]:
    return (
        _criterion("addicts", "drug.criterion.addicts", {"addicts": addicts}, n=f"{addicts:g}"),
        _criterion("places", "drug.criterion.places", {"drug_use_places": places}, n=f"{places:g}"),
        _criterion("crops", "drug.criterion.crop_area", {"drug_crop_m2": crop_m2}, m2=f"{crop_m2:g}"),
    )


def _criteria_2025(share_users: float, places: float, share_offenders: float, plants: float,
                   crop_m2: float) -> tuple[Criterion, ...]:
    return (
        _criterion("addicts_users_share", "drug.criterion.users_share", {"addicts_and_users": share_users}, True,
                   pct=f"{share_users * 100:g}"),
        _criterion("places", "drug.criterion.organised_places", {"drug_use_places": places}, n=f"{places:g}"),
        _criterion("offenders_share", "drug.criterion.offenders_share", {"offenders_arrested": share_offenders},
                   True, pct=f"{share_offenders * 100:g}"),
        _criterion("crops", "drug.criterion.plants_or_area", {"drug_plants": plants, "drug_crop_m2": crop_m2},
                   n=f"{plants:g}", m2=f"{crop_m2:g}"),
        _criterion("route", "drug.criterion.route", {"on_drug_route": 1}),
    )


QD_3122_2010 = RuleSet(
    code="qd3122_2010",
    document_number="3122/2010/QĐ-BCA",
    title_vi="Phân loại xã, phường, thị trấn trọng điểm về ma túy (QĐ 3122/2010/QĐ-BCA)",
    effective_from=date(2010, 8, 9),
    levels=(
        Level(KEY_1, 1, _criteria_2010(100, 5, 2000)),
        Level(KEY_2, 1, _criteria_2010(50, 3, 1000), unconfirmed=True),
        Level(KEY_3, 1, _criteria_2010(10, 1, 1), unconfirmed=True),
    ),
    notes_vi="Ngưỡng loại II, III chưa được xác nhận từ văn bản công khai; có thể thay bằng phiên bản mới.",
)

QD_28_2025 = RuleSet(
    code="qd28_2025",
    document_number="28/2025/QĐ-TTg",
    title_vi="Tiêu chí phân loại xã có ma túy, không có ma túy (QĐ 28/2025/QĐ-TTg)",
    effective_from=date(2025, 8, 24),
    levels=(
        Level(KEY_1, 3, _criteria_2025(0.005, 2, 0.001, 3000, 750)),
        Level(KEY_2, 3, _criteria_2025(0.003, 1, 0.0005, 1000, 250), unconfirmed=True),
        Level(KEY_3, 1, _criteria_2025(0.001, 1, 0.0002, 1, 1), unconfirmed=True),
    ),
    notes_vi="Ngưỡng loại II, III (mức thấp hơn) chưa được xác nhận; có thể thay bằng phiên bản mới.",
)

DEFAULT_RULE_SETS = (QD_3122_2010, QD_28_2025)


def rule_set_in_force(on: date, rule_sets: Iterable[RuleSet] = DEFAULT_RULE_SETS) -> RuleSet:
    """The rule set with the latest ``effective_from`` not after ``on``.

    Parameters
    ----------
    on : datetime.date
        The date the classification refers to (end of the period assessed).
    rule_sets : iterable of RuleSet
        All known versions; several may share a code (a later version replaces thresholds).

    Returns
    -------
    RuleSet

    Raises
    ------
    GeoInputError
        When ``on`` is before every rule set.
    """
    if not isinstance(on, date):
        raise GeoInputError(message("geo.drug_rules.date_got", on=on))
    candidates = [r for r in rule_sets if r.effective_from <= on]
    if not candidates:
        first = min((r.effective_from for r in rule_sets), default=None)
        raise GeoInputError(message("geo.drug_rules.drug_classification_rule_set", on=on.isoformat(),
                                    first=first.isoformat() if first else 'never'))
    return max(candidates, key=lambda r: r.effective_from)


def is_drug_free(indicators: DrugIndicators) -> bool:
    """No addicts, users with records, offenders, drug-use places or drug crops."""
    return (indicators.addicts == 0 and indicators.users_with_records == 0 and indicators.offenders_arrested == 0
            and indicators.drug_use_places == 0 and indicators.drug_plants == 0 and indicators.drug_crop_m2 == 0)


def classify(indicators: DrugIndicators, on: date, rule_sets: Iterable[RuleSet] = DEFAULT_RULE_SETS) -> Classification:
    """Classify one commune's indicators under the rule set in force on ``on``.

    Parameters
    ----------
    indicators : DrugIndicators
    on : datetime.date
    rule_sets : iterable of RuleSet

    Returns
    -------
    Classification
        ``status`` is the most severe level whose "at least k of n" test passes; else ``drug_free`` when
        :func:`is_drug_free`, else ``with_drugs``. ``criteria_met`` lists the criteria of that level.

    Notes
    -----
    QĐ 3122/2010/QĐ-BCA (any one criterion per level) and QĐ 28/2025/QĐ-TTg (≥ 3 of 5 for loại I and II,
    ≥ 1 for loại III); see the module docstring for what is confirmed.
    """
    rule_set = rule_set_in_force(on, tuple(rule_sets))
    for level in rule_set.levels:
        met = level.met(indicators)
        if len(met) >= level.min_met:
            return Classification(level.status, rule_set.code, rule_set.document_number, tuple(met))
    status = DRUG_FREE if is_drug_free(indicators) else WITH_DRUGS
    return Classification(status, rule_set.code, rule_set.document_number)


def with_thresholds(rule_set: RuleSet, status: str, minimums: Mapping[str, Mapping[str, float]],
                    effective_from: date | None = None) -> RuleSet:
    """A new version of ``rule_set`` with the minimums of level ``status`` replaced by criterion code."""
    levels = []
    for level in rule_set.levels:
        if level.status == status:
            criteria = tuple(replace(c, minimums={**c.minimums, **minimums.get(c.code, {})}) for c in level.criteria)
            level = replace(level, criteria=criteria)
        levels.append(level)
    return replace(rule_set, levels=tuple(levels), effective_from=effective_from or rule_set.effective_from)


@dataclass(frozen=True)
class YearComparison:
    """Drug-free communes kept and communes with drugs reduced, this year against the previous one."""

    year_drug_free: int
    previous_drug_free: int
    kept_drug_free: int  # drug-free both years
    became_drug_free: int
    lost_drug_free: int  # drug-free last year, with drugs now
    year_with_drugs: int
    previous_with_drugs: int
    with_drugs_change: int  # negative = reduced
    year_key: int
    previous_key: int
    compared: int  # communes classified in both years


def compare_years(previous: Mapping[str, str], current: Mapping[str, str]) -> YearComparison:
    """Compare two years' statuses keyed by commune code (only communes present in both are paired).

    Parameters
    ----------
    previous, current : mapping of commune code to status code

    Returns
    -------
    YearComparison
    """
    for name, mapping in (("previous", previous), ("current", current)):
        bad = sorted({s for s in mapping.values() if s not in STATUSES})
        if bad:
            raise GeoInputError(message("geo.drug_rules.holds_statuses_allowed", name=name, bad=bad,
                                        statuses=', '.join(STATUSES)))
    both = set(previous) & set(current)
    key = {KEY_1, KEY_2, KEY_3}
    return YearComparison(
        year_drug_free=sum(s == DRUG_FREE for s in current.values()),
        previous_drug_free=sum(s == DRUG_FREE for s in previous.values()),
        kept_drug_free=sum(previous[c] == DRUG_FREE and current[c] == DRUG_FREE for c in both),
        became_drug_free=sum(previous[c] != DRUG_FREE and current[c] == DRUG_FREE for c in both),
        lost_drug_free=sum(previous[c] == DRUG_FREE and current[c] != DRUG_FREE for c in both),
        year_with_drugs=sum(s in HAS_DRUGS for s in current.values()),
        previous_with_drugs=sum(s in HAS_DRUGS for s in previous.values()),
        with_drugs_change=sum(s in HAS_DRUGS for s in current.values()) - sum(s in HAS_DRUGS for s in previous.values()),
        year_key=sum(s in key for s in current.values()),
        previous_key=sum(s in key for s in previous.values()),
        compared=len(both),
    )


#: A population change from one year's record to the next beyond this share is flagged before saving.
POPULATION_CHANGE_WARNING = 0.5


def plausibility_warnings(indicators: DrugIndicators, previous: DrugIndicators | None = None) -> list[Message]:
    """Reasons to look twice at a commune's figures before saving them, as catalog messages
    (``geo.drug_rules.warn.*``) worded in the reader's language where they are shown.

    Parameters
    ----------
    indicators : DrugIndicators
        The figures entered.
    previous : DrugIndicators, optional
        The commune's record of the year before, when there is one.

    Returns
    -------
    list of Message
        Empty when nothing looks wrong. Checked: no residents but people counted; addicts, users with
        records or arrested offenders (alone or together) above the residents; the residents changed by
        more than half since the previous year's record (:data:`POPULATION_CHANGE_WARNING`) — a typing slip
        (an extra or missing zero) more often than a real change, and the 2025 shares are computed on it.
    """
    warnings = []
    people = {"addicts": indicators.addicts, "users_with_records": indicators.users_with_records,
              "offenders_arrested": indicators.offenders_arrested}
    residents = indicators.residents
    if residents <= 0:
        if any(people.values()):
            warnings.append(message("geo.drug_rules.warn.no_residents"))
    else:
        for name, count in people.items():
            if count > residents:
                warnings.append(message(f"geo.drug_rules.warn.{name}_above_residents", count=int(count),
                                        residents=int(residents)))
        if indicators.addicts_and_users > residents and indicators.addicts <= residents \
                and indicators.users_with_records <= residents:
            warnings.append(message("geo.drug_rules.warn.addicts_and_users_above_residents",
                                    count=int(indicators.addicts_and_users), residents=int(residents)))
    if previous is not None and previous.residents > 0 and residents > 0:
        change = residents / previous.residents - 1
        if abs(change) > POPULATION_CHANGE_WARNING:
            warnings.append(message("geo.drug_rules.warn.residents_changed", percent=round(change * 100),
                                    before=int(previous.residents), after=int(residents)))
    return warnings

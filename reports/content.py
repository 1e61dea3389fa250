"""What a report says, gathered once from the store so the Word and Excel files show the same figures.

A :class:`Report` is plain data: header facts (period with its dates, district, data version, coverage),
numbered sections of paragraphs, tables and map images. ``viewer`` is always passed on, so sensitive
cases stay redacted (they are counted per commune, never located).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import numpy as np
import pandas as pd

from geo.periods import Period, describe_scheme
from geo.taxonomy import CATEGORIES, CLEARED_STATUSES, GRAVE_SEVERITIES, SOCIAL_ORDER_CATEGORIES
from geo.targets import STATUS_LABELS, format_interval, format_target, format_value

PROVINCE_NAME = "Đồng Tháp"


@dataclass
class Table:
    """A table of the report; ``sheet`` names its worksheet in the .xlsx (≤ 31 characters)."""

    title: str
    columns: list[str]
    rows: list[list]
    sheet: str
    numeric: set[int] = field(default_factory=set)  # column indexes right-aligned in Word


@dataclass
class Figure:
    title: str
    png: bytes
    caption: str = ""


@dataclass
class Section:
    heading: str
    paragraphs: list[str] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
    figures: list[Figure] = field(default_factory=list)


@dataclass
class Report:
    period: Period
    district_code: str | None
    district_name: str | None
    issuer: str
    title: str
    subtitle: str
    generated_at: datetime
    data_version: int
    coverage: tuple | None
    scheme_text: str
    demo: bool
    sections: list[Section]

    @property
    def scope(self) -> str:
        return self.district_name or f"tỉnh {PROVINCE_NAME}"

    def facts(self) -> list[tuple[str, str]]:
        """Header facts printed on both files."""
        coverage = (f"{self.coverage[0]:%d/%m/%Y} – {self.coverage[1]:%d/%m/%Y}" if self.coverage else "chưa có")
        facts = [("Kỳ báo cáo", f"{self.period.label_vi}: {self.period.dates_vi()}"),
                 ("Phạm vi", self.scope),
                 ("Mốc kỳ báo cáo", self.scheme_text),
                 ("Số liệu vụ việc", coverage),
                 ("Phiên bản dữ liệu", str(self.data_version)),
                 ("Thời điểm lập", f"{self.generated_at:%H:%M %d/%m/%Y}")]
        if self.period.due:
            facts.insert(1, ("Hạn gửi báo cáo", f"{self.period.due:%d/%m/%Y}"))
        if self.demo:
            facts.append(("Lưu ý", "Có dữ liệu minh họa — không phải số liệu thật"))
        return facts

    def all_tables(self) -> list[Table]:
        return [t for s in self.sections for t in s.tables]


def _pct(numerator, denominator) -> str:
    return f"{numerator / denominator * 100:.2f}%".replace(".", ",") if denominator else "—"


def _change(current, previous) -> str:
    if not previous:
        return "—"
    return f"{(current / previous - 1) * 100:+.1f}%".replace(".", ",").replace("-", "−")


def targets_table(measurement) -> Table:
    specs = {s.code: s for s in measurement.targets.target_set.specs}
    rows = []
    for index, result in enumerate(measurement.results, start=1):
        spec = specs[result.code]
        counts = ""
        if result.numerator is not None:
            counts = (f"{result.numerator} / {result.denominator} cùng kỳ" if result.kind == "change"
                      else f"{result.numerator}/{result.denominator}")
        comparison = ""
        if result.comparison_start:
            comparison = f"{result.comparison_start:%d/%m/%Y}–{result.comparison_end:%d/%m/%Y}"
        meets = "" if result.meets_target is None else ("Đạt" if result.meets_target else "Không đạt")
        rows.append([index, spec.label_vi, format_target(spec), format_value(result), counts, comparison,
                     format_interval(result), meets, STATUS_LABELS[result.status][0], result.note])
    return Table("Kết quả thực hiện các chỉ tiêu", ["STT", "Chỉ tiêu", "Kế hoạch", "Kết quả", "Tử số/mẫu số",
                                                     "Cùng kỳ so sánh", "Khoảng tin cậy 95%", "Theo số liệu",
                                                     "Đánh giá", "Ghi chú"], rows, "Chi tieu", {0, 3, 4})


def category_table(current: pd.DataFrame, previous: pd.DataFrame) -> Table:
    now = current["category"].value_counts()
    before = previous["category"].value_counts()
    cleared_now = current[current["case_status"].isin(CLEARED_STATUSES)]["category"].value_counts()
    rows = []
    for index, (code, category) in enumerate(CATEGORIES.items(), start=1):
        n, b, c = int(now.get(code, 0)), int(before.get(code, 0)), int(cleared_now.get(code, 0))
        if n or b:
            rows.append([index, category.label_vi, "x" if code in SOCIAL_ORDER_CATEGORIES else "", n, b,
                         _change(n, b), c, _pct(c, n)])
    total_n, total_b = len(current), len(previous)
    total_c = int(current["case_status"].isin(CLEARED_STATUSES).sum()) if len(current) else 0
    rows.append(["", "Tổng cộng", "", total_n, total_b, _change(total_n, total_b), total_c, _pct(total_c, total_n)])
    return Table("Tình hình tội phạm theo loại (vụ xảy ra trong kỳ, so với cùng kỳ)",
                 ["STT", "Loại vụ việc", "TTXH", "Kỳ này", "Cùng kỳ", "Tăng/giảm", "Khám phá", "Tỷ lệ khám phá"],
                 rows, "Theo loai", {0, 3, 4, 5, 6, 7})


def area_table(current: pd.DataFrame, previous: pd.DataFrame, units: pd.DataFrame, key: str, label: str,
               sheet: str) -> Table:
    """Counts per district (province report) or per commune (district report)."""
    now = current.groupby(key).size()
    before = previous.groupby(key).size()
    cleared = current[current["case_status"].isin(CLEARED_STATUSES)].groupby(key).size()
    grave = current[current["severity"].isin(GRAVE_SEVERITIES)].groupby(key).size()
    redacted = current[current["redacted"].astype(bool)].groupby(key).size() if "redacted" in current else {}
    rows = []
    for index, (code, name) in enumerate(units.itertuples(index=False), start=1):
        n, b, c = int(now.get(code, 0)), int(before.get(code, 0)), int(cleared.get(code, 0))
        rows.append([index, name, n, b, _change(n, b), c, _pct(c, n), int(grave.get(code, 0)),
                     int(redacted.get(code, 0)) if len(redacted) else 0])
    return Table(f"Số vụ theo {label}", ["STT", label.capitalize(), "Kỳ này", "Cùng kỳ", "Tăng/giảm", "Khám phá",
                                         "Tỷ lệ khám phá", "Rất/đặc biệt nghiêm trọng", "Vụ bảo mật"],
                 rows, sheet, {0, 2, 3, 4, 5, 6, 7, 8})


def hotspot_section(communes, current: pd.DataFrame, population: pd.DataFrame, period: Period,
                    district_code: str | None, data_version: int) -> Section:
    """Gi* on commune rates per 10,000 residents (queen contiguity, FDR), as a map and a list of hot communes."""
    from geo.gistar import gi_star
    from geo.weights import contiguity
    from reports.maps import HOT_LABELS, hotspot_map_png

    section = Section("Bản đồ điểm nóng")
    counts = current.groupby("commune_code").size()
    frame = communes[["commune_code", "commune_name", "district_code", "district_name", "geometry"]].copy()
    frame["count"] = [int(counts.get(c, 0)) for c in frame["commune_code"]]
    people = dict(zip(population["commune_code"], population["population"])) if len(population) else {}
    frame["population"] = [people.get(c) for c in frame["commune_code"]]
    usable = frame["population"].notna() & (frame["population"].astype(float) > 0)
    frame["rate"] = np.where(usable, frame["count"] / frame["population"].where(usable, 1).astype(float) * 10_000, 0.0)
    method = ("Getis-Ord Gi* trên tỷ lệ số vụ/10.000 dân theo xã, lân cận chung cạnh hoặc đỉnh (queen), có điều chỉnh "
              "FDR (như ArcGIS Hot Spot Analysis).")
    if len(frame) < 30 or frame["count"].sum() == 0:
        section.paragraphs.append("Không đủ số liệu để phân tích điểm nóng trong kỳ (cần ít nhất 30 xã và có vụ việc).")
        return section
    result = gi_star(frame["rate"].to_numpy(float), contiguity(frame.geometry, "queen"), fdr=True)
    frame["bin"] = result.bin
    frame["z"] = result.z
    note = f"{period.label_vi} ({period.dates_vi()}) · phiên bản dữ liệu {data_version} · {method}"
    png = hotspot_map_png(frame, frame["bin"], title=f"Điểm nóng tội phạm — {period.label_vi}",
                          focus_district=district_code, note=note)
    section.paragraphs.append(method + " Bản đồ vẽ từ ranh giới xã, không dùng nền bản đồ trực tuyến.")
    section.figures.append(Figure("Bản đồ điểm nóng", png, note))
    shown = frame if district_code is None else frame[frame["district_code"] == district_code]
    hot = shown[shown["bin"] != 0].sort_values(["bin", "z"], ascending=[False, False])
    rows = [[i, r.commune_name, r.district_name, r.count, f"{r.rate:.1f}".replace(".", ","),
             f"{r.z:.2f}".replace(".", ",").replace("-", "−"), HOT_LABELS[int(r.bin)]]
            for i, r in enumerate(hot.itertuples(), start=1)]
    if not rows:
        section.paragraphs.append("Không có xã nào là điểm nóng hay điểm lạnh có ý nghĩa thống kê trong kỳ.")
    section.tables.append(Table("Xã là điểm nóng/điểm lạnh có ý nghĩa thống kê",
                                ["STT", "Xã/phường/thị trấn", "Huyện/thành phố", "Số vụ", "Vụ/10.000 dân", "Gi* (z)",
                                 "Phân loại"], rows, "Diem nong", {0, 3, 4, 5}))
    return section


def key_area_section(session, viewer, communes, period: Period, district_code: str | None) -> Section:
    from reports.maps import key_area_map_png

    section = Section("Chuyển hóa địa bàn trọng điểm, phức tạp về trật tự, an toàn xã hội")
    try:
        from store.key_areas import STATUS_LABELS as AREA_LABELS
        from store.key_areas import area_features
    except ImportError:
        section.paragraphs.append("Phân hệ địa bàn trọng điểm chưa được cài đặt: chưa có số liệu.")
        return section
    import geopandas as gpd

    year = period.year or period.end.year
    features = area_features(session, viewer, year=year, district_code=district_code, communes=communes)
    labels = {code: pair[0] for code, pair in AREA_LABELS.items()}
    if features:
        areas = gpd.GeoDataFrame.from_features(features, crs="EPSG:4326")
    else:
        areas = gpd.GeoDataFrame({"status": []}, geometry=[], crs="EPSG:4326")
    png = key_area_map_png(communes, areas, title=f"Địa bàn trọng điểm lựa chọn năm {year}", status_labels=labels,
                           focus_district=district_code)
    section.figures.append(Figure("Bản đồ trạng thái địa bàn trọng điểm", png,
                                  f"Địa bàn lựa chọn năm {year}, trạng thái hiện tại"))
    rows = [[i, f["properties"]["name"], f["properties"].get("district_name", ""), f["properties"].get("kind_label", ""),
             f["properties"].get("status_label", ""), f["properties"].get("status_date") or ""]
            for i, f in enumerate(features, start=1)]
    if not rows:
        section.paragraphs.append(f"Chưa có địa bàn trọng điểm nào được lựa chọn năm {year}.")
    section.tables.append(Table(f"Địa bàn trọng điểm lựa chọn năm {year}",
                                ["STT", "Địa bàn", "Huyện/thành phố", "Loại", "Trạng thái", "Ngày cập nhật"],
                                rows, "Dia ban trong diem", {0}))
    return section


def build_report(session, viewer, period: Period, *, district_code: str | None = None, scheme=None,
                 now: datetime | None = None) -> Report:
    """Gather every figure of the report for ``period`` and the province or one district."""
    from geo.periods import DEFAULT_SCHEME
    from store.boundaries import communes_frame, population_frame
    from store.incidents import incident_frame
    from store.targets import measure

    scheme = scheme or period.scheme or DEFAULT_SCHEME
    communes = communes_frame(session)
    district_names = dict(zip(communes["district_code"], communes["district_name"]))
    measurement = measure(session, viewer, period, district_code=district_code)
    current = incident_frame(session, start=period.start_at, end=period.end_before, district_code=district_code,
                             viewer=viewer)
    comparison = period.previous_year()
    previous = incident_frame(session, start=comparison.start_at, end=comparison.end_before,
                              district_code=district_code, viewer=viewer)
    year = period.year or period.end.year
    demo = bool(current["is_demo"].astype(bool).any()) if len(current) else False
    district_name = district_names.get(district_code) if district_code else None
    issuer = (f"BAN CHỈ ĐẠO 138 {district_name.upper()}" if district_name else "BAN CHỈ ĐẠO 138 TỈNH ĐỒNG THÁP")

    sections = []
    targets = Section("Kết quả thực hiện các chỉ tiêu của kế hoạch")
    if measurement is None:
        targets.paragraphs.append("Chưa có chỉ tiêu cho năm báo cáo.")
    else:
        if measurement.targets.borrowed:
            targets.paragraphs.append(f"Chưa có chỉ tiêu năm {year}: dùng chỉ tiêu năm "
                                      f"{measurement.targets.target_set.year}.")
        targets.paragraphs.append(f"Căn cứ: {measurement.targets.target_set.plan}.")
        counts = {s: sum(r.status == s for r in measurement.results) for s in STATUS_LABELS}
        targets.paragraphs.append(
            f"Trong {len(measurement.results)} chỉ tiêu: {counts['on_track']} đạt vững chắc, {counts['at_risk']} "
            f"chưa chắc chắn, {counts['missed']} không đạt, {counts['no_data']} chưa có số liệu trong hệ thống.")
        targets.tables.append(targets_table(measurement))
    sections.append(targets)

    crime = Section("Tình hình tội phạm trong kỳ")
    crime.paragraphs.append(
        f"Trong kỳ xảy ra {len(current)} vụ ({comparison.label_vi}: {len(previous)} vụ, {_change(len(current), len(previous))}). "
        f"Cùng kỳ so sánh: {comparison.dates_vi()}.")
    crime.tables.append(category_table(current, previous))
    if district_code is None:
        units = communes[["district_code", "district_name"]].drop_duplicates().sort_values("district_code")
        crime.tables.append(area_table(current, previous, units, "district_code", "huyện/thành phố", "Theo huyen"))
    else:
        units = communes[communes["district_code"] == district_code][["commune_code", "commune_name"]]
        crime.tables.append(area_table(current, previous, units, "commune_code", "xã/phường/thị trấn", "Theo xa"))
    sections.append(crime)

    data_version = measurement.data_version if measurement else 0
    sections.append(hotspot_section(communes, incident_frame(session, start=period.start_at, end=period.end_before,
                                                            viewer=viewer),
                                    population_frame(session), period, district_code, data_version))
    sections.append(key_area_section(session, viewer, communes, period, district_code))
    method = Section("Ghi chú phương pháp")
    method.paragraphs += [
        describe_scheme(scheme, year),
        "Tỷ lệ có khoảng tin cậy 95% chính xác Clopper–Pearson; tăng/giảm so với cùng kỳ có khoảng tin cậy chính xác "
        "theo phân phối nhị thức có điều kiện của hai số đếm Poisson. “Đạt, vững chắc”: cả khoảng tin cậy đạt chỉ tiêu; "
        "“Không đạt”: cả khoảng không đạt; “Chưa chắc chắn”: số liệu chưa đủ để kết luận. Chỉ tiêu 100% và số liệu đếm "
        "toàn bộ (địa bàn, xã) đánh giá theo chính con số. Cột “Theo số liệu” so sánh trực tiếp con số với chỉ tiêu.",
        "Tỷ lệ khám phá tính trên các vụ về trật tự xã hội xảy ra trong kỳ; vụ khám phá là vụ có trạng thái khám phá, "
        "truy tố hoặc xét xử. Vụ bảo mật (mua bán người) chỉ được đếm theo xã, không thể hiện vị trí.",
    ]
    sections.append(method)
    title = "BÁO CÁO"
    subtitle = (f"Kết quả thực hiện công tác phòng, chống tội phạm, phòng, chống ma túy và mua bán người "
                f"{period.label_vi[:1].lower() + period.label_vi[1:]}")
    return Report(period=period, district_code=district_code, district_name=district_name, issuer=issuer, title=title,
                  subtitle=subtitle, generated_at=now or datetime.now(), data_version=data_version,
                  coverage=measurement.coverage if measurement else None, scheme_text=describe_scheme(scheme, year),
                  demo=demo, sections=sections)

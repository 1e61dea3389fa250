"""Page sections of the hot spot evaluations: the hot spot page, a key area's page, the corridor page."""
from __future__ import annotations

import html
import json
import re

import pytest

from tests.test_evaluation_api import _area, app, seeded_template  # noqa: F401  (fixtures)


def body_of(client, url):
    response = client.get(url)
    assert response.status_code == 200, response.status_code
    return html.unescape(response.get_data(as_text=True))


def fragment_of(client, page: str) -> str:
    """The lazily loaded sections of a page (``data-fragment-url``), as the page's script fetches them."""
    url = re.search(r'data-fragment-url="([^"]+)"', page).group(1)
    return body_of(client, url)


def test_hotspot_page_shows_without_its_evaluations(login):
    client = login("planner")
    page = body_of(client, "/hotspots?year=2024&category=fraud&district=869")
    assert 'id="accuracy-table"' not in page and "Đang tính độ chính xác" in page
    assert "/static/js/lazy_sections.js" in page and "/static/js/hotspot_forecast.js" in page
    url = re.search(r'data-fragment-url="([^"]+)"', page).group(1)
    assert url.startswith("/hotspots/evaluation?") and "category=fraud" in url and "district=869" in url
    assert client.get("/hotspots/evaluation?category=nope").status_code == 400


def test_hotspot_page_scores_last_quarter(login):
    client = login("planner")
    page = fragment_of(client, body_of(client, "/hotspots?year=2024"))
    assert "Quý trước đã đúng đến đâu?" in page
    table = page[page.index('id="accuracy-table"'):page.index("</table>", page.index('id="accuracy-table"'))]
    assert len(re.findall(r'data-method="(gistar|kde|emerging|prospective)"', table)) == 4
    api = client.get("/api/hotspot-accuracy?method=gistar").get_json()
    pai = f"{api['pai']:.2f}".replace(".", ",")
    assert f'class="num pai">{pai}<' in table
    assert "Quý III/2024" in page and "Quý IV/2024" in page
    english = fragment_of(client, body_of(client, "/hotspots?year=2024&lang=en"))
    assert "How right were last quarter's hot spots?" in english


def test_hotspot_page_near_repeats_and_forecast(login):
    client = login("guard")
    page = body_of(client, "/hotspots?year=2024")
    sections = fragment_of(client, page)
    section = sections[sections.index('id="near-repeats"'):sections.index('id="forecast"')]
    for title in ("Trộm cắp tài sản", "Cướp tài sản", "Ma túy"):
        assert f"<h3>{title}</h3>" in section
    assert section.count('class="data compact knox"') == 3
    forecast = sections[sections.index('id="forecast"'):]
    assert "DỰ BÁO" in forecast and "01/12/2024–31/12/2024" in forecast
    assert 'id="forecast-accuracy"' in forecast and "PAI" in forecast
    script_url = re.search(r'<script src="(/hotspots/map\.js\?[^"]+)"', page).group(1)
    script = client.get(script_url).get_data(as_text=True)
    assert "DỰ BÁO" not in script and json.dumps("DỰ BÁO")[1:-1] not in script  # drawn from its own request
    assert "window.bandoHotspotMap = {map: map_hotspots, layers: layer_control_" in script
    layer_url = re.search(r'id="forecast-layer" hidden data-url="([^"]+)"', page).group(1)
    layer = client.get(html.unescape(layer_url))
    assert layer.status_code == 200 and layer.mimetype == "application/geo+json"
    collection = layer.get_json()
    assert collection["properties"]["name"] == "Dự báo tháng tới"
    api = client.get("/api/forecast").get_json()
    assert len(collection["features"]) == len(api["features"]) > 0
    assert all(f["properties"]["tip"].startswith("DỰ BÁO 01/12/2024–31/12/2024 · hạng ")
               for f in collection["features"])
    ring = collection["features"][0]["geometry"]["coordinates"][0]
    assert all(round(v, 5) == v for point in ring for v in point)


def test_near_repeat_section_follows_a_chosen_category(login):
    client = login("planner")
    page = fragment_of(client, body_of(client, "/hotspots?year=2024&category=fraud"))
    section = page[page.index('id="near-repeats"'):page.index('id="forecast"')]
    assert section.count("<h3>") == 1 and "Lừa đảo chiếm đoạt tài sản" in section


def test_key_area_page_shows_displacement_and_its_date_on_the_timeline(app, login):  # noqa: F811
    area_id = _area(app)
    client = login("district_869")
    page = body_of(client, f"/key-areas/{area_id}")
    api = client.get(f"/api/key-areas/{area_id}/displacement").get_json()
    block = page[page.index('id="displacement"'):]
    for name in ("R0", "R1", "B0", "B1", "C0", "C1"):
        assert f'<td class="num">{api[name]}</td>' in block
    assert api["reading_vi"] in block
    assert "01/03/2024</strong>: Mốc so sánh dịch chuyển" in page


def test_key_area_without_decision_date_says_why(app, login):  # noqa: F811
    area_id = _area(app, decision=None)
    page = body_of(login("planner"), f"/key-areas/{area_id}")
    assert "Không tính được" in page and "chưa có ngày quyết định chuyển hóa" in page  # worded in the page's language


def test_corridor_page_ranks_every_segment_for_patrols(login):
    client = login("guard")
    shell = body_of(client, "/corridor?year=2024")
    assert 'id="patrol-table"' not in shell and "/static/js/lazy_sections.js" in shell
    page = fragment_of(client, shell)
    assert "Ưu tiên tuần tra tháng tới theo đoạn biên giới" in page
    table = page[page.index('id="patrol-table"'):page.index("</table>", page.index('id="patrol-table"'))]
    ranks = [int(r) for r in re.findall(r'<tr><td class="num">(\d+)</td>', table)]
    assert ranks and ranks == sorted(ranks) and ranks[0] == 1
    assert len(ranks) == len(re.findall(r"Đoạn \d+ \(", table))


def test_quarterly_report_carries_the_same_evaluation_figures(app, login):  # noqa: F811
    import io

    from openpyxl import load_workbook

    area_id = _area(app)
    client = login("planner")
    response = client.get("/reports/download?period=2024&format=xlsx")
    assert response.status_code == 200
    workbook = load_workbook(io.BytesIO(response.data))
    accuracy = [r for r in workbook["Do chinh xac"].iter_rows(min_row=4, values_only=True) if r[0]]
    api = client.get("/api/hotspot-accuracy?train=2024-q3&test=2024-q4&method=gistar").get_json()
    row = next(r for r in accuracy if r[0] == "Tất cả" and r[1].startswith("Điểm nóng Gi*"))
    assert row[4] == pytest.approx(api["pai"]) and (row[7], row[8]) == (api["n"], api["N"])  # numbers, not text
    assert {r[0] for r in accuracy} == {"Tất cả", "Trộm cắp tài sản", "Cướp tài sản", "Ma túy"}
    displacement = [r for r in workbook["Dich chuyen"].iter_rows(min_row=4, values_only=True) if r[0]]
    wdq = client.get(f"/api/key-areas/{area_id}/displacement").get_json()
    mine = next(r for r in displacement if r[0] == "Thị trấn Sa Rài")
    assert list(mine[2:8]) == [wdq[k] for k in ("R0", "R1", "B0", "B1", "C0", "C1")]
    response.close()

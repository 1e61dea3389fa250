"""In / Xuất bản đồ: every map page's map on an A4 landscape sheet, checked by opening the PDF pages as images."""
from __future__ import annotations

import io
import re

import numpy as np
import pandas as pd
import pypdfium2
import pytest
from PIL import Image

from reports.print_map import nice_length
from tests.conftest import drop_app_database, make_app

A4_LANDSCAPE_PT = (841.9, 595.3)
PAGES = {
    "overview": "/print/overview.{fmt}?period=2024-CY",
    "hotspots": "/hotspots/print.{fmt}?period=2024-CY&stat=gistar&units=communes",
    "corridor": "/corridor/print.{fmt}?period=2024-CY",
    "key-areas": "/key-areas/print.{fmt}",
    "drug-status": "/drug-status/print.{fmt}",
}
TITLES = {"overview": "Tổng quan tình hình tội phạm toàn tỉnh", "hotspots": "Phân tích điểm nóng",
          "corridor": "Tuyến biên giới Prey Veng", "key-areas": "Địa bàn trọng điểm",
          "drug-status": "Tình hình ma túy"}
# Around Cao Lãnh, Sa Đéc and Hồng Ngự (on the border), so every page has something of its own to draw.
PLACES = [(105.633, 10.456), (105.765, 10.295), (105.465, 10.872), (105.4600, 10.8650), (105.590, 10.640)]


def _incidents(n: int = 60) -> pd.DataFrame:
    rows = []
    for i in range(n):
        lon, lat = PLACES[i % len(PLACES)]
        rows.append({"id": f"IN-{i}", "occurred_at": f"2024-{1 + i % 12:02d}-{1 + i % 27:02d}",
                     "category": ("theft", "drugs", "smuggling", "gambling")[i % 4], "severity": "serious",
                     "case_status": "received", "lon": lon + (i % 7) * 0.002, "lat": lat + (i % 5) * 0.002})
    return pd.DataFrame(rows)


def _app_with(tmp_path, template_db, data_dir, *, demo: bool):
    from store.importing import import_incidents

    application = make_app(tmp_path, template_db, data_dir)
    report = import_incidents(application.extensions["db"], None, frame=_incidents(), filename="in.csv",
                              username="test", is_demo=demo)
    assert report.committed, report.error_lines()
    return application


@pytest.fixture
def demo_client(tmp_path, template_db, data_dir):
    application = _app_with(tmp_path, template_db, data_dir, demo=True)
    yield application.test_client()
    drop_app_database(application)


def _signed_in(client, login_as="planner"):
    from tests.conftest import SignIn

    SignIn(client)(login_as)
    return client


def _pdf_page(body: bytes):
    document = pypdfium2.PdfDocument(body)
    assert len(document) == 1
    page = document[0]
    text = page.get_textpage().get_text_range()
    image = np.asarray(page.render(scale=1).to_pil().convert("RGB")).astype(int)
    size = page.get_size()
    document.close()
    return size, text, image


def _inked(image, box) -> float:
    """Share of pixels in ``box`` (fractions left, top, right, bottom) that are not white."""
    h, w, _ = image.shape
    left, top, right, bottom = box
    part = image[int(top * h):int(bottom * h), int(left * w):int(right * w)]
    return float((part.min(axis=2) < 235).mean())


def _coloured(image, box) -> float:
    """Share of pixels in ``box`` with a clear hue (legend swatches, not black text on white)."""
    h, w, _ = image.shape
    left, top, right, bottom = box
    part = image[int(top * h):int(bottom * h), int(left * w):int(right * w)]
    return float(((part.max(axis=2) - part.min(axis=2)) > 60).mean())


MAP_AREA = (0.03, 0.14, 0.68, 0.90)
LEGEND_AREA = (0.70, 0.13, 0.99, 0.60)


@pytest.mark.parametrize("page", list(PAGES))
def test_each_map_page_prints_a_complete_a4_landscape_pdf(demo_client, page):
    client = _signed_in(demo_client, "admin")
    response = client.get(PAGES[page].format(fmt="pdf"))
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    assert response.mimetype == "application/pdf"
    assert re.fullmatch(r'attachment; filename="ban-do-[a-z-]+-\d{4}-\d{2}-\d{2}\.pdf"',
                        response.headers["Content-Disposition"])
    size, text, image = _pdf_page(response.data)
    assert size == pytest.approx(A4_LANDSCAPE_PT, abs=1)
    assert TITLES[page] in text
    for words in ("Chú giải", "Ranh giới", "Số liệu đến", "Dữ liệu minh họa", "Nguồn", "In ngày", "km", "B"):
        assert words in text, (page, words)
    assert _inked(image, MAP_AREA) > 0.03, "the map is blank"
    assert _coloured(image, LEGEND_AREA) > 0.002, "the legend has no colour swatches"


def test_png_is_the_same_sheet_as_an_image(demo_client):
    client = _signed_in(demo_client)
    response = client.get(PAGES["overview"].format(fmt="png"))
    assert response.status_code == 200 and response.mimetype == "image/png"
    image = Image.open(io.BytesIO(response.data))
    assert image.size == (1753, 1240)  # A4 landscape at 150 dpi
    pixels = np.asarray(image.convert("RGB")).astype(int)
    assert _inked(pixels, MAP_AREA) > 0.03 and _coloured(pixels, LEGEND_AREA) > 0.002


def test_the_print_shows_the_period_filters_and_the_chosen_unit(demo_client):
    client = _signed_in(demo_client)
    whole = _pdf_page(client.get("/print/overview.pdf?period=2024-CY&category=theft").data)[1]
    assert "Năm dương lịch 2024" in whole and "01/01/2024–31/12/2024" in whole
    assert "Trộm cắp tài sản" in whole and "Ranh giới 2024" in whole
    one = _pdf_page(client.get("/print/overview.pdf?period=2024-CY&district=869").data)[1]
    assert "Tân Hồng" in one
    # Zoomed to one district the scale bar is shorter than for the whole province.
    km = [int(re.search(r"\b(\d+) km\b", text).group(1)) for text in (whole, one)]
    assert km[1] < km[0]


def test_without_demo_data_the_sheet_does_not_say_illustrative(tmp_path, template_db, data_dir):
    application = _app_with(tmp_path, template_db, data_dir, demo=False)
    try:
        client = _signed_in(application.test_client())
        text = _pdf_page(client.get("/print/overview.pdf?period=2024-CY").data)[1]
        assert "Dữ liệu minh họa" not in text and "Số liệu đến 24/12/2024" in text
    finally:
        drop_app_database(application)


def test_english_sheet(demo_client):
    client = _signed_in(demo_client)
    text = _pdf_page(client.get("/print/overview.pdf?period=2024-CY&lang=en").data)[1]
    for words in ("Province crime overview", "Legend", "Data through", "Illustrative data", "Printed"):
        assert words in text


@pytest.mark.parametrize("url, status", [
    ("/print/overview.svg?period=2024-CY", 404),
    ("/hotspots/print.doc", 404),
    ("/print/overview.pdf?district=999", 400),
    ("/print/overview.pdf?period=2024-Q9", 400),
])
def test_bad_requests_are_refused(demo_client, url, status):
    client = _signed_in(demo_client)
    assert client.get(url).status_code == status


def test_printing_needs_sign_in_and_follows_page_access(demo_client):
    assert demo_client.get("/print/overview.pdf").status_code in (302, 401)
    client = _signed_in(demo_client, "district_866")
    assert client.get("/corridor/print.pdf?period=2024-CY").status_code == 403


def test_every_map_page_offers_the_print_menu(demo_client):
    client = _signed_in(demo_client, "admin")
    for page, path in (("overview", "/?period=2024-CY"), ("hotspots", "/hotspots?period=2024-CY"),
                       ("corridor", "/corridor?period=2024-CY"), ("key-areas", "/key-areas"),
                       ("drug-status", "/drug-status")):
        html = client.get(path).get_data(as_text=True)
        assert "In / Xuất bản đồ" in html, page
        assert re.search(r'href="[^"]*print[^"]*\.pdf(\?[^"]*)?"', html), page


@pytest.mark.parametrize("span, expected", [(100_000, 20_000), (9_000, 1_000), (40_000, 5_000), (12_000, 2_000)])
def test_scale_bar_length_is_a_round_fifth_of_the_width_or_less(span, expected):
    assert nice_length(span) == expected


def test_a_long_legend_prints_smaller_and_stays_above_the_footer():
    import folium

    from layers.legend import Legend
    from reports.print_map import PrintSheet, print_map

    m = folium.Map(location=[10.5, 105.6], zoom_start=9, tiles=None)
    folium.GeoJson({"type": "Feature", "properties": {}, "geometry": {
        "type": "Polygon", "coordinates": [[[105.5, 10.4], [105.7, 10.4], [105.7, 10.6], [105.5, 10.4]]]}},
        style_function=lambda _f: {"fillColor": "#b2182b", "color": "#333333", "fillOpacity": 0.8}).add_to(m)
    Legend("Nhiều lớp", [(f"#{i:02x}3366", f"Lớp số {i} có tên khá dài để xuống dòng") for i in range(40)]).add_to(m)
    body = print_map(m, PrintSheet(title="Thử chú giải dài", demo=True, sources=["Nguồn A", "Nguồn B"]), "pdf")
    document = pypdfium2.PdfDocument(body)
    page = document[0]
    text = re.sub(r"\s+", "", page.get_textpage().get_text_range())  # pdfium breaks small text into pieces
    image = np.asarray(page.render(scale=1).to_pil().convert("RGB")).astype(int)
    document.close()
    assert "Lớpsố39" in text and "NguồnB" in text and "Dữliệuminhhọa" in text
    # Nothing of the panel in the strip between the panel's bottom and the footer line.
    assert _inked(image, (PANEL_STRIP_LEFT, 0.925, 0.99, 0.945)) == 0.0


PANEL_STRIP_LEFT = 0.70

"""Phones and tablets: at 390×844 and 768×1024 no page scrolls sideways, the map and its side panel do not
overlap (they stack), and map legends start folded on a phone (issue 12, point 1)."""
from __future__ import annotations

import pytest

from tests.conftest import PASSWORD

pytestmark = pytest.mark.browser

PAGES = ["/?year=2024", "/hotspots?year=2024", "/corridor?year=2024", "/key-areas", "/drug-status", "/targets"]
SIZES = [(390, 844), (768, 1024)]

# Boxes of the map and of the panel beside it, and how wide the document is against the window.
MEASURE = """() => {
  const box = (selector) => { const e = document.querySelector(selector); if (!e) return null;
    const r = e.getBoundingClientRect(); return {x: r.left, y: r.top + window.scrollY, w: r.width, h: r.height}; };
  return {scroll: document.documentElement.scrollWidth, width: window.innerWidth,
          map: box('.map-frame'), panel: box('.map-layout > aside'),
          legendsOpen: Array.from(document.querySelectorAll('.map-legend details')).filter(d => d.open).length,
          legends: document.querySelectorAll('.map-legend details').length};
}"""


def overlap(a, b) -> bool:
    return not (a["x"] + a["w"] <= b["x"] + 1 or b["x"] + b["w"] <= a["x"] + 1
                or a["y"] + a["h"] <= b["y"] + 1 or b["y"] + b["h"] <= a["y"] + 1)


@pytest.mark.parametrize("width, height", SIZES)
def test_pages_fit_phones_and_tablets(chromium, live_server, width, height):
    context = chromium.new_context(viewport={"width": width, "height": height}, locale="vi-VN")
    page = context.new_page()
    try:
        page.goto(f"{live_server}/login")
        page.fill("input[name=username]", "planner")
        page.fill("input[name=password]", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_load_state("networkidle")
        for url in PAGES:
            page.goto(f"{live_server}{url}")
            page.wait_for_load_state("networkidle")
            page.wait_for_timeout(300)
            m = page.evaluate(MEASURE)
            assert m["scroll"] <= m["width"] + 1, f"{url} at {width}px scrolls sideways ({m['scroll']} px)"
            if m["map"] and m["panel"]:
                assert not overlap(m["map"], m["panel"]), f"{url} at {width}px: map and panel overlap {m}"
                assert m["map"]["h"] >= 280, f"{url} at {width}px: the map is only {m['map']['h']} px high"
            if width < 900 and m["legends"]:
                assert m["legendsOpen"] == 0, f"{url} at {width}px: a legend starts unfolded"
    finally:
        context.close()

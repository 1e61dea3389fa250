"""Legends tell everything (issue #12 point 6): every symbol drawn is in the legend, the Gi* overlay's
classes show while it is on, cluster bubbles are neutral greys, and one palette per meaning is shared by
the web maps and the printed reports."""
from __future__ import annotations

import colorsys
import re

import pytest

from layers import palette
from layers.base import make_map, map_document
from layers.incidents import add_incident_points, cluster_icon_script, legend_entries
from layers.legend import Legend, swatch
from tests.test_layers_incidents import incidents


def _hue_saturation(colour: str) -> tuple[float, float]:
    red, green, blue = (int(colour[i:i + 2], 16) / 255 for i in (1, 3, 5))
    hue, _lightness, saturation = colorsys.rgb_to_hls(red, green, blue)
    return hue * 360, saturation


def test_cluster_bubbles_are_neutral_never_green():
    for colour in palette.CLUSTER_BUBBLES.values():
        _hue, saturation = _hue_saturation(colour)
        assert saturation < 0.05, colour  # grey: no hue at all
    m = make_map()
    add_incident_points(m, incidents(30))
    page = map_document(m)
    assert "iconCreateFunction" in page and palette.CLUSTER_BUBBLES["large"] in page
    assert "marker-cluster-small" not in cluster_icon_script()  # not the plugin's green class


def test_point_legend_lists_each_severity_drawn_and_the_bubbles():
    m = make_map()
    frame = incidents(40)
    summary = add_incident_points(m, frame)
    assert set(summary.severities) == set(frame["severity"])
    entries = legend_entries(summary)
    dots = {(colour, label) for colour, label, shape in entries if shape == "dot"}
    assert dots == {(palette.INCIDENT_SEVERITY["less_serious"], "Ít nghiêm trọng"),
                    (palette.INCIDENT_SEVERITY["serious"], "Nghiêm trọng"),
                    (palette.INCIDENT_SEVERITY["very_serious"], "Rất nghiêm trọng")}
    assert [shape for *_rest, shape in entries].count("bubble") == 1
    assert legend_entries(summary, "en")[0][1] == "Less serious"


def test_layer_sections_follow_their_layer():
    m = make_map()
    summary = add_incident_points(m, incidents(5))
    legend = Legend("Chú giải", [("#ffffff", "Xã")])
    legend.add_layer_section(summary.layer, "Vụ việc", legend_entries(summary))
    m.add_child(legend)
    page = map_document(m)
    assert f'data-layer=\\u0022{summary.layer.get_name()}\\u0022' in page or \
        f'data-layer="{summary.layer.get_name()}"' in legend.markup
    assert 'map.on("overlayadd overlayremove", sync)' in page


def test_swatch_shapes_and_refusal():
    assert "<circle" in swatch("#123456", shape="dot") and "stroke-dasharray" in swatch("#123456", shape="dashed")
    with pytest.raises(ValueError, match="shape"):
        swatch("#123456", shape="star")
    with pytest.raises(ValueError, match="shape"):
        Legend("x", [("#000000", "y", "star")])


def test_one_palette_for_web_and_reports():
    from layers import corridor, hotspots, key_areas, drug_status, communes
    from reports import maps

    assert maps.KEY_AREA_COLOURS is palette.KEY_AREA_STATUS is key_areas.STATUS_COLORS
    assert maps.HOT_COLOURS is palette.GI_STAR_BINS is hotspots.GI_BIN_COLOURS
    assert drug_status.STATUS_COLORS is palette.DRUG_STATUS and communes.PALETTE is palette.SEQUENTIAL_COUNTS
    assert {k: v for k, v in corridor.GI_COLOURS.items() if k} == {k: v for k, v in palette.GI_STAR_BINS.items() if k}


def test_no_colour_literal_outside_the_palette_for_a_shared_meaning():
    """The status colours once differed (blue on the web, yellow in Word): no module may define its own."""
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    converting = palette.KEY_AREA_STATUS["converting"].lower()
    for folder in ("layers", "reports", "web", "store"):
        for path in (root / folder).glob("*.py"):
            if path.name == "palette.py":
                continue
            source = path.read_text(encoding="utf-8").lower()
            assert "#f2b705" not in source, path  # the report's former yellow for "converting"
            assert not re.search(r'"converting"\s*:\s*"#', source), path
            assert converting not in source, path


def test_overview_legend_names_points_and_gi_overlay(client, login, db):
    from tests.test_maps_page import script_url

    runner = client.application.test_cli_runner()
    assert runner.invoke(args=["seed-demo", "--until", "2024-03-31"]).exit_code == 0
    login("planner")
    page = client.get("/?period=2024-03").get_data(as_text=True)
    script = client.get(script_url(page)).get_data(as_text=True)
    assert "Cụm nhiều vụ gần nhau" in script and "Điểm nóng Gi* theo xã" in script
    assert "Ít nghiêm trọng" in script or "Nghiêm trọng" in script

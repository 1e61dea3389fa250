"""A map legend as a Leaflet control: title, colour classes and notes, all text escaped."""
from __future__ import annotations

import html
import json

import folium
from folium.template import Template


def js_string(value: str) -> str:
    """A JavaScript string literal safe inside a ``<script>`` element (no ``<``, ``>``, ``&`` left)."""
    return (json.dumps(value, ensure_ascii=False).replace("<", "\\u003c").replace(">", "\\u003e")
            .replace("&", "\\u0026").replace("\u2028", "\\u2028").replace("\u2029", "\\u2029"))


SHAPES = ("square", "dot", "bubble", "dashed")


def swatch(color: str, outline: str = "#555", shape: str = "square") -> str:
    """A small symbol drawn as SVG (no inline ``style``, so a strict CSP allows it), as the map draws it:
    ``square`` an area, ``dot`` an incident point, ``bubble`` a cluster of points, ``dashed`` an outline."""
    fill, line = html.escape(color), html.escape(outline)
    if shape == "dot":
        body = f'<circle cx="7" cy="7" r="5" fill="{fill}" stroke="#222" stroke-width="1"/>'
    elif shape == "bubble":
        body = (f'<circle cx="7" cy="7" r="6.5" fill="{fill}" fill-opacity="0.6"/>'
                f'<circle cx="7" cy="7" r="4.5" fill="{fill}" stroke="{line}" stroke-width="0.5"/>')
    elif shape == "dashed":
        body = (f'<rect x="1" y="1" width="12" height="12" fill="none" stroke="{fill}" stroke-width="2.5" '
                f'stroke-dasharray="4 2"/>')
    elif shape == "square":
        body = f'<rect x="0.5" y="0.5" width="13" height="13" fill="{fill}" stroke="{line}"/>'
    else:
        raise ValueError(f"shape {shape!r} is not one of: {', '.join(SHAPES)}")
    return f'<svg width="14" height="14" aria-hidden="true" class="legend-{shape}">{body}</svg>'


def _entries(entries) -> list[tuple[str, str, str]]:
    out = []
    for entry in entries:
        color, label, *rest = entry
        shape = rest[0] if rest else "square"
        if shape not in SHAPES:
            raise ValueError(f"shape {shape!r} is not one of: {', '.join(SHAPES)}")
        out.append((str(color), str(label), shape))
    return out


class Legend(folium.MacroElement):
    """Legend box with a title, ``(colour, label)`` rows and free-text notes.

    Parameters
    ----------
    title : str
        Plain text (escaped here).
    entries : list of (str, str) or (str, str, str)
        ``(css colour, label[, shape])``; labels are plain text; shape one of :data:`SHAPES` (default square).
    notes : list of str
        Plain-text lines under the classes (data year, "illustrative data", caps).
    position : str
        Leaflet control corner.

    Sections for layers that can be switched on and off are added with :meth:`add_layer_section`: they show
    only while their layer is on the map (Leaflet ``overlayadd``/``overlayremove``), so the legend lists
    exactly what is drawn.
    """

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        (function () {
            var legend = L.control({position: {{ this.position|tojson }}});
            legend.onAdd = function () {
                var div = L.DomUtil.create("div", "map-legend");
                div.style.background = "rgba(255,255,255,0.92)";
                div.style.padding = "6px 8px";
                div.style.border = "1px solid #999";
                div.style.borderRadius = "4px";
                div.style.lineHeight = "1.35";
                div.style.maxWidth = "min(260px, 70vw)";
                div.innerHTML = {{ this.markup_js }};
                if (window.matchMedia && window.matchMedia("(max-width: 900px)").matches) {
                    var box = div.querySelector("details");
                    if (box) { box.open = false; }
                }
                L.DomEvent.disableClickPropagation(div);
                return div;
            };
            var map = {{ this._parent.get_name() }};
            legend.addTo(map);
            var sync = function () {
                var sections = legend.getContainer().querySelectorAll("[data-layer]");
                for (var i = 0; i < sections.length; i++) {
                    var layer = window[sections[i].getAttribute("data-layer")];
                    sections[i].hidden = !(layer && map.hasLayer(layer));
                }
            };
            map.on("overlayadd overlayremove", sync);
            setTimeout(sync, 0);  // after the map's layers (declared later in this script) exist
        })();
        {% endmacro %}
        """
    )

    def __init__(self, title: str, entries, notes=(), position: str = "topright"):
        super().__init__()
        if position not in ("topleft", "topright", "bottomleft", "bottomright"):
            raise ValueError(f"position {position!r} is not one of: topleft, topright, bottomleft, bottomright")
        self._name = "Legend"
        self.title = str(title)
        self.entries = _entries(entries)
        self.notes = [str(n) for n in notes if n]
        self.position = position
        self.sections: list[tuple[str, str, list]] = []

    def add_layer_section(self, layer, title: str, entries) -> None:
        """Entries shown only while ``layer`` (a folium layer of the same map) is on the map."""
        self.sections.append((layer.get_name(), str(title), _entries(entries)))

    @property
    def markup_js(self) -> str:
        return js_string(self.markup)

    @property
    def markup(self) -> str:
        """The legend's HTML (built when rendered, so notes added after construction show)."""
        rows = "".join(f'<div class="map-legend-row">{swatch(color, shape=shape)} {html.escape(label)}</div>'
                       for color, label, shape in self.entries)
        rows += "".join(
            f'<div class="map-legend-section" data-layer="{html.escape(name)}">'
            f'<div class="map-legend-subtitle"><strong>{html.escape(title)}</strong></div>'
            + "".join(f'<div class="map-legend-row">{swatch(color, shape=shape)} {html.escape(label)}</div>'
                      for color, label, shape in entries) + '</div>'
            for name, title, entries in self.sections)
        notes = "".join(f'<div class="map-legend-note"><small>{html.escape(note)}</small></div>'
                        for note in self.notes)
        # A <details> box, so on a phone the legend folds to its title (closed by the script below 900 px).
        return (f'<details class="map-legend-details" open><summary class="map-legend-title">'
                f'<strong>{html.escape(self.title)}</strong></summary>{rows}{notes}</details>')

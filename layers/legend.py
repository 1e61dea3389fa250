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


def swatch(color: str, outline: str = "#555") -> str:
    """A small colour square drawn as SVG (no inline ``style``, so a strict CSP allows it)."""
    return (f'<svg width="14" height="14" aria-hidden="true"><rect x="0.5" y="0.5" width="13" height="13" '
            f'fill="{html.escape(color)}" stroke="{html.escape(outline)}"/></svg>')


class Legend(folium.MacroElement):
    """Legend box with a title, ``(colour, label)`` rows and free-text notes.

    Parameters
    ----------
    title : str
        Plain text (escaped here).
    entries : list of (str, str)
        ``(css colour, label)``; labels are plain text.
    notes : list of str
        Plain-text lines under the classes (data year, "illustrative data", caps).
    position : str
        Leaflet control corner.
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
                div.style.maxWidth = "260px";
                div.innerHTML = {{ this.markup_js }};
                L.DomEvent.disableClickPropagation(div);
                return div;
            };
            legend.addTo({{ this._parent.get_name() }});
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
        self.entries = [(str(c), str(label)) for c, label in entries]
        self.notes = [str(n) for n in notes if n]
        self.position = position

    @property
    def markup_js(self) -> str:
        return js_string(self.markup)

    @property
    def markup(self) -> str:
        """The legend's HTML (built when rendered, so notes added after construction show)."""
        rows = "".join(f'<div class="map-legend-row">{swatch(color)} {html.escape(label)}</div>'
                       for color, label in self.entries)
        notes = "".join(f'<div class="map-legend-note"><small>{html.escape(note)}</small></div>'
                        for note in self.notes)
        return f'<div class="map-legend-title"><strong>{html.escape(self.title)}</strong></div>{rows}{notes}'

"""Commune search on a map: type a name with or without diacritics, the map zooms to the commune and offers
its profile page.

Names are folded for matching as Unicode canonical decomposition without combining marks (NFD, then drop
category Mn; UAX #15), with "đ" → "d", which is how a Vietnamese name typed without its tones and hooks
("Tan Ho Co") matches the written one ("Tân Hộ Cơ"). The folded names are computed here, so the browser only
folds what the user types (``String.prototype.normalize("NFD")`` does the same decomposition).
"""
from __future__ import annotations

import json
import unicodedata

import folium
from folium.template import Template

from layers.base import per_frame, raw_text
from layers.legend import js_string
from layers.text import choose
from translations import CatalogTable

#: Decimal places of the bounding boxes sent (about 1 m), enough to zoom to a commune.
BOUNDS_DECIMALS = 5
MAX_RESULTS = 8
SEARCH_WORDS = CatalogTable("layers.search")


def fold(name: str) -> str:
    """``"Phường Cao Lãnh"`` → ``"phuong cao lanh"``: lower case, no diacritics, đ → d, single spaces."""
    decomposed = unicodedata.normalize("NFD", str(name).replace("đ", "d").replace("Đ", "D"))
    bare = "".join(ch for ch in decomposed if unicodedata.category(ch) != "Mn")
    return " ".join(bare.casefold().split())


def search_entries(communes, *, district_column: str | None = None) -> list[list]:
    """``[name, folded name, code, [south, west, north, east], district name]`` per commune, sorted by name."""
    column = district_column or next((c for c in ("district_name", "former_district_name") if c in communes), None)
    out = []
    for index, (code, name, geometry) in enumerate(zip(communes["commune_code"], communes["commune_name"],
                                                        communes.geometry)):
        west, south, east, north = geometry.bounds
        district = str(communes[column].iloc[index]) if column else ""
        out.append([str(name), fold(name), str(code),
                    [round(south, BOUNDS_DECIMALS), round(west, BOUNDS_DECIMALS), round(north, BOUNDS_DECIMALS),
                     round(east, BOUNDS_DECIMALS)], district if district not in ("nan", "None") else ""])
    return sorted(out, key=lambda entry: entry[1])


def _script_json(value) -> str:
    return (json.dumps(value, ensure_ascii=False).replace("<", "\\u003c").replace(">", "\\u003e")
            .replace("&", "\\u0026").replace("\u2028", "\\u2028").replace("\u2029", "\\u2029"))


class CommuneSearch(folium.MacroElement):
    """A Leaflet control with a search box over the map's communes.

    Parameters
    ----------
    communes : GeoDataFrame
        commune_code, commune_name, geometry (EPSG:4326), optionally district_name/former_district_name.
    profile_url : str
        URL with ``{code}`` where the commune's code goes (e.g. ``/communes/{code}?set=2025-07``); empty: no
        profile link.
    lang : {"vi", "en"}
    """

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        (function () {
            var map = {{ this._parent.get_name() }};
            var entries = {{ this.entries_js }}, words = {{ this.words_js }}, profile = {{ this.profile_js }};
            var fold = function (s) {
                return s.replace(/đ/g, "d").replace(/Đ/g, "D").normalize("NFD").replace(/[\\u0300-\\u036f]/g, "")
                    .toLowerCase().replace(/\\s+/g, " ").trim();
            };
            var esc = function (s) {
                return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
            };
            var control = L.control({position: "topleft"});
            control.onAdd = function () {
                var box = L.DomUtil.create("div", "commune-search leaflet-bar");
                box.innerHTML = '<input type="search" class="commune-search-input" autocomplete="off" placeholder="'
                    + esc(words.placeholder) + '" aria-label="' + esc(words.placeholder) + '">'
                    + '<ul class="commune-search-results" role="listbox" hidden></ul>';
                L.DomEvent.disableClickPropagation(box);
                L.DomEvent.disableScrollPropagation(box);
                var input = box.querySelector("input"), list = box.querySelector("ul");
                var go = function (entry) {
                    var b = entry[3];
                    map.fitBounds([[b[0], b[1]], [b[2], b[3]]], {maxZoom: 14});
                    var html = "<strong>" + esc(entry[0]) + "</strong>" + (entry[4] ? "<br>" + esc(entry[4]) : "");
                    if (profile) {
                        html += '<br><a class="commune-profile-link" href="' + esc(profile.replace("{code}",
                            encodeURIComponent(entry[2]))) + '">' + esc(words.profile) + "</a>";
                    }
                    L.popup().setLatLng([(b[0] + b[2]) / 2, (b[1] + b[3]) / 2]).setContent(html).openOn(map);
                    list.hidden = true;
                    input.value = entry[0];
                };
                var show = function () {
                    var query = fold(input.value);
                    list.innerHTML = "";
                    if (!query) { list.hidden = true; return; }
                    var found = entries.filter(function (e) { return e[1].indexOf(query) !== -1; }).slice(0, {{ this.max_results }});
                    if (!found.length) {
                        list.innerHTML = '<li class="commune-search-none">' + esc(words.none) + "</li>";
                    }
                    found.forEach(function (entry) {
                        var item = L.DomUtil.create("li", "commune-search-result", list);
                        item.setAttribute("role", "option");
                        item.setAttribute("tabindex", "0");
                        item.setAttribute("data-code", entry[2]);
                        item.innerHTML = esc(entry[0]) + (entry[4] ? ' <small>' + esc(entry[4]) + "</small>" : "");
                        item.addEventListener("click", function () { go(entry); });
                        item.addEventListener("keydown", function (ev) { if (ev.key === "Enter") { go(entry); } });
                    });
                    list.hidden = false;
                };
                input.addEventListener("input", show);
                input.addEventListener("keydown", function (ev) {
                    if (ev.key === "Enter") {
                        var first = list.querySelector(".commune-search-result");
                        if (first) { first.click(); }
                        ev.preventDefault();
                    } else if (ev.key === "Escape") { list.hidden = true; }
                });
                return box;
            };
            control.addTo(map);
        })();
        {% endmacro %}
        """
    )

    def __init__(self, communes, *, profile_url: str = "", lang: str = "vi"):
        super().__init__()
        if profile_url and "{code}" not in profile_url:
            raise ValueError(f"profile_url must contain {{code}}; got {profile_url!r}")
        self._name = "CommuneSearch"
        self.entries = per_frame(communes, "search-entries", lambda: search_entries(communes))
        self._entries_text = per_frame(communes, "search-entries-js", lambda: _script_json(self.entries))
        self.profile_url = profile_url
        self.max_results = MAX_RESULTS
        self.words = {key: choose(SEARCH_WORDS[key], lang) for key in ("placeholder", "none", "profile")}

    @property
    def entries_js(self) -> str:
        return f'"{raw_text(self, self._entries_text)}"'

    @property
    def words_js(self) -> str:
        return _script_json(self.words)

    @property
    def profile_js(self) -> str:
        return js_string(self.profile_url)


def add_commune_search(m, communes, *, profile_url: str = "", lang: str = "vi") -> CommuneSearch:
    """Add the search control of ``communes`` to ``m``; returns it."""
    control = CommuneSearch(communes, profile_url=profile_url, lang=lang)
    m.add_child(control)
    return control

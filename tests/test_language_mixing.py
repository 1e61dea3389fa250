"""Every page, rendered in Vietnamese and in English, speaks one language: an English page holds no Vietnamese
interface word and a Vietnamese page no English one. Data values (commune and district names, the demo data's
names and notes: anything stored in the database) are set aside; map scripts (popups, tooltips, legends) count.
"""
from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
from babel.messages.pofile import read_po
from sqlalchemy import JSON, String, Text, select

from translations import LANGUAGES, po_path

#: GET pages without parameters that are not HTML pages for a person to read.
SKIPPED_PREFIXES = ("/api", "/ogc", "/static", "/vendor", "/logout", "/healthz", "/metrics")
VIETNAMESE_LETTERS = re.compile(
    r"[àáảãạăằắẳẵặâầấẩẫậèéẻẽẹêềếểễệìíỉĩịòóỏõọôồốổỗộơờớởỡợùúủũụưừứửữựỳýỷỹỵđ]", re.IGNORECASE)
WORD = re.compile(r"[^\W\d_]+(?:[-'][^\W\d_]+)*", re.UNICODE)
PLACEHOLDER = re.compile(r"\{[^}]*\}")
#: Names and terms both interfaces write the same way (methods, formats, standards, units).
SHARED_TERMS = {
    "gi", "getis-ord", "lisa", "moran", "moran's", "mann-kendall", "kde", "knox", "csv", "xlsx", "docx", "pdf",
    "kml", "kmz", "gpx", "geojson", "geopackage", "gpkg", "shapefile", "api", "ogc", "openapi", "json", "utc",
    "wgs", "epsg", "utm", "id", "url", "http", "https", "km", "openstreetmap", "leaflet", "osm", "z", "p", "n",
    "bcđ", "prey", "veng", "qgis", "gdal", "ok", "email", "admin", "excel", "word", "html", "wkt", "crs",
    "poisson", "clopper-pearson", "bonferroni", "fdr", "benjamini-hochberg", "queen", "rook", "k-nn", "pai", "pei",
    "rri", "h", "m", "vs", "iso", "x", "y", "lat", "lon", "qr", "cc", "by", "sa", "odbl", "demo",
    "lđcđts", "tcts", "vn-2000",
}
#: Common English words that a Vietnamese page should not hold, beyond those of the English catalog.
ENGLISH_WORDS = {
    "the", "and", "from", "outside", "province", "future", "date", "permutations", "seed", "bandwidth", "error",
    "status", "filters", "applied", "not", "with", "for", "all", "none", "must", "between", "invalid", "missing",
    "unknown", "required", "should", "cannot", "value", "values", "file", "column", "row", "rows", "year", "month",
    "period", "target", "targets", "pending", "achieved", "total", "count", "rate", "days", "distance", "hot",
    "cold", "spot", "spots", "significant", "confidence", "of", "is", "in", "at", "to", "on", "or", "no", "yes",
}


class VisibleText(HTMLParser):
    """The text a reader sees: text nodes outside ``<script>``/``<style>``, and titles, placeholders, labels."""

    VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}

    def __init__(self, lang: str):
        super().__init__(convert_charrefs=True)
        self.lang = lang
        self.parts: list[str] = []
        self.scripts: list[str] = []
        self._hidden = 0
        self._open: list[tuple[str, bool]] = []  # (tag, hides): an element marked lang="other" hides its text

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag in ("script", "style", "pre", "code", "kbd", "samp", "textarea"):
            # Code listings, command lines and form contents are not interface words.
            self._hidden += 1
            if tag == "script" and attributes.get("src"):
                self.scripts.append(attributes["src"])
        if tag not in self.VOID:
            # The other language's name on the language switch is marked lang="vi"/"en" (WCAG 3.1.2).
            foreign = attributes.get("lang") not in (None, self.lang) and tag != "html"
            self._open.append((tag, foreign))
            self._hidden += foreign
            if foreign:
                return
        for name, value in attrs:
            if name in ("title", "placeholder", "aria-label", "alt") and value:
                self.parts.append(value)
            if name == "value" and value and tag == "input" and attributes.get("type") in ("submit", "button"):
                self.parts.append(value)

    def handle_endtag(self, tag):
        if tag in ("script", "style", "pre", "code", "kbd", "samp", "textarea") and self._hidden:
            self._hidden -= 1
        for depth in range(len(self._open) - 1, -1, -1):
            if self._open[depth][0] == tag:
                self._hidden -= sum(hides for _, hides in self._open[depth:])
                del self._open[depth:]
                break

    def handle_data(self, data):
        if not self._hidden:
            self.parts.append(data)


#: Double-quoted strings only: folium writes its data (GeoJSON, legends, layer names) as JSON, and single
#: quotes in script code would pair across code.
JS_STRING = re.compile(r'"((?:[^"\\]|\\.)*)"')
TAG = re.compile(r"<[^>]+>")


def script_text(source: str) -> str:
    """The strings of a map script (popups, tooltips, legends), HTML tags removed."""
    texts = []
    for match in JS_STRING.finditer(source):
        raw = match.group(1)
        try:
            raw = raw.encode("latin-1", "backslashreplace").decode("unicode_escape")
        except UnicodeDecodeError:
            pass
        # Human text has spaces or markup; single tokens are keys, codes, colours and GeoJSON types, and a
        # "string" holding braces or semicolons is script between two strings' quotes.
        if (" " in raw or "<" in raw) and not raw.lstrip().startswith(("http", "/", "function", "#", "{")) \
                and not any(mark in raw for mark in ("{", "}", ";", "=>", "===", "' +", "+ '", "esc(")):
            # A fragment of markup cut at a quote inside a tag: drop the partial tags at its ends.
            texts.append(TAG.sub(" ", re.sub(r"^[^<]*>|<[^>]*$", " ", raw)))
    return " ".join(texts)


def catalog_words(lang: str) -> set[str]:
    with po_path(lang).open("rb") as handle:
        messages = [m.string for m in read_po(handle, locale=lang) if m.id and m.string]
    return {w.lower() for text in messages for w in WORD.findall(PLACEHOLDER.sub(" ", TAG.sub(" ", text)))}


def data_words(app) -> set[str]:
    """Every word stored in a text column of the database, or naming a feature of a shipped boundary file
    (the border line): data values, in whichever language."""
    import json
    from pathlib import Path

    from store.models import Base

    words: set[str] = set()
    for path in sorted(Path(app.config["DATA_DIR"]).glob("boundaries/*border*.geojson")):
        for feature in json.loads(path.read_text(encoding="utf-8")).get("features", []):
            words.update(w.lower() for w in WORD.findall(str(feature.get("properties", {}).get("name", ""))))
    with app.extensions["db"].transaction() as session:
        for table in Base.metadata.sorted_tables:
            columns = [c for c in table.columns if isinstance(c.type, (String, Text, JSON))]
            if not columns:
                continue
            for row in session.execute(select(*columns)):
                for value in row:
                    if value:
                        words.update(w.lower() for w in WORD.findall(str(value)))
    return words


#: Paths, addresses, document numbers and codes (``/api/forecast``, ``126/QĐ-BCĐ138``) are names, not words.
NOT_WORDS = re.compile(r"\S*/\S*|\S+://\S+|\S*_\S*|\S+:\S+|“[^”\s]*”|'[^'\s]*'")  # codes, quoted values


def offending_words(text: str, lang: str, vietnamese: set[str], english: set[str], data: set[str]) -> set[str]:
    found = set()
    cleaned = NOT_WORDS.sub(" ", text)
    for match in WORD.finditer(cleaned):
        word = match.group(0)
        if cleaned.startswith("…", match.end()):
            continue  # a value cut short for display ("Prâ…"): part of a data value
        lowered = word.lower()
        if lowered in data or lowered in SHARED_TERMS or len(lowered) < 2:
            continue
        if lang == "en" and VIETNAMESE_LETTERS.search(lowered):
            found.add(word)
        elif lang == "vi" and not VIETNAMESE_LETTERS.search(lowered) and lowered in english \
                and lowered not in vietnamese:
            found.add(word)
    return found


#: Views reached through their forms, beyond each page's default (each statistic of the hot spot page).
EXTRA_VIEWS = ["/hotspots?stat=lisa", "/hotspots?stat=kde", "/hotspots?stat=emerging",
               "/hotspots?stat=gistar&units=communes",
               # Refused filters: the error page words the refusal in the page's language.
               "/hotspots?district=xyz", "/?measure=xyz", "/?category=xyz"]


def page_urls(app) -> list[str]:
    urls = []
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or rule.arguments or rule.rule.startswith(SKIPPED_PREFIXES):
            continue
        urls.append(rule.rule)
    return sorted(set(urls))


@pytest.fixture(scope="module")
def demo_app(tmp_path_factory, versioned_template_db, data_dir):
    from tests.conftest import drop_app_database, make_app

    application = make_app(tmp_path_factory.mktemp("mixing"), versioned_template_db, data_dir)
    result = application.test_cli_runner().invoke(args=["seed-demo", "--until", "2026-11-30"])
    assert result.exit_code == 0, result.output
    from tests.conftest import PASSWORD
    from web.auth import create_user

    with application.extensions["db"].transaction() as session:
        create_user(session, "admin", PASSWORD, "admin", None, actor="test-setup")
    yield application
    drop_app_database(application)


@pytest.fixture(scope="module")
def vocabularies():
    vietnamese, english = catalog_words("vi"), catalog_words("en")
    return vietnamese, (english - vietnamese) | ENGLISH_WORDS


def rendered_texts(client, url: str, lang: str):
    """The visible text of a page in ``lang`` and of each map script it loads (same origin, not vendor)."""
    response = client.get(url + ("&" if "?" in url else "?") + f"lang={lang}", follow_redirects=True)
    if response.status_code not in (200, 400, 422) or not response.mimetype == "text/html":
        return []
    parser = VisibleText(lang)
    parser.feed(response.get_data(as_text=True))
    texts = [(url, " ".join(parser.parts))]
    for source in parser.scripts:
        if source.startswith(("/vendor", "/static", "http")):
            continue
        script = client.get(source)
        if script.status_code == 200:
            texts.append((source, script_text(script.get_data(as_text=True))))
    return texts


@pytest.mark.parametrize("lang", LANGUAGES)
def test_pages_speak_one_language(demo_app, vocabularies, lang):
    from tests.conftest import SignIn

    vietnamese, english = vocabularies
    client = demo_app.test_client()
    SignIn(client)("admin")
    rendered = [found for url in page_urls(demo_app) + EXTRA_VIEWS for found in rendered_texts(client, url, lang)]
    data = data_words(demo_app)  # after rendering: the corridor page stores the shipped gates on first view
    offenders = {}
    for where, text in rendered:
        words = offending_words(text, lang, vietnamese, english, data)
        if words:
            offenders[where] = [in_context(text, word) for word in sorted(words)]
    assert not offenders, "\n".join(f"{where}:\n    " + "\n    ".join(found)
                                     for where, found in sorted(offenders.items()))


def in_context(text: str, word: str, width: int = 50) -> str:
    """The word with some text either side, so a report says which string to fix."""
    at = re.search(rf"(?<!\w){re.escape(word)}(?!\w)", text)
    start = at.start() if at else 0
    return f"{word}: …{' '.join(text[max(0, start - width): start + len(word) + width].split())}…"

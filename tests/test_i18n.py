"""The interface text catalogs: every message the code uses has a wording in Vietnamese and English,
placeholders agree, numbers and dates follow Babel's vi_VN / en formats, and the migration script is idempotent."""
from __future__ import annotations

import ast
import datetime as dt
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

import translations
from translations import LANGUAGES, format_date, format_number, has_message, message, po_path, translate

ROOT = Path(__file__).resolve().parent.parent
CODE_DIRS = ("web", "layers", "cli", "reports", "store", "geo")
#: Functions whose first argument is a message id.
TRANSLATING_CALLS = {"t", "translate", "_", "gettext", "lazy_gettext", "message", "Message"}
#: ``t('key')`` or ``t('key', name=...)``; ``t('prefix.' ~ code)`` builds its id at run time and is not matched.
TEMPLATE_CALL = re.compile(r"""\bt\(\s*(['"])([^'"]+)\1\s*[,)]""")
PLACEHOLDER = re.compile(r"(?<!\{)\{([A-Za-z_][A-Za-z0-9_]*)(?:[!:][^}]*)?\}")


def catalog(lang):
    with po_path(lang).open("rb") as handle:
        return {m.id: m.string for m in read_po(handle, locale=lang) if m.id}


def keys_used_in_code():
    used = {}
    for folder in CODE_DIRS:
        for path in sorted((ROOT / folder).rglob("*.py")):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            for node in ast.walk(tree):
                if not (isinstance(node, ast.Call) and node.args):
                    continue
                name = node.func.id if isinstance(node.func, ast.Name) else getattr(node.func, "attr", None)
                first = node.args[0]
                if name in TRANSLATING_CALLS and isinstance(first, ast.Constant) and isinstance(first.value, str):
                    used.setdefault(first.value, f"{path.relative_to(ROOT)}:{node.lineno}")
    for path in sorted((ROOT / "templates").rglob("*.html")):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            for match in TEMPLATE_CALL.finditer(line):
                used.setdefault(match.group(2), f"{path.relative_to(ROOT)}:{number}")
    return used


def test_every_message_used_has_a_wording_in_both_catalogs():
    catalogs = {lang: catalog(lang) for lang in LANGUAGES}
    missing = [f"{where}: {key!r} has no {lang} wording" for key, where in sorted(keys_used_in_code().items())
               for lang in LANGUAGES if not catalogs[lang].get(key)]
    assert not missing, "\n".join(missing)


def test_both_catalogs_hold_the_same_keys_with_the_same_placeholders():
    vi, en = catalog("vi"), catalog("en")
    assert sorted(set(vi) ^ set(en)) == []
    differing = [key for key in vi if set(PLACEHOLDER.findall(vi[key])) != set(PLACEHOLDER.findall(en[key]))]
    assert differing == []
    assert [key for key in vi if not vi[key] or not en[key]] == []


def test_no_add_messages_dictionary_is_left_in_the_code():
    """Strings registered the old way belong in the catalogs: run scripts/i18n_dicts_to_po.py."""
    result = subprocess.run([sys.executable, str(ROOT / "scripts" / "i18n_dicts_to_po.py"), "--check"],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_translate_picks_the_language_and_fills_placeholders():
    assert translate("periods.data_through", "vi", date="01/12/2026") == "Số liệu đến 01/12/2026"
    assert translate("periods.data_through", "en", date="01/12/2026") == "Data to 01/12/2026"
    assert translate("no.such.key", "en") == "no.such.key"
    with pytest.raises(ValueError, match="lang 'fr' is not one of: vi, en"):
        translate("periods.period", "fr")


@pytest.mark.parametrize(("lang", "value", "decimals", "expected"), [
    ("vi", 1234.5, 1, "1.234,5"), ("en", 1234.5, 1, "1,234.5"),
    ("vi", 1234567, 0, "1.234.567"), ("en", 0.25, 2, "0.25"), ("vi", float("nan"), 1, "–"), ("en", None, 0, "–"),
])
def test_numbers_follow_babel_locale_formats(lang, value, decimals, expected):
    assert format_number(value, lang, decimals) == expected


@pytest.mark.parametrize("lang", ["vi", "en"])
@pytest.mark.parametrize("decimals", [0, 1, 2, 3])
def test_many_numbers_at_once_read_as_babel_writes_each(lang, decimals):
    """format_numbers (map popups) gives format_number's text: halves to even as Babel rounds them (2.675,
    0.125), negative zero, grouping, missing values, numpy scalars."""
    import numpy as np

    from translations import format_numbers

    rng = np.random.default_rng(5)
    values = ([0.125, 2.675, -0.001, -0.0, 0.0, 1_000_000.5, 2.5, -2.5, 0.0005, 0.0015, 999.995, 123456789.125,
               float("nan"), float("inf"), None, np.float64(1.25), np.int64(12_345_678)]
              + list(rng.normal(0, 3, 2000)) + list(np.round(rng.normal(0, 5, 1000), 3))
              + list(rng.integers(-10**7, 10**7, 300)))
    expected = [format_number(v.item() if hasattr(v, "item") else v, lang, decimals) for v in values]
    assert format_numbers(values, lang, decimals) == expected
    assert format_numbers(np.array([1234.5]), lang, 1) == [format_number(1234.5, lang, 1)]


#: The spatial core's refusals: raised with a ``translations.Message``, never with a bare string.
DOMAIN_ERRORS = {"GeoInputError", "ColumnError", "DegreesNotMetresError", "PeriodNotCovered"}


def _bare_domain_errors(source: str, where: str, names=DOMAIN_ERRORS) -> list[str]:
    """``where:line`` of every domain error built from a string, an f-string or a string variable."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Call):
            continue
        name = node.func.id if isinstance(node.func, ast.Name) else getattr(node.func, "attr", None)
        if name not in names:
            continue
        arguments = node.args[1:] if name == "ColumnError" else node.args[:1]
        text = arguments[0] if arguments else None
        is_message = (isinstance(text, ast.Call) and getattr(text.func, "id", getattr(text.func, "attr", None))
                      in ("message", "Message"))
        if not is_message:
            found.append(f"{where}:{node.lineno}: {ast.unparse(node)[:90]}")
    return found


def test_the_spatial_core_raises_its_errors_with_catalog_messages():
    """geo/ words no refusal itself: each carries a key and its parameters, worded per reader."""
    bare = [line for path in sorted((ROOT / "geo").rglob("*.py"))
            for line in _bare_domain_errors(path.read_text(encoding="utf-8"), str(path.relative_to(ROOT)))]
    assert bare == [], "\n".join(bare)


#: The refusals the tracker's pages and API bodies word for their reader (``web.i18n.error_text``).
TRACKER_REFUSALS = DOMAIN_ERRORS | {"UnknownBoundarySet", "TrackerError", "InvalidTransition", "ConflictError",
                                    "PermissionDenied", "NotFound", "BackupError"}


def test_the_tracker_raises_its_refusals_with_catalog_messages():
    """store/ and web/ word no refusal a page or an API body shows: a Vietnamese page read English ones."""
    bare = [line for folder in ("store", "web") for path in sorted((ROOT / folder).rglob("*.py"))
            for line in _bare_domain_errors(path.read_text(encoding="utf-8"), str(path.relative_to(ROOT)),
                                            TRACKER_REFUSALS)]
    assert bare == [], "\n".join(bare)


def test_the_tracker_check_catches_a_bare_refusal_in_store():
    assert _bare_domain_errors('raise UnknownBoundarySet(f"set {key!r} is not loaded")', "store/x.py",
                               TRACKER_REFUSALS)
    assert not _bare_domain_errors('raise UnknownBoundarySet(message("store.x", key=key))', "store/x.py",
                                   TRACKER_REFUSALS)


@pytest.mark.parametrize("source", [
    'raise GeoInputError("no boundary set")',
    'raise GeoInputError(f"cell_size {size} is too small")',
    'raise ColumnError(name, f"{name!r} is missing")',
    'raise GeoInputError(text)',
])
def test_the_bare_string_check_catches_each_form(source):
    assert _bare_domain_errors(source, "x.py")
    assert not _bare_domain_errors('raise GeoInputError(message("geo.x", size=1))', "x.py")


def test_a_domain_error_is_worded_in_each_language_with_its_numbers():
    from geo.errors import GeoInputError
    from geo.rates import crude_rate

    with pytest.raises(GeoInputError) as refused:
        crude_rate([1, -2.5], [10, 20])
    assert str(refused.value) == "counts must be non-negative, got -2.5"  # logs and tracebacks: English
    assert refused.value.text("en") == "counts must be non-negative, got -2.5"
    assert refused.value.text("vi") == "số đếm phải không âm, nhận được -2,5"
    assert refused.value.message.key == "geo.rates.counts_non_negative_got"


def test_message_numbers_follow_the_language():
    from translations import LocaleFormatter

    line = "{n:,} {x:.1f} {y:n} {i:n} {d:%d/%m/%Y} {s:n}"
    values = dict(n=12345, x=181.66, y=0.05, i=2024, d=dt.date(2026, 7, 1), s="Xã A")
    assert LocaleFormatter("vi").format(line, **values) == "12.345 181,7 0,05 2024 01/07/2026 Xã A"
    assert LocaleFormatter("en").format(line, **values) == "12,345 181.7 0.05 2024 01/07/2026 Xã A"


def test_dates_are_day_month_year():
    assert format_date(dt.date(2026, 3, 4), "vi") == "04/03/2026"
    assert format_date(dt.datetime(2026, 12, 1, 23, 59), "en") == "01/12/2026"
    assert format_date(None, "vi") == "–"


def test_a_stale_compiled_catalog_is_rebuilt_from_its_po(tmp_path):
    root = tmp_path / "translations"
    shutil.copytree(translations.CATALOG_DIR, root, ignore=shutil.ignore_patterns("*.py", "__pycache__", "*.mo"))
    translations.ensure_compiled(root)
    for lang in LANGUAGES:
        assert po_path(lang, root).with_suffix(".mo").read_bytes() == translations.compile_catalog(lang, root)


MODULE_WITH_DICTIONARY = '''"""A module written before the catalogs."""
from web.i18n import add_messages, t

add_messages({
    "demo.hello": ("Xin chào {name}", "Hello {name}"),
    "periods.period": ("Kỳ báo cáo", "Reporting period"),
})


def hello(name):
    return t("demo.hello", name=name)
'''


def test_migration_moves_dictionaries_into_the_catalogs_once(tmp_path):
    shutil.copytree(translations.CATALOG_DIR, tmp_path / "translations",
                    ignore=shutil.ignore_patterns("*.py", "__pycache__", "*.mo"))
    (tmp_path / "web").mkdir()
    module = tmp_path / "web" / "greeting.py"
    module.write_text(MODULE_WITH_DICTIONARY, encoding="utf-8")
    script = [sys.executable, str(ROOT / "scripts" / "i18n_dicts_to_po.py"), "--root", str(tmp_path)]

    assert subprocess.run(script + ["--check"], capture_output=True).returncode == 1
    first = subprocess.run(script, capture_output=True, text=True, check=True)
    assert "2 message(s) moved" in first.stdout
    assert "'periods.period' (vi) replaces the catalog's wording 'Kỳ' with 'Kỳ báo cáo'" in first.stdout
    source = module.read_text(encoding="utf-8")
    assert source == ('"""A module written before the catalogs."""\nfrom web.i18n import t\n\n\n'
                      'def hello(name):\n    return t("demo.hello", name=name)\n')
    ast.parse(source)
    vi, en = (read_po(po_path(lang, tmp_path / "translations").read_bytes().splitlines(True)) for lang in LANGUAGES)
    assert (vi["demo.hello"].string, en["demo.hello"].string) == ("Xin chào {name}", "Hello {name}")
    assert vi["periods.period"].string == "Kỳ báo cáo"

    snapshot = {path: path.read_bytes() for path in tmp_path.rglob("*") if path.is_file()}
    second = subprocess.run(script, capture_output=True, text=True, check=True)
    assert "0 message(s) moved" in second.stdout
    assert {path: path.read_bytes() for path in tmp_path.rglob("*") if path.is_file()} == snapshot


LAYER_WITH_TABLE = '''"""A layer module written before the catalogs."""
from __future__ import annotations

from layers.text import choose

_WORDS = {
    "name": ("Dự báo tháng tới", "Next month's forecast"),
    "tip": ("hạng {rank}", "rank {rank}"),
}


def word(key, lang):
    return choose(_WORDS[key], lang)
'''


def test_migration_turns_a_layer_word_table_into_a_catalog_table(tmp_path):
    shutil.copytree(translations.CATALOG_DIR, tmp_path / "translations",
                    ignore=shutil.ignore_patterns("*.py", "__pycache__", "*.mo"))
    (tmp_path / "layers").mkdir()
    module = tmp_path / "layers" / "forecast.py"
    module.write_text(LAYER_WITH_TABLE, encoding="utf-8")
    script = [sys.executable, str(ROOT / "scripts" / "i18n_dicts_to_po.py"), "--root", str(tmp_path)]
    assert "2 message(s) moved" in subprocess.run(script, capture_output=True, text=True, check=True).stdout
    source = module.read_text(encoding="utf-8")
    assert '_WORDS = CatalogTable("layers.forecast")' in source and "from translations import CatalogTable" in source
    assert "Dự báo" not in source
    ast.parse(source)
    vi = read_po(po_path("vi", tmp_path / "translations").read_bytes().splitlines(True))
    assert vi["layers.forecast.tip"].string == "hạng {rank}"
    assert "0 message(s) moved" in subprocess.run(script, capture_output=True, text=True, check=True).stdout


def test_a_catalog_table_reads_back_the_pairs_the_literal_table_held():
    from layers.hotspots import WORDS, word

    assert WORDS["count"] == ("Số vụ", "Incidents")
    assert word("only_significant", "en") == "{drawn} of {total} units drawn (significant only)"
    assert "count" in WORDS and "no_such_word" not in WORDS
    with pytest.raises(KeyError):
        WORDS["no_such_word"]


#: What a command prints or refuses with: its first argument must come from the catalogs (cli.say).
CLI_OUTPUT_CALLS = {"echo", "secho", "ClickException", "BadParameter", "UsageError", "GeoInputError"}


def _worded_in_code(node: ast.AST) -> bool:
    """Text written in the code itself: an f-string or a non-blank string, outside any call (say(key) is fine)."""
    if isinstance(node, ast.Call):
        return False
    if isinstance(node, ast.JoinedStr) or (isinstance(node, ast.Constant) and isinstance(node.value, str)
                                           and node.value.strip()):
        return True
    return any(_worded_in_code(child) for child in ast.iter_child_nodes(node))


def _literal_cli_output(source: str, where: str) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(source)):
        if not (isinstance(node, ast.Call) and node.args):
            continue
        name = node.func.id if isinstance(node.func, ast.Name) else getattr(node.func, "attr", None)
        if name in CLI_OUTPUT_CALLS and _worded_in_code(node.args[0]):
            found.append(f"{where}:{node.lineno}: {ast.unparse(node)[:90]}")
    return found


def test_command_messages_come_from_the_catalogs():
    literal = [line for path in sorted((ROOT / "cli").glob("*.py"))
               for line in _literal_cli_output(path.read_text(encoding="utf-8"), str(path.relative_to(ROOT)))]
    # The one exception: refusing an unknown CLI_LANGUAGE, said before any language is known.
    assert [line for line in literal if "CLI_LANGUAGE" not in line] == []
    assert _literal_cli_output('click.echo(f"{n} rows written")', "x.py")
    assert not _literal_cli_output('click.echo(say("cli.data.incidents_written", n_frame=n, out=out))', "x.py")


def test_a_boundary_shift_is_worded_in_the_commands_language():
    from geo.boundary_intake import OutlineShift

    shift = OutlineShift(27301.2, -12.4, message("geo.boundary_intake.basis_communes", count=4))
    assert shift.describe().text("vi") == "27,3 km về phía đông (dx +27301 m, dy -12 m, theo 4 xã/phường trùng mã)"
    assert shift.describe().text("en") == "27.3 km to the east (dx +27301 m, dy -12 m, from 4 matching communes)"
    assert "tây bắc" in OutlineShift(-500.0, 500.0, message("geo.boundary_intake.basis_outlines")).describe().text("vi")


def test_every_import_stage_has_a_wording_in_both_languages():
    """The import command prints the stage store.importing reports: a stage without a wording would show its code."""
    source = (ROOT / "store" / "importing.py").read_text(encoding="utf-8")
    stages = {node.args[0].value for node in ast.walk(ast.parse(source))
              if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "progress"
              and node.args and isinstance(node.args[0], ast.Constant)}
    assert stages >= {"read", "validate", "write"}
    for stage in stages:
        assert has_message(f"cli.data.stage.{stage}", "vi") and has_message(f"cli.data.stage.{stage}", "en")
    assert translate("cli.data.stage.validate", "vi") == "kiểm tra"


def test_period_labels_name_months_and_quarters_in_each_language():
    from geo.periods import parse_period

    march, second = parse_period("2024-03"), parse_period("2024-q2")
    assert (march.label_vi, march.label_en) == ("Tháng 3/2024", "March 2024")
    assert (second.label_vi, second.label_en) == ("Quý II/2024", "Q2 2024")
    cut = parse_period("2024").cut_at(dt.date(2024, 5, 3))
    assert (cut.label_vi, cut.label_en) == ("Năm 2024 (số liệu đến 03/05/2024)", "Year 2024 (data to 03/05/2024)")
    assert parse_period("2024").dates("en") == "01/12/2023 to 30/11/2024"

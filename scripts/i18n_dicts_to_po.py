#!/usr/bin/env python3
"""Move ``add_messages({key: (vi, en)})`` dictionaries from the code into the gettext catalogs.

    .venv/bin/python scripts/i18n_dicts_to_po.py [--check] [--root DIR]

Every module-level ``add_messages({...})`` call whose dictionary is literal (string keys, ``(vi, en)`` string
pairs) is written into ``translations/vi|en/LC_MESSAGES/messages.po`` and deleted from its module; an
``add_messages`` import left unused is dropped. The code's wording wins over a catalog entry of the same key
(the code is what a merged branch just changed), and the script says so. Re-running it changes nothing
(idempotent): the lead re-runs it after merging a branch that still used ``add_messages``.

The word tables of the map layers (:data:`WORD_TABLES`, e.g. ``WORDS = {"legend": ("Chú giải", "Legend")}``
in ``layers/hotspots.py``) move the same way, under a prefix (``layers.hotspots.legend``), and the assignment
becomes ``WORDS = CatalogTable("layers.hotspots")`` (``translations.CatalogTable`` reads them back as pairs),
so the modules' ``word(key, lang)`` helpers need no change.

A call it cannot read (a dictionary built at run time) is reported and left alone; ``--check`` only reports
and exits 1 when anything is left to move, which is what ``tests/test_i18n.py`` relies on.
"""
from __future__ import annotations

import argparse
import ast
import sys
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po, write_po

LANGUAGES = ("vi", "en")
DOMAIN = "messages"
SKIPPED_DIRS = {".venv", "node_modules", ".git", "tests", "bench", "build", "dist", "__pycache__", "instance"}
PROJECT = "Bản đồ 138"
#: Module-level ``{key: (vi, en)}`` tables of modules without Flask: path → (variable, message id prefix).
WORD_TABLES = {
    "layers/text.py": ("MESSAGES", "layers.text"),
    "layers/hotspots.py": ("WORDS", "layers.hotspots"),
    "layers/key_areas.py": ("WORDS", "layers.key_areas"),
    "layers/drug_status.py": ("WORDS", "layers.drug_status"),
    "layers/forecast.py": ("_WORDS", "layers.forecast"),
    "layers/corridor.py": ("_TEXT", "layers.corridor"),
}
HEADER_COMMENT = ("# Interface text of Bản đồ 138, one catalog per language (vi, en); the message id is a key.\n"
                  "# How to add a string: see the docstring of web/i18n.py.")


def po_path(root: Path, lang: str) -> Path:
    return root / "translations" / lang / "LC_MESSAGES" / f"{DOMAIN}.po"


def python_files(root: Path):
    for path in sorted(root.rglob("*.py")):
        relative = path.relative_to(root)
        if any(part in SKIPPED_DIRS or part.endswith(".egg-info") for part in relative.parts[:-1]):
            continue
        if relative.parts[0] == "scripts" and path.name == Path(__file__).name:
            continue
        yield path


def _is_add_messages(node: ast.AST) -> bool:
    if not (isinstance(node, ast.Expr) and isinstance(node.value, ast.Call)):
        return False
    func = node.value.func
    return (isinstance(func, ast.Name) and func.id == "add_messages") or (
        isinstance(func, ast.Attribute) and func.attr == "add_messages")


def _literal_pairs(call: ast.Call) -> dict[str, tuple[str, str]] | None:
    """The ``{key: (vi, en)}`` of a call, or ``None`` when it is not all literal strings."""
    if len(call.args) != 1 or call.keywords or not isinstance(call.args[0], ast.Dict):
        return None
    try:
        value = ast.literal_eval(call.args[0])
    except ValueError:
        return None
    pairs = {}
    for key, pair in value.items():
        if not (isinstance(key, str) and isinstance(pair, tuple) and len(pair) == 2
                and all(isinstance(text, str) for text in pair)):
            return None
        pairs[key] = pair
    return pairs


def _drop_unused_import(source: str) -> str:
    """Remove ``add_messages`` from ``from web.i18n import ...`` when the module no longer calls it."""
    tree = ast.parse(source)
    used = any(isinstance(node, ast.Name) and node.id == "add_messages" for node in ast.walk(tree))
    if used:
        return source
    lines = source.splitlines(keepends=True)
    for node in tree.body:
        if not (isinstance(node, ast.ImportFrom) and any(a.name == "add_messages" for a in node.names)):
            continue
        kept = [a for a in node.names if a.name != "add_messages"]
        indent = lines[node.lineno - 1][: len(lines[node.lineno - 1]) - len(lines[node.lineno - 1].lstrip())]
        if kept:
            names = ", ".join(a.name if a.asname is None else f"{a.name} as {a.asname}" for a in kept)
            replacement = [f"{indent}from {'.' * node.level}{node.module or ''} import {names}\n"]
        else:
            replacement = []
        lines[node.lineno - 1: node.end_lineno] = replacement
        return "".join(lines)
    return source


def _collapse_blank_lines(lines: list[str], cut: int) -> None:
    """At most two blank lines where a call was cut out (PEP 8's spacing between top-level blocks)."""
    before = 0
    while cut - before - 1 >= 0 and not lines[cut - before - 1].strip():
        before += 1
    after = 0
    while cut + after < len(lines) and not lines[cut + after].strip():
        after += 1
    excess = before + after - 2
    if excess > 0:
        del lines[cut: cut + min(excess, after)]


def _pairs_of(node: ast.AST) -> dict[str, tuple[str, str]] | None:
    try:
        value = ast.literal_eval(node)
    except ValueError:
        return None
    if not isinstance(value, dict) or not all(
            isinstance(k, str) and isinstance(v, tuple) and len(v) == 2 and all(isinstance(x, str) for x in v)
            for k, v in value.items()):
        return None
    return value


def _move_word_table(source: str, name: str, prefix: str):
    """``source`` with the literal table ``name`` replaced by a ``CatalogTable``, and its prefixed pairs."""
    tree = ast.parse(source)
    for node in tree.body:
        targets = node.targets if isinstance(node, ast.Assign) else [node.target] if isinstance(
            node, ast.AnnAssign) and node.value is not None else []
        if not any(isinstance(t, ast.Name) and t.id == name for t in targets):
            continue
        pairs = _pairs_of(node.value)
        if pairs is None:
            return source, {}, [node.lineno] if isinstance(node.value, ast.Dict) else []
        lines = source.splitlines(keepends=True)
        lines[node.lineno - 1: node.end_lineno] = [f'{name} = CatalogTable("{prefix}")\n']
        new_source = "".join(lines)
        if "CatalogTable" not in {a.name for n in tree.body if isinstance(n, ast.ImportFrom)
                                  and n.module == "translations" for a in n.names}:
            new_source = _add_import(new_source, "from translations import CatalogTable\n")
        return new_source, {f"{prefix}.{key}": pair for key, pair in pairs.items()}, []
    return source, {}, []


def _add_import(source: str, statement: str) -> str:
    """Insert an import after the module's last top-level import."""
    tree = ast.parse(source)
    last = max((n.end_lineno for n in tree.body if isinstance(n, (ast.Import, ast.ImportFrom))), default=0)
    lines = source.splitlines(keepends=True)
    lines.insert(last, statement)
    return "".join(lines)


def extract(path: Path, relative: str = "") -> tuple[str, dict[str, tuple[str, str]], list[int]]:
    """The module's source without its literal ``add_messages`` calls (and word table), the pairs they held,
    and the lines of calls or tables it could not read."""
    source = path.read_text(encoding="utf-8")
    found: dict[str, tuple[str, str]] = {}
    unreadable: list[int] = []
    if relative in WORD_TABLES:
        source, found, unreadable = _move_word_table(source, *WORD_TABLES[relative])
    if "add_messages" not in source:
        return source, found, unreadable
    tree = ast.parse(source)
    lines = source.splitlines(keepends=True)
    spans = []
    for node in tree.body:
        if not _is_add_messages(node):
            continue
        pairs = _literal_pairs(node.value)
        if pairs is None:
            unreadable.append(node.lineno)
            continue
        for key, pair in pairs.items():
            if key in found and found[key] != pair:
                raise SystemExit(f"{path}: {key!r} is registered twice with different wording")
            found[key] = pair
        spans.append((node.lineno, node.end_lineno))
    for start, end in sorted(spans, reverse=True):
        del lines[start - 1: end]
        _collapse_blank_lines(lines, start - 1)
    new_source = "".join(lines)
    if spans:
        new_source = _drop_unused_import(new_source)
        new_source = new_source.rstrip("\n") + "\n"
    return new_source, found, unreadable


def read_catalog(path: Path, lang: str) -> Catalog:
    if not path.exists():
        return Catalog(locale=lang, domain=DOMAIN, project=PROJECT, version="1", fuzzy=False,
                       header_comment=HEADER_COMMENT, copyright_holder=PROJECT,
                       msgid_bugs_address="", last_translator="", language_team="")
    with path.open("rb") as handle:
        return read_po(handle, locale=lang, domain=DOMAIN)


def catalog_bytes(catalog: Catalog) -> bytes:
    import io

    buffer = io.BytesIO()
    write_po(buffer, catalog, width=0, sort_output=True, omit_header=False, no_location=False)
    return buffer.getvalue()


def migrate(root: Path, check: bool = False, out=sys.stdout) -> int:
    """Move every literal ``add_messages`` dictionary under ``root`` into its catalogs; the number of keys moved."""
    catalogs = {lang: read_catalog(po_path(root, lang), lang) for lang in LANGUAGES}
    before = {lang: catalog_bytes(catalog) if po_path(root, lang).exists() else b""
              for lang, catalog in catalogs.items()}
    moved = 0
    rewritten: dict[Path, str] = {}
    for path in python_files(root):
        relative = path.relative_to(root).as_posix()
        new_source, pairs, unreadable = extract(path, relative)
        for line in unreadable:
            print(f"{relative}:{line}: a message table that is not literal (key: (vi, en)) pairs: move it by hand",
                  file=out)
        if not pairs:
            continue
        rewritten[path] = new_source
        for key, pair in pairs.items():
            for lang, text in zip(LANGUAGES, pair):
                existing = catalogs[lang].get(key)
                if existing is not None and existing.string and existing.string != text:
                    print(f"{relative}: {key!r} ({lang}) replaces the catalog's wording "
                          f"{existing.string!r} with {text!r}", file=out)
                if existing is None:
                    catalogs[lang].add(key, text, locations=[(relative, None)])
                else:
                    existing.string = text
                    if (relative, None) not in existing.locations:
                        existing.locations.append((relative, None))
            moved += 1
        print(f"{relative}: {len(pairs)} message(s) to the catalogs", file=out)
    if check:
        return moved
    for lang, catalog in catalogs.items():
        data = catalog_bytes(catalog)
        if data != before[lang]:
            po_path(root, lang).parent.mkdir(parents=True, exist_ok=True)
            po_path(root, lang).write_bytes(data)
    for path, source in rewritten.items():
        path.write_text(source, encoding="utf-8")
    return moved


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=Path(__file__).resolve().parent.parent)
    parser.add_argument("--check", action="store_true", help="only report; exit 1 if anything is left to move")
    args = parser.parse_args(argv)
    moved = migrate(args.root.resolve(), check=args.check)
    if args.check and moved:
        print(f"{moved} message(s) still in add_messages: run scripts/i18n_dicts_to_po.py", file=sys.stderr)
        return 1
    print(f"{moved} message(s) moved")
    return 0


if __name__ == "__main__":
    sys.exit(main())

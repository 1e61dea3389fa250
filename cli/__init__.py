"""Flask CLI commands (``flask --app server …``, or ``bando138 …`` once the package is installed).

Every module here that defines ``register(app)`` is loaded, so each family of commands lives in its own
module and none edits a shared list.

What a command prints for people goes through the interface catalogs (:func:`say`, :func:`worded`), in the
language of the ``CLI_LANGUAGE`` setting (``BANDO_CLI_LANGUAGE``; default: ``DEFAULT_LANGUAGE``, i.e. ``vi``,
as the pages). Machine output (CSV, JSON, file names) is not translated.
"""
from __future__ import annotations

import importlib
import os
import pkgutil
import sys


def cli_language() -> str:
    """The commands' language: the app's ``CLI_LANGUAGE`` (else ``DEFAULT_LANGUAGE``); outside an app (the
    ``python -m cli.hotspot`` fast path) the ``BANDO_CLI_LANGUAGE`` / ``BANDO_DEFAULT_LANGUAGE`` variables."""
    from translations import check_language

    flask = sys.modules.get("flask")  # not imported by the fast path: no app, and none is loaded for a message
    if flask is not None and flask.has_app_context():
        current_app = flask.current_app
        chosen = current_app.config.get("CLI_LANGUAGE") or current_app.config.get("DEFAULT_LANGUAGE")
    else:
        chosen = os.environ.get("BANDO_CLI_LANGUAGE") or os.environ.get("BANDO_DEFAULT_LANGUAGE")
    try:
        return check_language(chosen or "vi")
    except ValueError:
        import click

        raise click.UsageError(f"CLI_LANGUAGE {chosen!r} is not one of: vi, en") from None  # no language to say it in


def say(key: str, /, **values) -> str:
    """Catalog message ``key`` worded in :func:`cli_language` (numbers and dates in its format)."""
    from translations import Message

    return Message(key, values).text(cli_language())


def worded(error: Exception) -> str:
    """A refusal in :func:`cli_language` (a domain error's message; any other error's own text)."""
    text = getattr(error, "text", None)
    return text(cli_language()) if callable(text) else str(error)


#: Commands that work without the web layer (no page, sign-in or map module): when the Flask CLI loads the
#: app to run one of them, :func:`server.create_app` leaves the pages out (:func:`command_without_web`).
COMMANDS_WITHOUT_WEB = frozenset({"import-incidents"})


def command_without_web() -> bool:
    """Whether the Flask CLI (``flask …``, ``bando138 …``) is loading the app to run one of
    :data:`COMMANDS_WITHOUT_WEB`.

    Flask calls the app factory while it resolves the command, after click has consumed the arguments, so
    the command's name is read from ``sys.argv`` the way the CLI group parses it: the first argument that is
    neither one of the group's options (``--app server``, ``-e FILE``, ``--debug``) nor an option's value.
    Outside the Flask CLI (a WSGI server, ``python server.py``, tests) the answer is always False, and any
    doubt (``--help``, no command) means the whole application.
    """
    click = sys.modules.get("click")
    context = click.get_current_context(silent=True) if click is not None else None
    if context is None:
        return False
    from flask.cli import FlaskGroup

    root = context.find_root()
    if not isinstance(root.command, FlaskGroup):
        return False
    takes_value = {name for param in root.command.params
                   if getattr(param, "is_flag", False) is False and param.nargs != 0
                   for name in (*param.opts, *param.secondary_opts)}
    arguments = iter(sys.argv[1:])
    for argument in arguments:
        if argument == "--":
            return next(arguments, None) in COMMANDS_WITHOUT_WEB
        if argument.startswith("-"):
            if argument in takes_value:
                next(arguments, None)  # the option's value (``--app server``)
            continue
        return argument in COMMANDS_WITHOUT_WEB
    return False


def register(app) -> None:
    for module_info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        module = importlib.import_module(f"{__name__}.{module_info.name}")
        if hasattr(module, "register"):
            module.register(app)


def main() -> None:
    """The ``bando138`` console script: the commands of ``flask --app server`` without ``--app``.

    Flask's own :class:`~flask.cli.FlaskGroup` around the app factory, so every command, ``--help`` and
    ``routes``/``shell`` behave exactly as under ``flask``; it works from any directory.
    """
    from flask.cli import FlaskGroup

    from server import create_app

    group = FlaskGroup(name="bando138", create_app=lambda: create_app(),
                       help="Bản đồ 138 — the commands of `flask --app server` (see README, Command line).")
    group.main(prog_name="bando138")

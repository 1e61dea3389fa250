"""Flask CLI commands (``flask --app server …``).

Every module here that defines ``register(app)`` is loaded, so each family of commands lives in its own
module and none edits a shared list.
"""
from __future__ import annotations

import importlib
import pkgutil


def register(app) -> None:
    for module_info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        module = importlib.import_module(f"{__name__}.{module_info.name}")
        if hasattr(module, "register"):
            module.register(app)

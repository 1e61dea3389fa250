"""A small per-process cache of rendered map views.

Building a folium map costs 0.1–0.3 s; many planners open the same few views. A view is keyed by everything
that changes what it shows — the data version (bumped by every import or edit), the filters, the language and
what the viewer may see — so a cached view is never stale and never crosses a confidentiality boundary.
"""
from __future__ import annotations

import threading
from collections import OrderedDict

MAX_VIEWS = 64
_views: OrderedDict = OrderedDict()
_lock = threading.Lock()
_building: dict = {}


def viewer_scope(user) -> tuple:
    """The parts of a user that change what a map may show them."""
    return (user.role, user.district_code, bool(user.sensitive_clearance))


def cached_view(key: tuple, build):
    """Return the cached value for ``key``, building it once even when many requests ask at the same time."""
    with _lock:
        if key in _views:
            _views.move_to_end(key)
            return _views[key]
        gate = _building.setdefault(key, threading.Lock())
    with gate:
        with _lock:
            if key in _views:
                return _views[key]
        value = build()
        with _lock:
            _views[key] = value
            _views.move_to_end(key)
            while len(_views) > MAX_VIEWS:
                _views.popitem(last=False)
            _building.pop(key, None)
        return value


def clear() -> None:
    with _lock:
        _views.clear()

"""A small per-process cache of rendered map views.

Building a folium map costs 0.1–0.3 s; many planners open the same few views. A view is keyed by everything
that changes what it shows — the data version (bumped by every import or edit), the filters, the language and
what the viewer may see — so a cached view is never stale and never crosses a confidentiality boundary.
"""
from __future__ import annotations

from store.build_once import BuildOnceCache

MAX_VIEWS = 64
_views = BuildOnceCache(MAX_VIEWS)
#: Asset lists of map pages: a few per page and configuration.
_assets = BuildOnceCache(64)


def viewer_scope(user) -> tuple:
    """The parts of a user that change what a map may show them."""
    return (user.role, user.district_code, getattr(user, "commune_code", None), getattr(user, "commune_set_id", None),
            bool(user.sensitive_clearance))


def cached_view(key: tuple, build):
    """Return the cached value for ``key``, building it once even when many requests ask at the same time."""
    _views.max_entries = MAX_VIEWS
    return _views.get(key, build)


def map_assets(key: tuple, build):
    """(css, js, map id) of a page's map for an asset key (configuration and kinds of layers), built once."""
    return _assets.get(key, build)


def clear() -> None:
    _views.clear()
    _assets.clear()

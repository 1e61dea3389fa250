"""Who may use which endpoint.

Every view declares its audience with :func:`allow`; :func:`check_access` runs before each request and
denies any endpoint that declared nothing, so a forgotten declaration fails closed.
"""
from __future__ import annotations

from functools import wraps

ADMIN = "admin"
PLANNER = "planner"
BORDER_GUARD = "border_guard"
DISTRICT = "district"
COMMUNE = "commune"
ROLES = (ADMIN, PLANNER, BORDER_GUARD, DISTRICT, COMMUNE)
LOCAL = (DISTRICT, COMMUNE)  # committees that see and change their own unit only
EVERYONE = ROLES  # every signed-in role
PUBLIC = "public"  # no sign-in needed (login page, static assets)

ROLE_LABELS = {
    ADMIN: ("Quản trị viên", "Administrator"),
    PLANNER: ("Cán bộ tham mưu tỉnh", "Province planner"),
    BORDER_GUARD: ("Bộ đội Biên phòng", "Border guard"),
    DISTRICT: ("BCĐ 138 huyện/thành phố", "District committee"),
    COMMUNE: ("BCĐ 138 xã/phường", "Commune committee"),
}


def allow(*roles):
    """Declare the roles that may call a view (``allow(PUBLIC)`` for pages open to everyone)."""
    unknown = [r for r in roles if r not in ROLES and r != PUBLIC]
    if unknown or not roles:
        raise ValueError(f"allow() takes roles from {ROLES + (PUBLIC,)}, got {roles!r}")

    def decorate(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            return view(*args, **kwargs)

        wrapped.allowed_roles = frozenset(roles)
        return wrapped

    return decorate


def allowed_roles(view) -> frozenset | None:
    return getattr(view, "allowed_roles", None)


def in_menu_when(predicate):
    """Show a page in the menu only to users for whom ``predicate(user)`` holds.

    For pages whose audience is narrower than a role (e.g. only the border districts' committees), so the
    menu never offers a link that answers 403. Place it between ``@bp.route`` and ``@allow``.
    """

    def decorate(view):
        view.menu_predicate = predicate
        return view

    return decorate


def shown_in_menu(view, user) -> bool:
    roles = allowed_roles(view)
    if not roles or (user.role not in roles and PUBLIC not in roles):
        return False
    predicate = getattr(view, "menu_predicate", None)
    if predicate is None:
        return True
    try:
        return bool(predicate(user))
    except Exception:  # a menu must render even when a predicate's data is missing
        return False


def may_edit_district(user, district_code: str | None) -> bool:
    """Province-level roles edit everywhere; a district committee only its own district."""
    if user.role in (ADMIN, PLANNER):
        return True
    return user.role == DISTRICT and district_code is not None and user.district_code == district_code


def is_local(user) -> bool:
    return getattr(user, "role", None) in LOCAL

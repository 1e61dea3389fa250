"""Vietnamese-first interface text with an English switch.

Each blueprint registers its own strings with :func:`add_messages` so modules do not edit one shared table.
The language comes from ``?lang=vi|en`` (remembered in the session) and defaults to Vietnamese.
"""
from __future__ import annotations

from flask import current_app, request, session

LANGUAGES = ("vi", "en")
_MESSAGES: dict[str, tuple[str, str]] = {}


def add_messages(messages: dict[str, tuple[str, str]]) -> None:
    for key, pair in messages.items():
        if key in _MESSAGES and _MESSAGES[key] != pair:
            raise ValueError(f"interface text {key!r} is registered twice with different wording")
        _MESSAGES[key] = pair


def current_language() -> str:
    asked = request.args.get("lang")
    if asked in LANGUAGES:
        session["lang"] = asked
        return asked
    lang = session.get("lang")
    return lang if lang in LANGUAGES else current_app.config.get("DEFAULT_LANGUAGE", "vi")


def t(key: str, **values) -> str:
    """Translate ``key`` into the current language; unknown keys show themselves so gaps are visible."""
    pair = _MESSAGES.get(key)
    if pair is None:
        text = key
    else:
        text = pair[1] if current_language() == "en" else pair[0]
    return text.format(**values) if values else text


def pick(pair) -> str:
    """Choose from a ``(vi, en)`` pair, as kept in ``geo.taxonomy`` and ``web.access``."""
    return pair[1] if current_language() == "en" else pair[0]


add_messages(
    {
        "app.title": ("Bản đồ 138", "Map 138"),
        "app.subtitle": (
            "Bản đồ điểm nóng và chuyển hóa địa bàn — BCĐ 138 tỉnh Đồng Tháp",
            "Hotspot and area-conversion map — Đồng Tháp Steering Committee 138",
        ),
        "nav.overview": ("Tổng quan", "Overview"),
        "nav.hotspots": ("Điểm nóng", "Hotspots"),
        "nav.corridor": ("Tuyến biên giới", "Border corridor"),
        "nav.key_areas": ("Địa bàn trọng điểm", "Key areas"),
        "nav.drug_status": ("Ma túy xã/phường", "Commune drug status"),
        "nav.targets": ("Chỉ tiêu", "Targets"),
        "nav.reports": ("Báo cáo", "Reports"),
        "nav.import": ("Nhập dữ liệu", "Import"),
        "nav.exports": ("Tải dữ liệu", "Downloads"),
        "nav.admin": ("Quản trị", "Administration"),
        "nav.audit": ("Nhật ký", "Audit log"),
        "nav.logout": ("Đăng xuất", "Sign out"),
        "nav.login": ("Đăng nhập", "Sign in"),
        "login.title": ("Đăng nhập", "Sign in"),
        "login.username": ("Tên đăng nhập", "Username"),
        "login.password": ("Mật khẩu", "Password"),
        "login.submit": ("Đăng nhập", "Sign in"),
        "login.failed": ("Sai tên đăng nhập hoặc mật khẩu.", "Wrong username or password."),
        "login.locked": (
            "Tài khoản tạm khóa do đăng nhập sai nhiều lần. Thử lại sau {minutes} phút.",
            "Account locked after repeated failed sign-ins. Try again in {minutes} minutes.",
        ),
        "login.required": ("Vui lòng đăng nhập để tiếp tục.", "Please sign in to continue."),
        "error.forbidden": ("Bạn không có quyền truy cập trang này.", "You are not allowed to open this page."),
        "error.not_found": ("Không tìm thấy trang.", "Page not found."),
        "error.bad_request": ("Yêu cầu không hợp lệ.", "Bad request."),
        "error.csrf": (
            "Biểu mẫu đã hết hạn hoặc không hợp lệ; tải lại trang và thử lại.",
            "The form expired or is invalid; reload the page and try again.",
        ),
        "error.server": ("Lỗi hệ thống; đã ghi nhận.", "Server error; it has been logged."),
        "error.too_large": ("Tệp quá lớn.", "File too large."),
        "demo.banner": (
            "Dữ liệu minh họa — không phải số liệu thật của cơ quan chức năng.",
            "Illustrative data — not real police records.",
        ),
        "lang.switch": ("English", "Tiếng Việt"),
    }
)

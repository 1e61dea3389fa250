"""Administrator page: create users and set their role, district, active flag and sensitive-data clearance.

Every change is one transaction with an audit row (before → after, reason); password hashes never enter
the audit log. An administrator cannot lock themself out (deactivate or demote their own account).
"""
from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from store import audit
from store.boundaries import known_district_codes
from store.models import User
from web import access, db_session
from web.access import allow
from web.auth import create_user, hash_password
from web.i18n import add_messages, t
from web.key_areas import district_names

bp = Blueprint("admin", __name__)

add_messages({
    "adm.title": ("Quản trị người dùng", "User administration"),
    "adm.new": ("Tạo người dùng", "New user"),
    "adm.username": ("Tên đăng nhập", "Username"),
    "adm.display_name": ("Họ tên", "Full name"),
    "adm.password": ("Mật khẩu (≥ 10 ký tự)", "Password (≥ 10 characters)"),
    "adm.new_password": ("Đặt lại mật khẩu (để trống nếu giữ)", "Reset password (blank keeps it)"),
    "adm.role": ("Vai trò", "Role"),
    "adm.district": ("Huyện (chỉ với BCĐ huyện)", "District (district committee only)"),
    "adm.active": ("Đang hoạt động", "Active"),
    "adm.clearance": ("Được xem vị trí vụ việc bảo mật", "Sensitive-location clearance"),
    "adm.reason": ("Lý do", "Reason"),
    "adm.save": ("Lưu", "Save"),
    "adm.create": ("Tạo", "Create"),
    "adm.created": ("Đã tạo người dùng {username}.", "User {username} created."),
    "adm.updated": ("Đã cập nhật người dùng {username}.", "User {username} updated."),
    "adm.none": ("— không —", "— none —"),
    "adm.self": ("Không thể tự khóa hoặc hạ quyền tài khoản quản trị của chính mình.",
                 "You cannot deactivate or demote your own administrator account."),
    "adm.users": ("Người dùng", "Users"),
    "adm.created_at": ("Ngày tạo", "Created"),
})


def _flag(name) -> bool:
    return request.form.get(name) in ("1", "on", "true", "yes")


@bp.route("/admin/users", methods=["GET", "POST"])
@allow(access.ADMIN)
def users():
    """List users; POST creates one (password from the form, validated like the CLI)."""
    if request.method == "POST":
        form = request.form
        try:
            with current_app.extensions["db"].transaction() as session:
                create_user(session, form.get("username", "").strip(), form.get("password", ""), form.get("role", ""),
                            form.get("district_code") or None, display_name=form.get("display_name", "").strip(),
                            sensitive_clearance=_flag("sensitive_clearance"),
                            known_districts=known_district_codes(session) or None, actor=current_user.username)
        except ValueError as e:
            flash(str(e), "error")
            return _render(form), 400
        flash(t("adm.created", username=form.get("username", "").strip()), "success")
        return redirect(url_for("admin.users"), 303)
    return _render({})


def _render(form):
    rows = db_session().scalars(select(User).order_by(User.role, User.username)).all()
    return render_template("admin/users.html", users=rows, districts=district_names(), form=form,
                           roles=access.ROLES)


@bp.route("/admin/users/<int:user_id>", methods=["POST"])
@allow(access.ADMIN)
def update(user_id):
    form = request.form
    role = form.get("role", "")
    district_code = form.get("district_code") or None
    active = _flag("active")
    clearance = _flag("sensitive_clearance")
    new_password = form.get("new_password", "")
    problems = []
    with current_app.extensions["db"].transaction() as session:
        user = session.get(User, user_id)
        if user is None:
            abort(404)
        if role not in access.ROLES:
            problems.append(f"role {role!r} is not one of: {', '.join(access.ROLES)}")
        if role == access.DISTRICT and not district_code:
            problems.append("a district committee user needs a district")
        if role != access.DISTRICT and district_code:
            problems.append(f"role {role!r} is province-wide and takes no district")
        if district_code and district_code not in known_district_codes(session):
            problems.append(f"district {district_code!r} is unknown")
        if new_password and len(new_password) < 10:
            problems.append("password must have at least 10 characters")
        if user.id == current_user.id and (not active or role != access.ADMIN):
            problems.append(t("adm.self"))
        if not problems:
            before = {"role": user.role, "district_code": user.district_code, "active": user.active,
                      "sensitive_clearance": user.sensitive_clearance}
            user.role, user.district_code, user.active, user.sensitive_clearance = role, district_code, active, clearance
            after = {"role": role, "district_code": district_code, "active": active, "sensitive_clearance": clearance}
            if new_password:
                user.password_hash = hash_password(new_password)
                user.failed_logins, user.locked_until = 0, None
                after["password_reset"] = True
            if after != before:
                audit.record(session, username=current_user.username, action="update_user", entity="user",
                             entity_id=user.id, before=before, after=after, reason=form.get("reason", ""))
            username = user.username
    if problems:
        flash("; ".join(problems), "error")
        return _render({}), 400
    flash(t("adm.updated", username=username), "success")
    return redirect(url_for("admin.users"), 303)

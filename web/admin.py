"""Administrator page: create users and set their role, district, active flag and sensitive-data clearance.

Every change is one transaction with an audit row (before → after, reason); password hashes never enter
the audit log. A password reset, a new role or district, or a deactivation ends every session of the user
and revokes their API tokens. An administrator cannot lock themself out (deactivate or demote their own account).
"""
from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from store import audit, sign_in
from store.boundaries import known_district_codes
from store.models import User
from web import access, db_session
from web.access import allow
from web.auth import create_user, hash_password
from web.i18n import error_text, t
from web.key_areas import district_names

bp = Blueprint("admin", __name__)


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
                            known_districts=known_district_codes(session) or None, actor=current_user.username,
                            commune_code=form.get("commune_code") or None)
        except ValueError as e:
            flash(error_text(e), "error")
            return _render(form), 400
        flash(t("adm.created", username=form.get("username", "").strip()), "success")
        return redirect(url_for("admin.users"), 303)
    return _render({})


@bp.route("/admin/audit-chain")
@allow(access.ADMIN)
def audit_chain():
    """The audit trail's hash chain, verified now (the same check as ``flask verify-audit``)."""
    check = audit.verify_chain(db_session())
    reason = "" if check.intact else t(f"adm.audit_{check.kind}", detail=check.detail)
    return render_template("admin/audit_chain.html", check=check, reason=reason), 200 if check.intact else 409


def _render(form):
    rows = db_session().scalars(select(User).order_by(User.role, User.username)).all()
    from store.boundaries import communes_frame

    communes = communes_frame(db_session())
    return render_template("admin/users.html", users=rows, districts=district_names(), form=form,
                           roles=access.ROLES, communes=sorted(zip(communes["commune_name"], communes["commune_code"])))


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
        if role == access.COMMUNE and not user.commune_code:
            problems.append("a commune committee account is made with its commune: create it anew")
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
                sign_in.clear_failures(session, user.username)
                after["password_reset"] = True
            changed_access = (new_password or before["role"] != role or before["district_code"] != district_code
                              or (before["active"] and not active))
            if changed_access:
                # A copied cookie or a leaked token must not outlive the reset or the old rights.
                after["sessions_ended"] = True
                after["tokens_revoked"] = sign_in.end_every_session_and_token(session, user.id)
            if after != before:
                audit.record(session, username=current_user.username, action="update_user", entity="user",
                             entity_id=user.id, before=before, after=after, reason=form.get("reason", ""))
            username = user.username
    if problems:
        flash("; ".join(problems), "error")
        return _render({}), 400
    flash(t("adm.updated", username=username), "success")
    return redirect(url_for("admin.users"), 303)

"""Sign-in, access control and the app factory."""
from __future__ import annotations

import pytest

from tests.conftest import PASSWORD, csrf_token_from


def test_anonymous_page_redirects_to_login(client):
    response = client.get("/")
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


def test_anonymous_api_gets_401_json(client):
    response = client.get("/api/communes")
    assert response.status_code == 401
    assert response.is_json


def test_login_page_is_vietnamese_first_with_english_switch(client):
    page = client.get("/login").get_data(as_text=True)
    assert "Đăng nhập" in page and "Mật khẩu" in page
    english = client.get("/login?lang=en").get_data(as_text=True)
    assert "Sign in" in english and "Password" in english


def test_login_and_logout(client, login):
    login("planner")
    assert client.get("/").status_code == 200
    response = client.post("/logout", data={"csrf_token": login.csrf_token})
    assert response.status_code == 302
    assert client.get("/").status_code == 302


def test_wrong_password_refused(client):
    token = csrf_token_from(client.get("/login").get_data(as_text=True))
    response = client.post("/login", data={"username": "planner", "password": "sai", "csrf_token": token})
    assert response.status_code == 401
    assert "Sai tên đăng nhập" in response.get_data(as_text=True)


def test_login_without_csrf_token_is_refused(client):
    response = client.post("/login", data={"username": "planner", "password": PASSWORD})
    assert response.status_code == 400
    assert client.get("/").status_code == 302


def test_repeated_failures_lock_the_account(client, app):
    token = csrf_token_from(client.get("/login").get_data(as_text=True))
    for _ in range(app.config["LOGIN_MAX_ATTEMPTS"]):
        client.post("/login", data={"username": "guard", "password": "wrong", "csrf_token": token})
    response = client.post("/login", data={"username": "guard", "password": PASSWORD, "csrf_token": token})
    assert response.status_code == 429
    assert client.get("/").status_code == 302


def test_open_redirect_after_login_is_refused(client):
    token = csrf_token_from(client.get("/login").get_data(as_text=True))
    response = client.post("/login?next=https://evil.example/", data={
        "username": "planner", "password": PASSWORD, "csrf_token": token})
    assert response.headers["Location"] == "/"


def test_every_endpoint_declares_its_audience(app):
    from web.access import allowed_roles

    undeclared = [name for name, view in app.view_functions.items()
                  if name != "static" and allowed_roles(view) is None]
    assert undeclared == []


def test_undeclared_endpoint_is_denied(app, login, client):
    app.add_url_rule("/forgotten", "forgotten", lambda: "secret")
    login("admin")
    assert client.get("/forgotten").status_code == 403


def test_api_communes_lists_all_143_with_names(client, login):
    login("guard")
    data = client.get("/api/communes").get_json()
    assert data["type"] == "FeatureCollection"
    assert len(data["features"]) == 143
    props = data["features"][0]["properties"]
    assert {"commune_code", "commune_name", "district_code", "district_name"} <= set(props)


def test_api_token_authenticates_without_cookie(app, runner):
    result = runner.invoke(args=["create-token", "guard", "--name", "QGIS"])
    assert result.exit_code == 0, result.output
    token = result.output.strip().splitlines()[-1]
    client = app.test_client()
    assert client.get("/api/communes", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    assert client.get("/api/communes", headers={"Authorization": "Bearer not-a-token"}).status_code == 401


def test_create_user_cli_reads_password_from_stdin(runner, app):
    result = runner.invoke(args=["create-user", "lan", "--role", "district", "--district", "874"],
                           input="mat-khau-rat-dai\n")
    assert result.exit_code == 0, result.output
    client = app.test_client()
    token = csrf_token_from(client.get("/login").get_data(as_text=True))
    response = client.post("/login", data={"username": "lan", "password": "mat-khau-rat-dai", "csrf_token": token})
    assert response.status_code == 302


@pytest.mark.parametrize("args, message", [
    (["create-user", "x1", "--role", "district"], "needs --district"),
    (["create-user", "x2", "--role", "district", "--district", "999"], "district '999'"),
    (["create-user", "x3", "--role", "planner", "--district", "869"], "takes no district"),
    (["create-user", "admin", "--role", "admin"], "already exists"),
])
def test_create_user_cli_refuses_bad_input(runner, args, message):
    result = runner.invoke(args=args, input="mat-khau-rat-dai\n")
    assert result.exit_code != 0
    assert message in result.output


def test_short_password_refused(runner):
    result = runner.invoke(args=["create-user", "short", "--role", "planner"], input="ngan\n")
    assert result.exit_code != 0 and "at least 10" in result.output


def test_audit_log_is_append_only(db):
    from sqlalchemy import text

    with pytest.raises(Exception, match="append-only"):
        with db.transaction() as session:
            session.execute(text("DELETE FROM audit_log"))
    with db.transaction() as session:
        assert session.execute(text("SELECT count(*) FROM audit_log")).scalar() >= 5


def test_vendor_assets_served_locally_and_nothing_else(client):
    with client.get("/vendor/leaflet/dist/leaflet.js") as response:
        assert response.status_code == 200
        assert b"Leaflet" in response.get_data()
    assert client.get("/vendor/leaflet/package.json").status_code == 404
    assert client.get("/vendor/../server.py").status_code == 404


def test_errors_do_not_leak_tracebacks(app, login, client):
    from web.access import EVERYONE, allow

    app.add_url_rule("/boom", "boom", allow(*EVERYONE)(lambda: 1 / 0))
    app.config["PROPAGATE_EXCEPTIONS"] = False
    login("admin")
    response = client.get("/boom")
    assert response.status_code == 500
    assert "Traceback" not in response.get_data(as_text=True)
    assert "ZeroDivisionError" not in response.get_data(as_text=True)


def test_security_headers_and_strict_script_policy(client, login):
    login("planner")
    response = client.get("/")
    policy = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "unsafe-eval" not in policy
    assert "'unsafe-inline'" not in policy.split("script-src", 1)[1].split(";")[0]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Cache-Control"] == "no-store"
    page = response.get_data(as_text=True)
    assert "<script>" not in page  # every script is a same-origin file


def test_tile_server_is_allowed_for_images_only(app):
    from web import content_security_policy

    policy = content_security_policy("https://{s}.tiles.intranet.vn/{z}/{x}/{y}.png")
    assert "img-src 'self' data: blob: https://*.tiles.intranet.vn" in policy
    assert "tiles.intranet.vn" not in policy.split("img-src")[0]


def test_menu_offers_the_corridor_only_to_border_district_committees(client, login):
    login("district_869")  # Tân Hồng lies on the border
    assert 'href="/corridor"' in client.get("/key-areas").get_data(as_text=True)


def test_menu_hides_the_corridor_from_inland_district_committees(client, login):
    login("district_866")  # TP Cao Lãnh does not
    page = client.get("/key-areas").get_data(as_text=True)
    assert 'href="/corridor"' not in page
    assert client.get("/corridor").status_code == 403


def test_revoked_token_stops_working(app, runner):
    token = runner.invoke(args=["create-token", "guard", "--name", "cu"]).output.strip().splitlines()[-1]
    keep = runner.invoke(args=["create-token", "guard", "--name", "moi"]).output.strip().splitlines()[-1]
    result = runner.invoke(args=["revoke-tokens", "guard", "--name", "cu"])
    assert result.exit_code == 0 and "1 token(s)" in result.output
    client = app.test_client()
    assert client.get("/api/communes", headers={"Authorization": f"Bearer {token}"}).status_code == 401
    assert client.get("/api/communes", headers={"Authorization": f"Bearer {keep}"}).status_code == 200


def test_ensure_admin_creates_a_first_account_only_on_an_empty_database(tmp_path, data_dir):
    from server import create_app
    from tests.conftest import csrf_token_from

    application = create_app({"TESTING": True, "SECRET_KEY": "k", "DATA_DIR": str(data_dir),
                              "DATABASE_URL": f"sqlite:///{tmp_path}/empty.sqlite3",
                              "INITIAL_PASSWORD_FILE": str(tmp_path / "initial-admin-password")})
    application.extensions["db"].upgrade()
    runner = application.test_cli_runner()
    first = runner.invoke(args=["ensure-admin"])
    assert first.exit_code == 0 and "admin / " in first.output
    assert (tmp_path / "initial-admin-password").stat().st_mode & 0o077 == 0
    password = first.output.split("admin / ", 1)[1].split()[0]
    client = application.test_client()
    token = csrf_token_from(client.get("/login").get_data(as_text=True))
    response = client.post("/login", data={"username": "admin", "password": password, "csrf_token": token})
    assert response.status_code == 302
    again = runner.invoke(args=["ensure-admin"])
    assert "no account created" in again.output
    application.extensions["db"].dispose()

"""Sign-in under attack: parallel guesses, unknown names, per-address limits, sessions that end for real."""
from __future__ import annotations

import threading

import pytest
from sqlalchemy import select

from tests.conftest import PASSWORD, SignIn, csrf_token_from, drop_app_database, make_app


def _token(client) -> str:
    return csrf_token_from(client.get("/login").get_data(as_text=True))


def _attempt(client, username, password, token, address="127.0.0.1"):
    return client.post("/login", data={"username": username, "password": password, "csrf_token": token},
                       environ_base={"REMOTE_ADDR": address})


@pytest.fixture
def roomy_app(tmp_path, template_db, data_dir):
    """An app whose per-address limit stays out of the way, to test the per-account counter alone."""
    application = make_app(tmp_path, template_db, data_dir, LOGIN_ADDRESS_LIMIT="1000 per minute")
    yield application
    drop_app_database(application)


def test_parallel_guesses_cannot_exceed_the_allowance_and_the_account_locks(roomy_app):
    app = roomy_app
    allowance = app.config["LOGIN_MAX_ATTEMPTS"]
    passwords = ["sai-mat-khau"] * 29 + [PASSWORD]
    clients = [app.test_client() for _ in passwords]
    tokens = [_token(c) for c in clients]
    start = threading.Barrier(len(passwords))
    statuses = [None] * len(passwords)

    def guess(i):
        start.wait()
        statuses[i] = _attempt(clients[i], "guard", passwords[i], tokens[i]).status_code

    threads = [threading.Thread(target=guess, args=(i,)) for i in range(len(passwords))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wrong = statuses[:-1]
    # every password checked is one of the allowance; the rest are refused unchecked
    assert wrong.count(401) <= allowance and wrong.count(401) + wrong.count(429) == len(wrong)
    late = app.test_client()
    assert _attempt(late, "guard", PASSWORD, _token(late)).status_code == 429, "the account did not lock"


@pytest.mark.parametrize("username", ["guard", "khong-co-tai-khoan-nay"])
def test_unknown_and_real_names_answer_alike(roomy_app, username, monkeypatch):
    import web.auth

    checked = []
    real_check = web.auth.check_password_hash
    monkeypatch.setattr(web.auth, "check_password_hash",
                        lambda stored, given: checked.append(stored.split("$")[0]) or real_check(stored, given))
    client = roomy_app.test_client()
    token = _token(client)
    allowance = roomy_app.config["LOGIN_MAX_ATTEMPTS"]
    answers = [_attempt(client, username, "sai-mat-khau", token) for _ in range(allowance + 1)]
    assert [a.status_code for a in answers] == [401] * allowance + [429]
    assert answers[0].get_data(as_text=True).count("Sai tên đăng nhập hoặc mật khẩu") == 1
    assert int(answers[-1].headers["Retry-After"]) > 0
    # the same work for both: one password hash of the same method and cost per attempt checked
    assert checked == ["scrypt:32768:8:1"] * allowance


def test_locked_account_answers_retry_after_and_its_api_tokens_are_refused(roomy_app):
    from store.models import User
    from web.auth import issue_token

    with roomy_app.extensions["db"].transaction() as session:
        token = issue_token(session, session.scalar(select(User).where(User.username == "guard")), "qgis")
    api = roomy_app.test_client()
    bearer = {"Authorization": f"Bearer {token}"}
    assert api.get("/api/communes", headers=bearer).status_code == 200
    client = roomy_app.test_client()
    csrf = _token(client)
    for _ in range(roomy_app.config["LOGIN_MAX_ATTEMPTS"]):
        _attempt(client, "guard", "sai", csrf)
    locked = _attempt(client, "guard", PASSWORD, csrf)
    assert locked.status_code == 429
    assert 0 < int(locked.headers["Retry-After"]) <= roomy_app.config["LOGIN_LOCK_MINUTES"] * 60
    assert api.get("/api/communes", headers=bearer).status_code == 401


def test_per_address_limit_is_shared_by_every_worker(tmp_path, template_db, data_dir):
    """Two applications on one database stand for two gunicorn workers: they count together."""
    from server import create_app

    first = make_app(tmp_path, template_db, data_dir, LOGIN_ADDRESS_LIMIT="3 per minute")
    second = create_app({key: first.config[key] for key in ("TESTING", "SECRET_KEY", "DATABASE_URL", "DATA_DIR",
                                                            "LOGIN_ADDRESS_LIMIT")})
    try:
        clients = [first.test_client(), second.test_client()]
        tokens = [_token(c) for c in clients]
        names = ["nguoi-1", "nguoi-2", "nguoi-3", "nguoi-4"]  # different names: the account counter is not it
        answers = [_attempt(clients[i % 2], name, "sai", tokens[i % 2], address="10.0.0.7").status_code
                   for i, name in enumerate(names)]
        assert answers == [401, 401, 401, 429]
        refused = _attempt(clients[0], "nguoi-5", "sai", tokens[0], address="10.0.0.7")
        assert refused.status_code == 429 and int(refused.headers["Retry-After"]) > 0
        assert "Quá nhiều yêu cầu" in refused.get_data(as_text=True)
        other = _attempt(clients[1], "nguoi-6", "sai", tokens[1], address="10.0.0.8")
        assert other.status_code == 401  # another address has its own count
    finally:
        second.extensions["db"].dispose()
        drop_app_database(first)


def test_a_cookie_saved_before_sign_out_opens_nothing_after(app, client, login):
    login("planner")
    saved = client.get_cookie("session").value
    assert client.get("/audit").status_code == 200
    client.post("/logout", data={"csrf_token": login.csrf_token})
    replay = app.test_client()
    replay.set_cookie("session", saved)
    assert replay.get("/audit").status_code == 302
    assert replay.get("/api/communes").status_code == 401


@pytest.mark.parametrize("change", ["password", "role"])
def test_password_reset_or_role_change_ends_every_session_and_token(app, change):
    from store.models import User
    from web.auth import issue_token

    with app.extensions["db"].transaction() as session:
        planner = session.scalar(select(User).where(User.username == "planner"))
        token, planner_id = issue_token(session, planner, "script"), planner.id
    victim = app.test_client()
    SignIn(victim)("planner")
    assert victim.get("/audit").status_code == 200
    admin = app.test_client()
    sign_in = SignIn(admin)
    sign_in("admin")
    form = {"csrf_token": sign_in.csrf_token, "role": "planner", "active": "1", "reason": "kiểm thử"}
    if change == "password":
        form["new_password"] = "mat-khau-moi-rat-dai"
    else:
        form["role"] = "border_guard"
    assert admin.post(f"/admin/users/{planner_id}", data=form).status_code == 303
    assert victim.get("/audit").status_code == 302
    assert victim.get("/api/communes", headers={"Authorization": f"Bearer {token}"}).status_code == 401
    assert admin.get("/audit").status_code == 200  # the administrator's own session is untouched


@pytest.mark.parametrize("trusted", [0, 1])
def test_forwarded_headers_count_only_when_the_proxy_is_trusted(tmp_path, template_db, data_dir, trusted):
    app = make_app(tmp_path, template_db, data_dir, TRUSTED_PROXIES=trusted, LOGIN_ADDRESS_LIMIT="2 per minute")
    try:
        client = app.test_client()
        SignIn(client)("planner")
        forwarded = {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "bando138.intranet",
                     "X-Forwarded-For": "10.1.2.3"}
        response = client.get("/ogc/collections/communes/items?limit=5", headers=forwarded)
        next_link = next(link["href"] for link in response.get_json()["links"] if link["rel"] == "next")
        if trusted:
            assert next_link.startswith("https://bando138.intranet/ogc/")
            assert response.headers["Strict-Transport-Security"].startswith("max-age=")
        else:
            assert next_link.startswith("http://localhost/")
            assert "Strict-Transport-Security" not in response.headers
        # the per-address limit counts the client the proxy names (trusted) or the proxy itself
        other = app.test_client()
        token = _token(other)
        statuses = [other.post("/login", data={"username": "x", "password": "y", "csrf_token": token},
                               headers={"X-Forwarded-For": f"10.9.9.{i}"}).status_code for i in range(3)]
        assert statuses == ([401, 401, 401] if trusted else [401, 429, 429])  # SignIn above used one
    finally:
        drop_app_database(app)

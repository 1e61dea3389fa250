"""Rendered map scripts handed from a page to the script request that follows it, across server processes.

A tracker page (key areas, drug status) renders its folium map and links the map's JavaScript by a token
(``/tracker-maps/<token>.js``; no inline script under the Content-Security-Policy). With several gunicorn
workers the script request may reach another process than the page did, so the script is kept in a file
under the instance folder that every worker of the host reads. The token is a keyed hash of the user and
the script: the same map shown again reuses its file (a page view of an unchanged map writes nothing), and a
token cannot be guessed or used by another user. The folder is bounded: the least recently stashed files
beyond :data:`KEPT_SCRIPTS` are removed.
"""
from __future__ import annotations

import hashlib
import hmac
import os
import re
import tempfile
from pathlib import Path

from flask import current_app

KEPT_SCRIPTS = 512
TOKEN = re.compile(r"^[0-9a-f]{40}$")


def _folder() -> Path:
    folder = Path(current_app.config.get("MAP_SCRIPT_DIR") or Path(current_app.instance_path) / "map-scripts")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def stash(user_id: str, script: str) -> str:
    """Keep ``script`` for ``user_id``; returns the token that :func:`fetch` takes."""
    key = str(current_app.config["SECRET_KEY"]).encode()
    body = f"{user_id}\n{script}".encode()
    token = hmac.new(key, body, hashlib.sha256).hexdigest()[:40]
    path = _folder() / f"{token}.js"
    try:
        os.utime(path)  # shown again: keep it among the most recent
        return token
    except FileNotFoundError:
        pass
    handle, temporary = tempfile.mkstemp(prefix=".stash-", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(body)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    _prune(path.parent)
    return token


def fetch(token: str, user_id: str) -> str | None:
    """The script stashed under ``token`` for ``user_id``; None when unknown, pruned or another user's."""
    if not TOKEN.match(token or ""):
        return None
    try:
        body = (_folder() / f"{token}.js").read_bytes().decode()
    except FileNotFoundError:
        return None
    owner, _, script = body.partition("\n")
    return script if hmac.compare_digest(owner, str(user_id)) else None


def _prune(folder: Path) -> None:
    entries = []
    for entry in os.scandir(folder):
        if entry.name.endswith(".js"):
            try:
                entries.append((entry.stat().st_mtime, entry.path))
            except FileNotFoundError:
                continue
    if len(entries) <= KEPT_SCRIPTS:
        return
    entries.sort()
    for _, path in entries[:len(entries) - KEPT_SCRIPTS]:
        Path(path).unlink(missing_ok=True)

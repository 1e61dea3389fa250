"""Incident upload in the web UI: CSV, XLSX or GeoJSON, atomic by default, errors grouped by reason (per-row CSV).

The upload is checked (extension, content sniffing, size), saved under a generated name, and imported by
``store.importing.import_incidents`` in a background thread so the page can show a running count
(``/import/<job>/status`` is polled by ``static/js/import_progress.js``; without JavaScript the page
refreshes itself). Jobs live in the database (:mod:`store.import_jobs`), so with several server processes
(gunicorn workers) a progress poll answered by another process than the one importing still finds the job.
"""
from __future__ import annotations

import logging
import os
import re
import tempfile
import threading
import time
import uuid
import zipfile
from pathlib import Path

from flask import (Blueprint, Response, abort, current_app, jsonify, redirect, render_template, request,
                   url_for)
from flask_login import current_user

from geo.errors import GeoInputError
from geo.row_errors import SHOWN_ROWS
from store import import_jobs
from web import access, db_session
from web.access import allow
from layers.text import format_number
from web.i18n import current_language, error_text, t

bp = Blueprint("imports", __name__)
log = logging.getLogger("bando138.imports")

EXTENSIONS = {".csv": "csv", ".xlsx": "xlsx", ".geojson": "geojson", ".json": "geojson"}
DEFAULT_MAX_BYTES = 100 * 1024 * 1024
SHOWN_GROUPS = 500  # groups of errors on the page; the CSV has every kept row
PROGRESS_INTERVAL_S = 0.5  # at most two progress writes a second (stage changes are always written)


def status_of(job: import_jobs.ImportJob) -> dict:
    """What the progress poller shows (``static/js/import_progress.js``)."""
    return {"id": job.id, "stage": job.stage, "stage_label": t(f"import.stage.{job.stage}"),
            "done": job.done, "total": job.total, "finished": job.finished,
            "progress_text": t("import.progress", done=format_number(job.done, current_language()),
                               total=format_number(job.total, current_language()))}


def _job_for_viewer(job_id: str) -> import_jobs.ImportJob:
    job = import_jobs.get_job(db_session(), job_id)
    if job is None:
        abort(404)
    if job.username != current_user.username and current_user.role != access.ADMIN:
        abort(403)
    return job


def _max_bytes() -> int:
    return int(current_app.config.get("IMPORT_MAX_BYTES", DEFAULT_MAX_BYTES))


def safe_display_name(name: str) -> str:
    """The uploaded name for reports and the import batch: no path, no control characters, ≤ 200 chars."""
    base = re.split(r"[\\/]", name or "")[-1]
    base = "".join(ch for ch in base if ch.isprintable()).strip()
    return base[:200] or "upload"


def sniff(head: bytes, kind: str) -> str | None:
    """Why ``head`` (the first bytes of the file) is not ``kind``, or None when it looks right."""
    if kind == "xlsx":
        return None if head.startswith(b"PK\x03\x04") else "không phải tệp Excel .xlsx (zip) / not an .xlsx (zip) file"
    if b"\x00" in head:
        return "tệp nhị phân / binary file"
    text = head.lstrip(b"\xef\xbb\xbf").lstrip()
    if kind == "geojson":
        return None if text.startswith(b"{") else "không phải JSON / not JSON"
    if text.startswith(b"PK\x03\x04") or text.startswith(b"%PDF") or text.startswith(b"<"):
        return "không phải văn bản CSV / not CSV text"
    try:
        text.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start < len(text) - 4:  # a multi-byte character cut at the sniff boundary is fine
            from geo.textencoding import garbled_characters

            # Not UTF-8: a legacy Vietnamese file (Windows-1258) is detected and read by the import itself.
            if garbled_characters(text.decode("cp1258", errors="replace").replace("\ufffd", "")):
                return ("không phải văn bản UTF-8 hay Windows-1258 / neither UTF-8 nor Windows-1258 text")
    return None


def _save_upload(upload, kind: str) -> Path:
    """Stream the upload to a generated name in the instance folder, refusing more than the limit."""
    folder = Path(current_app.instance_path) / "uploads"
    folder.mkdir(parents=True, exist_ok=True)
    suffix = ".geojson" if kind == "geojson" else f".{kind}"
    handle, name = tempfile.mkstemp(prefix="import-", suffix=suffix, dir=folder)
    limit = _max_bytes()
    written = 0
    try:
        with os.fdopen(handle, "wb") as out:
            while chunk := upload.stream.read(1024 * 1024):
                written += len(chunk)
                if written > limit:
                    raise _UploadRefused(t("import.too_large", mb=limit // (1024 * 1024)))
                out.write(chunk)
    except BaseException:
        Path(name).unlink(missing_ok=True)
        raise
    return Path(name)


class _UploadRefused(Exception):
    pass


def _check_workbook(path: Path) -> str | None:
    try:
        with zipfile.ZipFile(path) as archive:
            if "xl/workbook.xml" not in archive.namelist():
                return "tệp zip không phải bảng tính Excel / a zip file that is not an Excel workbook"
    except zipfile.BadZipFile:
        return "tệp .xlsx hỏng / corrupt .xlsx file"
    return None


class _ProgressWriter:
    """Records an import's progress in the job's row, each time in a short transaction of its own.

    Stage changes are always written, counts within a stage at most every ``PROGRESS_INTERVAL_S``. On SQLite
    the import itself holds the only write lock while it writes its rows, so counts of the write stage are
    not recorded there (the stage is, just before the first row is written); PostgreSQL records them all.
    """

    def __init__(self, db, job_id: str):
        self.db, self.job_id = db, job_id
        self.stage, self.written_at = "queued", 0.0

    def __call__(self, stage: str, done: int, total: int) -> None:
        now = time.monotonic()
        if stage == self.stage and (now - self.written_at < PROGRESS_INTERVAL_S
                                    or (self.db.is_sqlite and stage == "write")):
            return
        self.stage, self.written_at = stage, now
        with self.db.transaction() as session:
            import_jobs.update_progress(session, self.job_id, stage, done, total)


def office_category_map():
    """The office's offence-name map named by the ``CATEGORY_MAP_PATH`` setting, or None when unset.

    Raises GeoInputError when the file is missing or invalid (the reason, without the setting's name: pages
    name no configuration variable, the README does).
    """
    from geo.offences import read_category_map

    configured = current_app.config.get("CATEGORY_MAP_PATH") or ""
    if not configured:
        return None
    try:
        return read_category_map(configured)
    except GeoInputError as exc:
        raise exc from None


def _run(job_id: str, db, path: Path, *, filename: str, username: str, skip_invalid: bool,
         category_map=None, report_folder: Path | None = None) -> None:
    from store.importing import import_incidents

    outcome: dict = {}
    try:
        outcome["report"] = import_incidents(db, path, skip_invalid=skip_invalid, username=username,
                                             filename=filename, progress=_ProgressWriter(db, job_id),
                                             category_map=category_map)
    except (GeoInputError, ValueError) as exc:
        outcome["error"] = import_jobs.refusal_to_keep(exc, {path.name: filename})
    except Exception:  # the traceback goes to the log, never to the page
        log.exception("import job %s failed", job_id)
        outcome["internal_error"] = True
    finally:
        path.unlink(missing_ok=True)
    try:
        with db.transaction() as session:
            import_jobs.finish_job(session, job_id, report_folder=report_folder, **outcome)
    except Exception:
        log.exception("import job %s: the result could not be recorded", job_id)


def start_job(db, path: Path, *, filename: str, username: str, skip_invalid: bool,
              category_map=None) -> import_jobs.ImportJob:
    job_id = uuid.uuid4().hex
    with db.transaction() as session:
        job = import_jobs.create_job(session, job_id, username=username, filename=filename,
                                     skip_invalid=skip_invalid, upload_path=str(path))
    thread = threading.Thread(target=_run, args=(job_id, db, path), name=f"import-{job_id[:8]}", daemon=True,
                              kwargs={"filename": filename, "username": username, "skip_invalid": skip_invalid,
                                      "category_map": category_map,
                                      # the whole per-row error report is kept beside the uploads
                                      "report_folder": Path(current_app.instance_path)})
    thread.start()
    return job


def _office_names():
    """(rows for the page, error) of the office's category map: rows are (name, category label)."""
    from geo.taxonomy import label

    try:
        category_map = office_category_map()
    except GeoInputError as exc:
        return None, error_text(exc)
    if category_map is None:
        return None, ""
    lang = current_language()
    rows = [(name, label("category", code, lang)) for name, code in category_map.entries()]
    return {"rows": rows, "source": Path(category_map.source).name}, ""


def _render_form(error: str = "", status: int = 200):
    recent = import_jobs.recent_jobs(db_session(), None if current_user.role == access.ADMIN
                                     else current_user.username)
    office_names, map_error = _office_names()
    return render_template("imports.html", job=None, error=error, recent=recent, office_names=office_names,
                           map_error=map_error, max_mb=_max_bytes() // (1024 * 1024)), status


@bp.route("/import", methods=["GET", "POST"])
@allow(access.ADMIN, access.PLANNER)
def page():
    if request.method == "GET":
        return _render_form()
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        return _render_form(t("import.no_file"), 400)
    filename = safe_display_name(upload.filename)
    kind = EXTENSIONS.get(Path(filename).suffix.lower())
    if kind is None:
        return _render_form(t("import.bad_extension", name=filename), 400)
    head = upload.stream.read(4096)
    upload.stream.seek(0)
    reason = sniff(head, kind)
    if reason:
        return _render_form(t("import.bad_content", name=filename, kind=kind.upper(), reason=reason), 400)
    try:
        path = _save_upload(upload, kind)
    except _UploadRefused as exc:
        return _render_form(str(exc), 413)
    if kind == "xlsx" and (reason := _check_workbook(path)):
        path.unlink(missing_ok=True)
        return _render_form(t("import.bad_content", name=filename, kind="XLSX", reason=reason), 400)
    try:
        category_map = office_category_map()
    except GeoInputError as exc:
        path.unlink(missing_ok=True)
        return _render_form(t("import.bad_map", reason=error_text(exc)), 500)
    job = start_job(current_app.extensions["db"], path, filename=filename, username=current_user.username,
                    skip_invalid=request.form.get("skip_invalid") in ("1", "on", "true"), category_map=category_map)
    return redirect(url_for("imports.job_page", job_id=job.id), code=303)


@bp.route("/import/template.<any(csv, xlsx):kind>")
@allow(access.ADMIN, access.PLANNER)
def template(kind):
    """The blank incident file (``geo.import_template``): CSV header, or a workbook with accepted values."""
    from geo.import_template import template_csv, template_xlsx

    if kind == "csv":
        body, mimetype = template_csv(), "text/csv; charset=utf-8"
    else:
        body, mimetype = template_xlsx(), "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    response = Response(body, mimetype=mimetype)
    response.headers["Content-Disposition"] = f"attachment; filename=mau-nhap-vu-viec.{kind}"
    return response


@bp.route("/import/<job_id>")
@allow(access.ADMIN, access.PLANNER)
def job_page(job_id: str):
    job = _job_for_viewer(job_id)
    report = job.report
    groups = report.error_groups() if report is not None else []
    return render_template("imports.html", job=job, status=status_of(job), error="", recent=[],
                           error_groups=groups[:SHOWN_GROUPS], more_groups=max(0, len(groups) - SHOWN_GROUPS),
                           shown_rows=SHOWN_ROWS, kept_errors=len(report.errors) if report is not None else 0,
                           error_total=report.error_total if report is not None else 0,
                           errors_by_field=report.errors_by_field if report is not None else {},
                           full_report=import_jobs.error_report_path(current_app.instance_path, job.id).exists(),
                           max_mb=_max_bytes() // (1024 * 1024))


@bp.route("/import/<job_id>/status")
@allow(access.ADMIN, access.PLANNER)
def job_status(job_id: str):
    response = jsonify(status_of(_job_for_viewer(job_id)))
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/import/<job_id>/errors.csv")
@allow(access.ADMIN, access.PLANNER)
def job_errors(job_id: str):
    job = _job_for_viewer(job_id)
    if job.report is None:
        abort(404)
    from store.importing import error_report_csv

    headers = {"Content-Disposition": f'attachment; filename="import-errors-{job.id[:8]}.csv"'}
    full = import_jobs.error_report_path(current_app.instance_path, job.id)
    if full.exists():  # every row error; a job finished before reports were kept has its first ones only
        return Response(_gunzipped(full), mimetype="text/csv", headers=headers)
    return Response(error_report_csv(job.report.errors), mimetype="text/csv", headers=headers)


def _gunzipped(path: Path):
    """The report's text, streamed in pieces (a million refused rows never sit in memory whole)."""
    import gzip

    with gzip.open(path, "rt", encoding="utf-8", newline="") as handle:
        while piece := handle.read(256 * 1024):
            yield piece

"""Incident upload in the web UI: CSV, XLSX or GeoJSON, atomic by default, with a per-row report.

The upload is checked (extension, content sniffing, size), saved under a generated name, and imported by
``store.importing.import_incidents`` in a background thread so the page can show a running count
(``/import/<job>/status`` is polled by ``static/js/import_progress.js``; without JavaScript the page
refreshes itself). Jobs live in the database (:mod:`store.import_jobs`), so with several server processes
(gunicorn workers) a progress poll answered by another process than the one importing still finds the job.
"""
from __future__ import annotations

import csv
import io
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
from store import import_jobs
from web import access, db_session
from web.access import allow
from layers.text import format_number
from web.i18n import add_messages, current_language, t

bp = Blueprint("imports", __name__)
log = logging.getLogger("bando138.imports")

EXTENSIONS = {".csv": "csv", ".xlsx": "xlsx", ".geojson": "geojson", ".json": "geojson"}
DEFAULT_MAX_BYTES = 100 * 1024 * 1024
SHOWN_ERRORS = 500
PROGRESS_INTERVAL_S = 0.5  # at most two progress writes a second (stage changes are always written)

add_messages({
    "import.title": ("Nhập dữ liệu vụ việc", "Import incidents"),
    "import.intro": (
        "Tải lên tệp CSV (UTF-8), Excel (.xlsx) hoặc GeoJSON. Mặc định, nếu có dòng lỗi thì không ghi dòng nào "
        "và hiển thị báo cáo lỗi từng dòng. Nhập lại cùng một tệp không làm thay đổi dữ liệu (cập nhật theo mã vụ).",
        "Upload a CSV (UTF-8), Excel (.xlsx) or GeoJSON file. By default, if any row is invalid nothing is "
        "written and a per-row error report is shown. Importing the same file again changes nothing "
        "(upsert by case id).",
    ),
    "import.file": ("Tệp dữ liệu", "Data file"),
    "import.skip_invalid": ("Chỉ nhập các dòng hợp lệ (bỏ qua dòng lỗi)", "Import valid rows only (skip invalid rows)"),
    "import.submit": ("Nhập dữ liệu", "Import"),
    "import.limit": ("Định dạng: .csv, .xlsx, .geojson; tối đa {mb} MB.", "Formats: .csv, .xlsx, .geojson; at most {mb} MB."),
    "import.columns": (
        "Cột bắt buộc: id, occurred_at, category, severity, case_status, lon, lat (tên cột tiếng Việt như "
        "ma_vu, ngay_xay_ra, loai, muc_do, trang_thai, kinh_do, vi_do cũng được chấp nhận).",
        "Required columns: id, occurred_at, category, severity, case_status, lon, lat (Vietnamese names such "
        "as ma_vu, ngay_xay_ra, loai, muc_do, trang_thai, kinh_do, vi_do are accepted too).",
    ),
    "import.no_file": ("Chưa chọn tệp.", "No file chosen."),
    "import.bad_extension": ("Tệp {name} không phải .csv, .xlsx hoặc .geojson.",
                             "File {name} is not .csv, .xlsx or .geojson."),
    "import.bad_content": ("Nội dung tệp {name} không đúng định dạng {kind}: {reason}",
                           "The content of {name} is not valid {kind}: {reason}"),
    "import.too_large": ("Tệp vượt quá {mb} MB.", "The file exceeds {mb} MB."),
    "import.running": ("Đang nhập {name}…", "Importing {name}…"),
    "import.progress": ("Đã xử lý {done} / {total} dòng", "Processed {done} / {total} rows"),
    "import.stage.queued": ("Đang chờ", "Queued"),
    "import.stage.read": ("Đọc tệp", "Reading the file"),
    "import.stage.validate": ("Kiểm tra và xác định xã", "Validating and assigning communes"),
    "import.stage.write": ("Ghi vào cơ sở dữ liệu", "Writing to the database"),
    "import.stage.done": ("Hoàn tất", "Finished"),
    "import.stage.failed": ("Thất bại", "Failed"),
    "import.result": ("Kết quả nhập {name}", "Result of importing {name}"),
    "import.rows": ("Số dòng trong tệp", "Rows in the file"),
    "import.written": ("Số vụ ghi mới hoặc cập nhật", "Incidents added or updated"),
    "import.unchanged": ("Số vụ không đổi", "Unchanged incidents"),
    "import.refused": ("Số dòng bị từ chối", "Rows refused"),
    "import.committed": ("Đã ghi vào cơ sở dữ liệu.", "Written to the database."),
    "import.nothing_written": (
        "Không ghi dòng nào vì tệp có dòng lỗi. Sửa các dòng dưới đây, hoặc chọn «Chỉ nhập các dòng hợp lệ».",
        "Nothing was written because the file has invalid rows. Fix the rows below, or choose "
        "“Import valid rows only”.",
    ),
    "import.errors": ("Báo cáo lỗi từng dòng", "Per-row error report"),
    "import.row": ("Dòng", "Row"),
    "import.field": ("Trường", "Field"),
    "import.value": ("Giá trị", "Value"),
    "import.reason": ("Lý do", "Reason"),
    "import.more_errors": ("… và {n} lỗi khác (tải báo cáo đầy đủ).", "… and {n} more errors (download the full report)."),
    "import.download_errors": ("Tải báo cáo lỗi (CSV)", "Download the error report (CSV)"),
    "import.failed": ("Không nhập được tệp: {reason}", "The file could not be imported: {reason}"),
    "import.again": ("Nhập tệp khác", "Import another file"),
    "import.row_numbering": (
        "Số dòng tính từ dòng dữ liệu đầu tiên, không tính dòng tiêu đề (GeoJSON: số thứ tự đối tượng).",
        "Rows are counted from the first data row; the header line is not counted (GeoJSON: feature number).",
    ),
    "import.recent": ("Các lần nhập gần đây", "Recent imports"),
    "import.js_needed": ("Trang tự tải lại để cập nhật tiến độ.", "The page reloads itself to update progress."),
})


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
            return "không phải UTF-8 / not UTF-8"
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


def _run(job_id: str, db, path: Path, *, filename: str, username: str, skip_invalid: bool) -> None:
    from store.importing import import_incidents

    outcome: dict = {}
    try:
        outcome["report"] = import_incidents(db, path, skip_invalid=skip_invalid, username=username,
                                             filename=filename, progress=_ProgressWriter(db, job_id))
    except (GeoInputError, ValueError) as exc:
        outcome["error"] = str(exc).replace(path.name, filename)
    except Exception:  # the traceback goes to the log, never to the page
        log.exception("import job %s (%s) failed", job_id, filename)
        outcome["internal_error"] = True
    finally:
        path.unlink(missing_ok=True)
    try:
        with db.transaction() as session:
            import_jobs.finish_job(session, job_id, **outcome)
    except Exception:
        log.exception("import job %s (%s): the result could not be recorded", job_id, filename)


def start_job(db, path: Path, *, filename: str, username: str, skip_invalid: bool) -> import_jobs.ImportJob:
    job_id = uuid.uuid4().hex
    with db.transaction() as session:
        job = import_jobs.create_job(session, job_id, username=username, filename=filename,
                                     skip_invalid=skip_invalid)
    thread = threading.Thread(target=_run, args=(job_id, db, path), name=f"import-{job_id[:8]}", daemon=True,
                              kwargs={"filename": filename, "username": username, "skip_invalid": skip_invalid})
    thread.start()
    return job


def _render_form(error: str = "", status: int = 200):
    recent = import_jobs.recent_jobs(db_session(), None if current_user.role == access.ADMIN
                                     else current_user.username)
    return render_template("imports.html", job=None, error=error, recent=recent,
                           max_mb=_max_bytes() // (1024 * 1024)), status


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
    job = start_job(current_app.extensions["db"], path, filename=filename, username=current_user.username,
                    skip_invalid=request.form.get("skip_invalid") in ("1", "on", "true"))
    return redirect(url_for("imports.job_page", job_id=job.id), code=303)


@bp.route("/import/<job_id>")
@allow(access.ADMIN, access.PLANNER)
def job_page(job_id: str):
    job = _job_for_viewer(job_id)
    errors = list(job.report.errors) if job.report is not None else []
    return render_template("imports.html", job=job, status=status_of(job), error="", recent=[],
                           errors=errors[:SHOWN_ERRORS],
                           more_errors=max(0, len(errors) - SHOWN_ERRORS), max_mb=_max_bytes() // (1024 * 1024))


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
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["row", "field", "value", "reason"])
    for error in job.report.errors:
        # A leading = + - @ would run as a formula when the report is opened in a spreadsheet.
        writer.writerow([error.row, error.field, _no_formula(str(error.value)), _no_formula(error.reason)])
    return Response("\ufeff" + buffer.getvalue(), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="import-errors-{job.id[:8]}.csv"'})


def _no_formula(value: str) -> str:
    return "'" + value if value[:1] in ("=", "+", "-", "@") else value

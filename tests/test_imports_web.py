"""Incident upload page: file checks, atomic import with a per-row report, skip-invalid, progress, roles."""
from __future__ import annotations

import io
import json
import time

import pytest
from sqlalchemy import func, select

from store.models import Incident

HEADER = "id,occurred_at,category,severity,case_status,lon,lat,description\n"
GOOD_ROWS = ("W-1,2024-03-01,Trộm cắp tài sản,serious,received,105.6330,10.4560,xe máy\n"
             "W-2,02/04/2024,drugs,Nghiêm trọng,Khởi tố,105.4640,10.8720,\n")
BAD_ROWS = ("W-3,2024-03-05,xyz,serious,received,105.6330,10.4560,\n"
            "W-4,2024-03-06,theft,serious,received,100.0,10.0,<script>alert(1)</script>\n")


def incident_count(db) -> int:
    with db.transaction() as session:
        return session.scalar(select(func.count()).select_from(Incident))


def upload(client, token, name, content: bytes, **form):
    data = {"file": (io.BytesIO(content), name), **form}
    if token is not None:
        data["csrf_token"] = token
    return client.post("/import", data=data, content_type="multipart/form-data")


def finished_job(client, response, timeout: float = 20.0):
    """Follow the redirect to the job, poll its status until it is done, and return the result page."""
    assert response.status_code == 303, response.get_data(as_text=True)[:500]
    job_url = response.headers["Location"]
    deadline = time.monotonic() + timeout
    while True:
        status = client.get(job_url + "/status").get_json()
        if status["finished"]:
            break
        assert time.monotonic() < deadline, f"import did not finish: {status}"
        time.sleep(0.05)
    assert status["done"] >= 0 and "dòng" in status["progress_text"]
    return client.get(job_url).get_data(as_text=True), job_url


def test_page_offers_the_form_with_csrf_and_skip_option(login, client):
    login("planner")
    page = client.get("/import").get_data(as_text=True)
    assert 'enctype="multipart/form-data"' in page
    assert 'name="csrf_token"' in page and 'name="skip_invalid"' in page
    assert "Chỉ nhập các dòng hợp lệ" in page


def test_good_csv_is_imported_and_reimport_changes_nothing(login, client, db):
    login("planner")
    page, _ = finished_job(client, upload(client, login.csrf_token, "vu_viec.csv", (HEADER + GOOD_ROWS).encode()))
    assert "Đã ghi vào cơ sở dữ liệu" in page
    assert 'id="import-written">2<' in page
    assert incident_count(db) == 2
    again, _ = finished_job(client, upload(client, login.csrf_token, "vu_viec.csv", (HEADER + GOOD_ROWS).encode()))
    assert 'id="import-written">0<' in again
    assert incident_count(db) == 2
    with db.transaction() as session:
        batch_names = session.execute(select(Incident.import_batch_id)).all()
    assert batch_names


def test_bad_rows_are_reported_by_reason_and_nothing_is_written(login, client, db):
    login("planner")
    page, job_url = finished_job(
        client, upload(client, login.csrf_token, "loi.csv", (HEADER + GOOD_ROWS + BAD_ROWS).encode()))
    assert "Không ghi dòng nào" in page
    assert incident_count(db) == 0
    assert 'id="import-refused">2<' in page
    table = page.split('class="data import-errors"', 1)[1].split("</table>", 1)[0]
    # One line per reason: rows refused, field, the value, the reason and the rows to look at.
    assert "<td class=\"num\">1</td><td>category</td><td><code>xyz</code></td>" in table
    assert "không phải tên tội danh đã biết" in table and "<td>3</td>" in table  # the page's language
    assert "<td>4</td>" in table
    assert "Lỗi theo nguyên nhân" in page and "Tải báo cáo lỗi từng dòng (CSV)" in page
    assert "<script>alert(1)</script>" not in page
    report = client.get(job_url + "/errors.csv").get_data(as_text=True)
    assert report.lstrip("\ufeff").startswith("row,field,value,reason")
    assert "3,category,xyz," in report


def test_skip_invalid_imports_the_valid_rows_and_reports_the_rest(login, client, db):
    login("planner")
    page, _ = finished_job(client, upload(client, login.csrf_token, "loi.csv",
                                          (HEADER + GOOD_ROWS + BAD_ROWS).encode(), skip_invalid="1"))
    assert "Đã ghi vào cơ sở dữ liệu" in page
    assert incident_count(db) == 2
    assert "xyz" in page


def test_xlsx_and_geojson_uploads(login, client, db):
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["ma_vu", "ngay_xay_ra", "loai", "muc_do", "trang_thai", "kinh_do", "vi_do"])
    sheet.append(["X-1", "2024-05-01", "Đánh bạc", "Ít nghiêm trọng", "Tiếp nhận", 105.633, 10.456])
    buffer = io.BytesIO()
    workbook.save(buffer)
    login("admin")
    page, _ = finished_job(client, upload(client, login.csrf_token, "bang.xlsx", buffer.getvalue()))
    assert 'id="import-written">1<' in page
    geojson = {"type": "FeatureCollection", "features": [{
        "type": "Feature", "geometry": {"type": "Point", "coordinates": [105.464, 10.872]},
        "properties": {"id": "G-1", "occurred_at": "2024-06-01", "category": "smuggling",
                       "severity": "serious", "case_status": "received"}}]}
    page, _ = finished_job(client, upload(client, login.csrf_token, "diem.geojson", json.dumps(geojson).encode()))
    assert 'id="import-written">1<' in page
    assert incident_count(db) == 2


@pytest.mark.parametrize("name, content", [
    ("vu_viec.pdf", b"%PDF-1.4 ..."),                    # extension not allowed
    ("vu_viec.csv", b"PK\x03\x04 zipped"),               # a zip posing as CSV
    ("vu_viec.csv", b"id,x\n\x00\x01\x02"),              # binary
    ("vu_viec.xlsx", HEADER.encode()),                   # text posing as a workbook
    ("vu_viec.xlsx", b"PK\x03\x04 not really a zip"),    # corrupt workbook
    ("vu_viec.geojson", b"id,occurred_at\n1,2"),         # CSV posing as GeoJSON
])
def test_wrong_file_types_are_refused_before_import(login, client, db, name, content):
    login("planner")
    response = upload(client, login.csrf_token, name, content)
    assert response.status_code == 400
    assert 'id="import-error"' in response.get_data(as_text=True)
    assert incident_count(db) == 0


def test_unreadable_content_fails_the_job_with_a_message(login, client, db):
    login("planner")
    page, _ = finished_job(client, upload(client, login.csrf_token, "x.geojson", b'{"type": "Feature"}'))
    assert "Không nhập được tệp" in page and "FeatureCollection" in page
    assert incident_count(db) == 0


def test_upload_over_the_size_limit_is_refused(app, login, client, db):
    app.config["IMPORT_MAX_BYTES"] = 64
    login("planner")
    response = upload(client, login.csrf_token, "lon.csv", (HEADER + GOOD_ROWS * 5).encode())
    assert response.status_code == 413
    assert incident_count(db) == 0


def test_missing_file_is_refused(login, client):
    login("planner")
    response = client.post("/import", data={"csrf_token": login.csrf_token}, content_type="multipart/form-data")
    assert response.status_code == 400


def test_post_without_csrf_token_is_refused(login, client, db):
    login("planner")
    response = upload(client, None, "vu_viec.csv", (HEADER + GOOD_ROWS).encode())
    assert response.status_code == 400
    assert incident_count(db) == 0


@pytest.mark.parametrize("username", ["district_869", "guard"])
def test_district_and_border_guard_roles_may_not_import(login, client, db, username):
    login(username)
    assert client.get("/import").status_code == 403
    response = upload(client, login.csrf_token, "vu_viec.csv", (HEADER + GOOD_ROWS).encode())
    assert response.status_code == 403
    assert incident_count(db) == 0


def test_a_job_is_visible_only_to_its_owner_and_admin(app, login, client, db):
    login("planner")
    _, job_url = finished_job(client, upload(client, login.csrf_token, "vu_viec.csv", (HEADER + GOOD_ROWS).encode()))
    other = app.test_client()
    from tests.conftest import SignIn

    SignIn(other)("admin")
    assert other.get(job_url).status_code == 200
    third = app.test_client()
    from store.models import User
    from web.auth import create_user

    with db.transaction() as session:
        if session.scalar(select(User).where(User.username == "planner2")) is None:
            from tests.conftest import PASSWORD

            create_user(session, "planner2", PASSWORD, "planner", None, actor="test")
    SignIn(third)("planner2")
    assert third.get(job_url).status_code == 403
    assert third.get(job_url + "/status").status_code == 403
    assert client.get("/import/does-not-exist").status_code == 404


def test_windows_1258_semicolon_csv_is_imported_and_the_encoding_shown(login, client, db):
    from tests.vn_files import encode_cp1258

    content = (HEADER + GOOD_ROWS).replace(",", ";")
    content = content.replace("105.6330", "105,6330").replace("10.4560", "10,4560")
    login("planner")
    page, _ = finished_job(client, upload(client, login.csrf_token, "excel.csv", encode_cp1258(content)))
    assert 'id="import-written">2<' in page
    assert "Windows-1258 (tự nhận biết)" in page and "«;»" in page
    with db.transaction() as session:
        assert session.scalar(select(Incident.description).where(Incident.id == "W-1")) == "xe máy"


def test_garbled_csv_is_refused_before_import(login, client, db):
    login("planner")
    response = upload(client, login.csrf_token, "x.csv", b"id,category\n1," + bytes(range(0x80, 0xA0)) * 3 + b"\n")
    assert response.status_code == 400 and "Windows-1258" in response.get_data(as_text=True)


def test_office_category_map_setting_is_used_and_shown(app, login, client, db, tmp_path):
    mapping = tmp_path / "ten_rieng.csv"
    mapping.write_text("ten,loai\nbài cào,gambling\nĐiều 227,environment\n", encoding="utf-8")
    app.config["CATEGORY_MAP_PATH"] = str(mapping)
    try:
        login("planner")
        page = client.get("/import").get_data(as_text=True)
        section = page.split('id="office-names"', 1)[1].split("</details>", 1)[0]
        assert "ten_rieng.csv" in section and "<td>bài cào</td><td>Đánh bạc, tổ chức đánh bạc</td>" in section
        assert "<td>Điều 227</td><td>Môi trường</td>" in section
        content = HEADER + "M-1,2024-03-01,Bài cào,serious,received,105.6330,10.4560,\n"
        result, _ = finished_job(client, upload(client, login.csrf_token, "m.csv", content.encode()))
        assert 'id="import-written">1<' in result
        with db.transaction() as session:
            assert session.scalar(select(Incident.category).where(Incident.id == "M-1")) == "gambling"
        mapping.write_text("ten,loai\nbài cào,không có\n", encoding="utf-8")
        page = client.get("/import").get_data(as_text=True)
        assert 'id="import-map-error"' in page and "không có" in page
        assert "BANDO_" not in page  # the page names no configuration variable (the README does)
        response = upload(client, login.csrf_token, "m.csv", content.encode())
        assert response.status_code == 500 and "không dùng được" in response.get_data(as_text=True)
    finally:
        app.config.pop("CATEGORY_MAP_PATH")


def test_many_rows_with_one_mistake_make_one_line_with_the_first_rows(login, client, db):
    login("planner")
    bad = [f"CA-{i:03d},2024-03-05,bói toán,less_serious,received,105.6330,10.4560,\n" for i in range(30)]
    page, job_url = finished_job(client, upload(client, login.csrf_token, "nhieu_loi.csv",
                                                (HEADER + "".join(bad)).encode()))
    table = page.split('class="data import-errors"', 1)[1].split("</table>", 1)[0]
    assert table.count("<tr>") == 2  # the header and one group
    assert "<td class=\"num\">30</td><td>category</td><td><code>bói toán</code></td>" in table
    assert "<td>" + ", ".join(str(r) for r in range(1, 21)) + ", …</td>" in table
    report = client.get(job_url + "/errors.csv").get_data(as_text=True)
    assert len(report.strip().splitlines()) == 31  # the header and every refused row

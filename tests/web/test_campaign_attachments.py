"""检查附件: upload by content type and size, all or nothing, served only to staff who may see."""

import base64
import io
import re
import stat
from pathlib import Path

import pytest
from sqlalchemy import text

from tests.helpers import HX, campaign_id, csrf_token, inspect, start
from webapp import attachments

PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=="
)
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


@pytest.fixture
def store_dir(app, tmp_path) -> Path:
    directory = tmp_path / "attachments"
    app.config["ATTACHMENT_DIR"] = str(directory)
    return directory


@pytest.fixture
def center(client, auth, store_dir):
    auth.login("center")
    return client


def an_inspection(client, connection, compound_id: int = 1) -> tuple[int, int]:
    """(campaign id, inspection id) of a fresh campaign with one inspection."""
    start(client, "compound", compound_id, "平安小区")
    cid = campaign_id(connection, "compound", compound_id)
    # Inspections start once the work has (创建中).
    connection.execute(text("UPDATE campaign SET state = '创建中' WHERE id = :c"), {"c": cid})
    assert inspect(client, cid, "90", all_pass=True).status_code == 200
    iid = connection.execute(
        text("SELECT id FROM campaign_inspection WHERE campaign_id = :c"), {"c": cid}
    ).scalar_one()
    return cid, iid


def upload(client, cid: int, iid: int, files, token: bool = True):
    # Any form of the session carries its token (a refused user's panel shows no form).
    page = client.get("/account/password").get_data(as_text=True)
    data = {"file": [(io.BytesIO(content), name) for name, content in files]}
    if token:
        data["csrf_token"] = csrf_token(page)
    return client.post(
        f"/campaigns/inspections/{iid}/attachments",
        data=data,
        content_type="multipart/form-data",
        headers=HX,
    )


def stored_rows(connection, iid: int) -> list:
    return connection.execute(
        text(
            "SELECT id, file_name, stored_name, content_type, size_bytes, sha256"
            " FROM campaign_attachment WHERE inspection_id = :i ORDER BY id"
        ),
        {"i": iid},
    ).all()


def stored_files(directory: Path) -> list[Path]:
    return [p for p in directory.rglob("*") if p.is_file()] if directory.exists() else []


def test_photos_and_pdfs_are_stored_outside_the_web_root_and_served_to_staff(
    center, connection, store_dir, app
):
    cid, iid = an_inspection(center, connection)
    response = upload(center, cid, iid, [("现场照片.png", PNG), ("验收报告.pdf", PDF)])
    html = response.get_data(as_text=True)
    assert response.status_code == 200, html
    assert "已上传检查附件 2 个" in html
    rows = stored_rows(connection, iid)
    assert [(r.file_name, r.content_type, r.size_bytes) for r in rows] == [
        ("现场照片.png", "image/png", len(PNG)),
        ("验收报告.pdf", "application/pdf", len(PDF)),
    ]
    files = stored_files(store_dir)
    assert len(files) == 2
    static = Path(app.static_folder).resolve()
    for row in rows:
        path = store_dir / row.stored_name[:2] / row.stored_name
        assert path in files and not path.resolve().is_relative_to(static)
        assert "现场" not in row.stored_name and "报告" not in row.stored_name
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        assert len(row.sha256) == 64
    # The panel lists them, with links to the guarded route.
    for row in rows:
        assert f'href="/campaigns/attachments/{row.id}"' in html
    assert "现场照片.png" in html and 'name="file"' in html

    photo = center.get(f"/campaigns/attachments/{rows[0].id}")
    assert photo.status_code == 200 and photo.data == PNG
    assert photo.mimetype == "image/png"
    assert photo.headers["Content-Disposition"] == (
        "inline; filename*=UTF-8''%E7%8E%B0%E5%9C%BA%E7%85%A7%E7%89%87.png"
    )
    assert photo.headers["X-Content-Type-Options"] == "nosniff"
    assert photo.headers["Cache-Control"] == "private, no-store"
    report = center.get(f"/campaigns/attachments/{rows[1].id}")
    assert report.status_code == 200 and report.mimetype == "application/pdf"
    assert report.data == PDF

    summary = connection.execute(
        text("SELECT summary FROM audit_log WHERE entity = 'campaign' ORDER BY id DESC LIMIT 1")
    ).scalar()
    assert "上传检查附件 2 个" in summary


def test_the_default_store_is_outside_static(app):
    default = Path(app.config["ATTACHMENT_DIR"]).resolve()
    assert not default.is_relative_to(Path(app.static_folder).resolve())


def test_only_staff_who_may_see_the_campaign_download(client, auth, connection, store_dir):
    other = connection.execute(
        text("SELECT min(id) FROM compound WHERE community_id <> 1")
    ).scalar()
    auth.login("center")
    cid, iid = an_inspection(client, connection, other)
    assert upload(client, cid, iid, [("a.png", PNG)]).status_code == 200
    (attachment_id,) = stored_rows(connection, iid)[0][:1]
    url = f"/campaigns/attachments/{attachment_id}"
    auth.logout()

    anonymous = client.get(url)
    assert anonymous.status_code in (302, 401) and anonymous.data != PNG
    for role in ("community", "grid", "admin", "auditor"):
        auth.login(role)
        refused = client.get(url)
        assert refused.status_code == 403, role
        assert refused.data != PNG
        auth.logout()
    auth.login("planner")
    assert client.get(url).status_code == 200
    assert client.get("/campaigns/attachments/999999").status_code == 404


def test_another_community_cannot_upload(client, auth, connection, store_dir):
    other = connection.execute(
        text("SELECT min(id) FROM compound WHERE community_id <> 1")
    ).scalar()
    auth.login("center")
    cid, iid = an_inspection(client, connection, other)
    auth.logout()
    auth.login("community")
    assert upload(client, cid, iid, [("a.png", PNG)]).status_code == 403
    assert stored_rows(connection, iid) == [] and stored_files(store_dir) == []


def test_a_missing_file_is_not_found(center, connection, store_dir):
    cid, iid = an_inspection(center, connection)
    upload(center, cid, iid, [("a.pdf", PDF)])
    row = stored_rows(connection, iid)[0]
    (store_dir / row.stored_name[:2] / row.stored_name).unlink()
    assert center.get(f"/campaigns/attachments/{row.id}").status_code == 404


def test_a_text_file_named_png_is_refused(center, connection, store_dir):
    cid, iid = an_inspection(center, connection)
    response = upload(center, cid, iid, [("photo.png", b"just some text, not a picture\n")])
    assert response.status_code == 422
    assert "不是 JPEG、PNG 图片或 PDF" in response.get_data(as_text=True)
    assert stored_rows(connection, iid) == [] and stored_files(store_dir) == []


def test_a_file_over_the_limit_is_refused(center, connection, store_dir, app):
    app.config["ATTACHMENT_MAX_MB"] = 1
    cid, iid = an_inspection(center, connection)
    big = PNG + b"\0" * (1536 * 1024)
    response = upload(center, cid, iid, [("big.png", big)])
    assert response.status_code == 413
    assert "超过 1 MB" in response.get_data(as_text=True)
    assert stored_rows(connection, iid) == [] and stored_files(store_dir) == []


@pytest.mark.parametrize("name", ["../../etc/passwd.png", "a/b.png", "..\\x.pdf"])
def test_a_path_in_the_file_name_is_refused(center, connection, store_dir, name):
    cid, iid = an_inspection(center, connection)
    content = PDF if name.endswith(".pdf") else PNG
    response = upload(center, cid, iid, [(name, content)])
    assert response.status_code == 422
    assert "路径" in response.get_data(as_text=True)
    assert stored_rows(connection, iid) == [] and stored_files(store_dir) == []


def test_a_backslash_path_sent_as_an_extended_file_name_is_refused(center, connection, store_dir):
    # werkzeug unescapes a backslash in a quoted filename; filename* keeps it.
    cid, iid = an_inspection(center, connection)
    token = csrf_token(center.get(f"/campaigns/{cid}", headers=HX).get_data(as_text=True))
    body = (
        b'--XX\r\nContent-Disposition: form-data; name="csrf_token"\r\n\r\n'
        + token.encode()
        + b'\r\n--XX\r\nContent-Disposition: form-data; name="file";'
        b" filename*=UTF-8''dir%5Creport.pdf\r\nContent-Type: application/pdf\r\n\r\n"
        + PDF
        + b"\r\n--XX--\r\n"
    )
    response = center.post(
        f"/campaigns/inspections/{iid}/attachments",
        data=body,
        content_type="multipart/form-data; boundary=XX",
        headers=HX,
    )
    assert response.status_code == 422 and "路径" in response.get_data(as_text=True)
    assert stored_rows(connection, iid) == [] and stored_files(store_dir) == []


def test_an_upload_without_csrf_is_refused(center, connection, store_dir):
    cid, iid = an_inspection(center, connection)
    assert upload(center, cid, iid, [("a.png", PNG)], token=False).status_code == 400
    assert stored_rows(connection, iid) == [] and stored_files(store_dir) == []


def test_one_bad_file_stores_nothing(center, connection, store_dir):
    cid, iid = an_inspection(center, connection)
    response = upload(center, cid, iid, [("good.png", PNG), ("bad.pdf", b"<html>no</html>")])
    assert response.status_code == 422
    assert "bad.pdf" in response.get_data(as_text=True)
    assert stored_rows(connection, iid) == [] and stored_files(store_dir) == []


def test_no_file_chosen_is_a_clear_refusal(center, connection, store_dir):
    cid, iid = an_inspection(center, connection)
    response = upload(center, cid, iid, [])
    assert response.status_code == 422 and "请选择" in response.get_data(as_text=True)


# ---- the pure helpers ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"\xff\xd8\xff\xe0rest", "image/jpeg"),
        (PNG, "image/png"),
        (PDF, "application/pdf"),
        (b"GIF89a", None),
        (b"<svg/>", None),
        (b"", None),
    ],
)
def test_sniff_by_magic_bytes(data, expected):
    assert attachments.sniff(data) == expected


def test_clean_name_keeps_chinese_drops_control_characters_and_truncates():
    assert attachments.clean_name(" 整改\t照片\r.jpg ") == "整改照片.jpg"
    long = attachments.clean_name("照" * 200 + ".pdf")
    assert len(long) == attachments.NAME_MAX and long.endswith(".pdf")
    for bad in ("a\\b.png", "C:\\x.png", "x\x00.png", "/etc/passwd", ".."):
        with pytest.raises(attachments.AttachmentError, match="路径"):
            attachments.clean_name(bad)
    with pytest.raises(attachments.AttachmentError):
        attachments.clean_name("\x01\x02")


def test_stored_paths_stay_inside_the_directory(tmp_path):
    name, digest = attachments.store(tmp_path, PNG)
    assert re.fullmatch(r"[0-9a-f]{32}\.png", name) and len(digest) == 64
    assert attachments.path_of(tmp_path, name).read_bytes() == PNG
    for forged in ("../x.png", "ab/../../x.png", name.replace(".png", ".html")):
        with pytest.raises(ValueError):
            attachments.path_of(tmp_path, forged)

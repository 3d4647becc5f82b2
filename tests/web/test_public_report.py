"""随手拍 on the public page: report → receipt → state; bad input; the flood; receipt privacy."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from sqlalchemy import select, text

from tests.helpers import HX, count, csrf_token
from webapp.domain.events import Step
from webapp.events.workflow import Dispatch, take_step
from webapp.extensions import limiter
from webapp.lookup.reports import RECEIPT_ALPHABET, RECEIPT_LENGTH, new_receipt, show_receipt
from webapp.models import GridEvent, User

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 200
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 200
PDF = b"%PDF-1.4\n" + b"\x00" * 200


@pytest.fixture
def photo_dir(app, tmp_path) -> Path:
    directory = tmp_path / "attachments"
    app.config["ATTACHMENT_DIR"] = str(directory)
    return directory


def stored_files(directory: Path) -> list[Path]:
    return [p for p in directory.rglob("*") if p.is_file()] if directory.exists() else []


def public_kind(connection, public: bool = True, name: str | None = None) -> int:
    sql = "SELECT id FROM event_category WHERE parent_id IS NOT NULL AND public = :p"
    if name:
        sql += " AND name = :n"
    return connection.execute(text(sql + " ORDER BY id LIMIT 1"), {"p": public, "n": name}).scalar()


def a_point(connection) -> tuple[float, float]:
    return connection.execute(
        text(
            "SELECT ST_X(p), ST_Y(p) FROM (SELECT ST_PointOnSurface(geom) p FROM grid"
            " ORDER BY id LIMIT 1) q"
        )
    ).one()


def form(client, connection, **changes) -> dict:
    page = client.get("/lookup/report").get_data(as_text=True)
    lon, lat = a_point(connection)
    data = {
        "csrf_token": csrf_token(page),
        "lon": f"{lon:.6f}",
        "lat": f"{lat:.6f}",
        "category_id": str(public_kind(connection)),
        "description": "小区东门消防通道堆满杂物",
        "phone": "13912345678",
        "photo": (io.BytesIO(PNG), "现场.png"),
    }
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def post(client, data, **kwargs):
    return client.post("/lookup/report", data=data, content_type="multipart/form-data", **kwargs)


def receipt_of(response) -> str:
    match = re.search(r"code=([A-Z0-9-]+)", response.headers["Location"])
    assert match, response.headers["Location"]
    return match.group(1)


def test_the_form_offers_the_public_kinds_only(client, connection):
    html = client.get("/lookup/report").get_data(as_text=True)
    public = connection.execute(
        text("SELECT name FROM event_category WHERE parent_id IS NOT NULL AND public")
    ).scalars()
    hidden = connection.execute(
        text("SELECT name FROM event_category WHERE parent_id IS NOT NULL AND NOT public")
    ).scalars()
    assert all(name in html for name in public)
    assert not [name for name in hidden if f">{name}<" in html]
    assert 'name="csrf_token"' in html


def test_a_report_returns_a_receipt_that_shows_its_state(client, connection, photo_dir):
    response = post(client, form(client, connection))
    assert response.status_code == 303
    shown = receipt_of(response)
    code = shown.replace("-", "")
    assert len(code) == RECEIPT_LENGTH and set(code) <= set(RECEIPT_ALPHABET)
    event_id, number, source, state, phone, grid = connection.execute(
        text(
            "SELECT id, number, source, state, reporter_phone, grid_id FROM grid_event"
            " WHERE receipt = :r"
        ),
        {"r": code},
    ).one()
    assert (source, state) == ("居民随手拍", "待受理")
    assert grid is not None
    assert phone and "13912345678" not in phone  # stored encrypted
    photos = connection.execute(
        text("SELECT stage, content_type, stored_name FROM event_photo WHERE event_id = :e"),
        {"e": event_id},
    ).all()
    assert [(p.stage, p.content_type) for p in photos] == [("处置前", "image/png")]
    assert [p.name for p in stored_files(photo_dir)] == [photos[0].stored_name]

    page = client.get(response.headers["Location"])
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert number in html and shown in html and "提交成功" in html
    assert "已提交,等待受理" in html and "上报" in html
    # Nothing but the state and steps: not the description, the phone or the photo.
    assert "消防通道" not in html and "13912345678" not in html and "139****5678" not in html
    assert "event_photo" not in html and photos[0].stored_name not in html
    assert "/photos/" not in html  # no link to the event's photo either


def test_an_htmx_report_is_redirected_to_its_receipt(client, connection, photo_dir):
    response = post(client, form(client, connection, photo=None), headers=HX)
    assert response.status_code == 201
    assert response.headers["HX-Redirect"].startswith("/lookup/receipt?code=")


def test_the_receipt_follows_the_staff_steps_and_hides_their_words(
    client, connection, db, photo_dir
):
    code = receipt_of(post(client, form(client, connection))).replace("-", "")
    event = db.scalars(select(GridEvent).where(GridEvent.receipt == code)).one()
    center = db.scalars(select(User).where(User.username == "center")).one()
    take_step(db, event, Step.ACCEPT, center, version=event.version, comment="已电话联系王小明")
    take_step(
        db,
        event,
        Step.DISPATCH,
        center,
        version=event.version,
        dispatch=Dispatch("网格", grid_id=event.grid_id),
    )
    db.commit()
    html = client.get("/lookup/receipt", query_string={"code": code.lower()}).get_data(as_text=True)
    assert "正在处置" in html
    assert html.index("上报") < html.index("受理") < html.index("派遣")
    assert "王小明" not in html and "center" not in html and "网格:" not in html


@pytest.mark.parametrize(
    ("changes", "status", "message"),
    [
        ({"photo": (io.BytesIO(b"just text, not a picture"), "a.jpg")}, 422, "不是"),
        ({"photo": (io.BytesIO(PDF), "a.pdf")}, 415, "不是照片"),
        ({"photo": (io.BytesIO(JPEG + b"\x00" * (11 * 1024 * 1024)), "big.jpg")}, 413, "10 MB"),
        ({"photo": (io.BytesIO(JPEG + b"\x00" * (30 * 1024 * 1024)), "huge.jpg")}, 413, "10 MB"),
        ({"lon": "100.0", "lat": "30.0"}, 422, "不在本街道范围内"),
        ({"lon": "", "lat": ""}, 422, "点选问题所在的位置"),
        ({"lon": "nan", "lat": "inf"}, 422, "点选问题所在的位置"),
        ({"lon": "500", "lat": "36"}, 400, "坐标无效"),
        ({"category_id": "99999"}, 422, "有效的事件类别"),
        ({"category_id": "<b>"}, 422, "有效的事件类别"),
        ({"category_id": "99999999999"}, 422, "有效的事件类别"),
        ({"description": "<script>alert(1)</script>"}, 400, "不能包含"),
        ({"description": "  "}, 400, "请填写问题描述"),
        ({"description": "长" * 501}, 400, "最多 500 字"),
        ({"phone": "call me maybe"}, 422, "手机号"),
    ],
)
def test_bad_input_is_refused_in_chinese_and_writes_nothing(
    client, connection, photo_dir, changes, status, message
):
    before = count(connection, "SELECT count(*) FROM grid_event")
    photos = count(connection, "SELECT count(*) FROM event_photo")
    for headers in ({}, HX):
        data = form(client, connection, **changes)
        if "photo" in changes:  # a stream is read once
            stream, name = changes["photo"]
            stream.seek(0)
            data["photo"] = (io.BytesIO(stream.read()), name)
        response = post(client, data, headers=headers)
        html = response.get_data(as_text=True)
        assert response.status_code == status, html[:500]
        assert message in html
        assert "Traceback" not in html
    assert count(connection, "SELECT count(*) FROM grid_event") == before
    assert count(connection, "SELECT count(*) FROM event_photo") == photos
    assert stored_files(photo_dir) == []


def test_a_kind_not_offered_to_residents_is_refused(client, connection, photo_dir):
    dispute = public_kind(connection, public=False, name="邻里纠纷")
    response = post(client, form(client, connection, category_id=str(dispute)))
    assert response.status_code == 422
    assert "有效的事件类别" in response.get_data(as_text=True)


def test_a_report_without_the_csrf_token_is_refused(client, connection, photo_dir):
    data = form(client, connection)
    del data["csrf_token"]
    response = post(client, data, headers=HX)
    assert response.status_code == 400
    assert "刷新页面" in response.get_data(as_text=True)


def test_a_flood_from_one_address_gets_429(app, client, connection, photo_dir):
    app.config["PUBLIC_REPORT_RATE_LIMIT"] = "2 per minute"
    limiter.reset()
    before = count(connection, "SELECT count(*) FROM grid_event")
    # Refused posts do not use up the address's reports.
    for _ in range(3):
        assert post(client, form(client, connection, lon="", photo=None)).status_code == 422
    answers = [post(client, form(client, connection, photo=None)) for _ in range(4)]
    assert [a.status_code for a in answers] == [303, 303, 429, 429]
    assert "提交过于频繁" in answers[-1].get_data(as_text=True)
    assert count(connection, "SELECT count(*) FROM grid_event") == before + 2
    # Another address is not held back by this one's flood.
    other = post(
        client, form(client, connection, photo=None), environ_base={"REMOTE_ADDR": "10.1.2.3"}
    )
    assert other.status_code == 303


def test_guessed_codes_and_event_numbers_show_nothing(client, connection, db, photo_dir):
    mine = receipt_of(post(client, form(client, connection, photo=None)))
    theirs = receipt_of(
        post(client, form(client, connection, photo=None, description="另一位居民的问题"))
    )
    their_number = connection.execute(
        text("SELECT number FROM grid_event WHERE receipt = :r"), {"r": theirs.replace("-", "")}
    ).scalar_one()
    html = client.get("/lookup/receipt", query_string={"code": mine}).get_data(as_text=True)
    assert their_number not in html and theirs not in html
    for _ in range(20):
        guess = client.get("/lookup/receipt", query_string={"code": show_receipt(new_receipt())})
        assert guess.status_code == 404
        assert "没有找到" in guess.get_data(as_text=True)
    for code in (their_number, "", "' OR 1=1 --", "0000-0000-0000", "A" * 5000):
        answer = client.get("/lookup/receipt", query_string={"code": code})
        assert answer.status_code in (200, 400)
        assert their_number not in answer.get_data(as_text=True) or code == their_number
        assert "另一位居民" not in answer.get_data(as_text=True)


def test_a_lookup_answer_offers_a_report_at_its_place(client, connection):
    lon, lat = a_point(connection)
    html = client.get("/lookup/at", query_string={"lon": lon, "lat": lat}).get_data(as_text=True)
    link = re.search(r'href="(/lookup/report\?lon=[^"]+)"', html)
    assert link, "no 随手拍 link in the answer"
    page = client.get(link.group(1).replace("&amp;", "&")).get_data(as_text=True)
    assert f'value="{lon:.6f}"' in page and "已选择位置" in page


@pytest.mark.parametrize(
    ("typed", "stored"),
    [("abcd-efgh-jkmn", "ABCDEFGHJKMN"), (" ABCD EFGH JKMN ", "ABCDEFGHJKMN")],
)
def test_a_receipt_code_may_be_typed_loosely(typed, stored):
    from webapp.lookup.reports import normalise_receipt

    assert normalise_receipt(typed) == stored


@pytest.mark.parametrize("typed", ["ABCD-EFGH-JKM", "ABCD-EFGH-JKM0", "ABCD-EFGH-JKMI", "SJ2026"])
def test_a_malformed_receipt_code_is_refused(typed):
    from webapp.lookup.reports import ReportRefused, normalise_receipt

    with pytest.raises(ReportRefused) as refused:
        normalise_receipt(typed)
    assert refused.value.status == 400

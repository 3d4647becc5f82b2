"""红色物业: quarterly ratings, summons and listing, the service-room standard, the notice."""

import re

import pytest
from sqlalchemy import text

from tests.helpers import HX, csrf_token


@pytest.fixture
def center(client, auth):
    auth.login("center")
    return client


def rate(client, compound_id: int, period: str, rating: str):
    token = csrf_token(client.get("/account/password").get_data(as_text=True))
    return client.post(
        f"/property/compound/{compound_id}/ratings",
        data={"csrf_token": token, "period": period, "rating": rating},
        headers=HX,
    )


def test_two_consecutive_failures_summon_and_a_third_lists_the_company(center, client):
    assert rate(center, 1, "2026Q1", "合格").status_code == 200
    first = rate(center, 1, "2026Q2", "不合格")
    assert first.status_code == 200 and "约谈" not in first.get_data(as_text=True)
    second = rate(center, 1, "2026Q3", "不合格")
    assert "应约谈" in second.get_data(as_text=True)
    third = rate(center, 1, "2026Q4", "不合格")
    assert "应张贴不受欢迎物业" in third.get_data(as_text=True)
    notice = client.get("/notice/property").get_data(as_text=True)
    assert "不受街道欢迎的物业" in notice and "2026年第4季度" in notice


def test_failures_that_are_not_consecutive_summon_nobody(center):
    rate(center, 2, "2026Q1", "不合格")
    rate(center, 2, "2026Q2", "合格")
    response = rate(center, 2, "2026Q3", "不合格")
    assert "约谈" not in response.get_data(as_text=True).split("当前处置")[0]
    html = center.get("/property/compound/2", headers=HX).get_data(as_text=True)
    assert '<dd class="consequence">无</dd>' in html


@pytest.mark.parametrize(
    ("period", "rating", "status"),
    [("2026Q5", "合格", 422), ("2026-3", "合格", 422), ("2026Q3", "很好", 422)],
)
def test_bad_ratings_are_refused(center, connection, period, rating, status):
    assert rate(center, 1, period, rating).status_code == status
    assert connection.execute(text("SELECT count(*) FROM property_rating")).scalar() == 0


def test_a_quarter_is_rated_once_and_only_in_ones_own_community(client, auth, connection):
    auth.login("center")
    assert rate(client, 1, "2026Q3", "良好").status_code == 200
    assert rate(client, 1, "2026Q3", "优秀").status_code == 409
    auth.logout()
    auth.login("community")
    other = connection.execute(
        text("SELECT min(id) FROM compound WHERE community_id <> 1")
    ).scalar()
    assert rate(client, other, "2026Q3", "良好").status_code == 403


def test_a_service_room_below_the_standard_gets_a_rectification_notice(center, connection):
    connection.execute(
        text(
            "UPDATE compound SET total_floor_area_m2 = 60000, property_room_area_m2 = 179.9"
            " WHERE id = 3"
        )
    )
    html = center.get("/property/compound/3", headers=HX).get_data(as_text=True)
    assert "不达标" in html and "180" in html
    token = csrf_token(center.get("/account/password").get_data(as_text=True))
    response = center.post(
        "/property/compound/3/rectifications",
        data={"csrf_token": token, "deadline": "2099-12-31"},
        headers=HX,
    )
    assert response.status_code == 200 and "已下达整改通知" in response.get_data(as_text=True)
    assert (
        connection.execute(
            text("SELECT count(*) FROM rectification WHERE compound_id = 3")
        ).scalar()
        == 1
    )
    connection.execute(text("UPDATE compound SET property_room_area_m2 = 180 WHERE id = 3"))
    response = center.post(
        "/property/compound/3/rectifications",
        data={"csrf_token": token, "deadline": "2099-12-31"},
        headers=HX,
    )
    assert response.status_code == 422 and "已达标" in response.get_data(as_text=True)


def test_the_public_notice_needs_no_login_and_shows_no_internal_field(client, connection):
    connection.execute(
        text(
            "INSERT INTO property_rating (compound_id, period, rating, company, note, username)"
            " VALUES (1, '2026Q3', '优秀', '测试物业', '内部说明', 'center')"
        )
    )
    html = client.get("/notice/property").get_data(as_text=True)
    assert "优秀" in html and "测试物业" in html
    assert "内部说明" not in html and "center" not in html


def _direct_company_streaks(connection) -> dict[str, int]:
    """Per company, straight from the table: quarters running back from its latest rated one
    in which at least one of its compounds was rated 不合格."""
    rows = connection.execute(
        text(
            "SELECT btrim(company), period, bool_or(rating = '不合格') FROM property_rating"
            " WHERE btrim(coalesce(company, '')) <> '' GROUP BY 1, 2"
        )
    ).all()
    failed: dict[str, dict[int, bool]] = {}
    for company, period, any_failed in rows:
        failed.setdefault(company, {})[int(period[:4]) * 4 + int(period[5]) - 1] = any_failed
    streaks = {}
    for company, quarters in failed.items():
        quarter, streak = max(quarters), 0
        while quarters.get(quarter):
            streak, quarter = streak + 1, quarter - 1
        streaks[company] = streak
    return streaks


def test_companies_have_their_own_streak_and_consequence(center, connection):
    connection.execute(
        text(
            "INSERT INTO property_rating (compound_id, period, rating, company, username) VALUES"
            " (1, '2031Q1', '不合格', '甲物业', 'c'), (2, '2031Q1', '良好', '甲物业', 'c'),"
            " (2, '2031Q2', '不合格', '甲物业', 'c'), (1, '2031Q2', '合格', '甲物业', 'c'),"
            " (3, '2031Q2', '不合格', '乙物业', 'c')"
        )
    )
    html = center.get("/property", headers=HX).get_data(as_text=True)
    shown = dict(re.findall(r'<tr data-company="([^"]+)">.*?data-streak="(\d+)"', html, re.S))
    assert {k: int(v) for k, v in shown.items()} == _direct_company_streaks(connection)
    # 甲物业 failed in two quarters running, at a different compound each time: 约谈.
    row = html.split('<tr data-company="甲物业">')[1].split("</tr>")[0]
    assert 'data-consequence="约谈"' in row and "2031年第2季度" in row
    assert 'data-consequence="无"' in html.split('<tr data-company="乙物业">')[1].split("</tr>")[0]
    notice = center.get("/notice/property").get_data(as_text=True)
    assert "物业公司评定" in notice and "甲物业" in notice


def test_the_notice_lists_an_unwelcome_company_with_its_failing_compounds(client, connection):
    names = dict(connection.execute(text("SELECT id, name FROM compound WHERE id IN (1, 2)")).all())
    connection.execute(
        text(
            "INSERT INTO property_rating (compound_id, period, rating, company, username) VALUES"
            " (1, '2031Q1', '不合格', '丙物业', 'c'), (2, '2031Q2', '不合格', '丙物业', 'c'),"
            " (1, '2031Q3', '不合格', '丙物业', 'c'), (2, '2031Q3', '优秀', '丙物业', 'c')"
        )
    )
    html = client.get("/notice/property").get_data(as_text=True)
    listed = html.split("<h2>不受街道欢迎的物业</h2>")[1].split("</ul>")[0]
    assert f"丙物业(连续 3 个季度不合格;{names[1]}不合格)" in listed

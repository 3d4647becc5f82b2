"""The events dashboard and the big screen's event tiles through the app: figures per user,
filters, refusals in Chinese with a 4xx."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from webapp import clock
from webapp.demo.events import generate_events
from webapp.events import metrics, periods
from webapp.models import User


@pytest.fixture
def events(connection):
    now = clock.now()
    generate_events(connection.connection.driver_connection, count=400, now=now, days=120, seed=3)
    return now


def kpi(html: str, name: str) -> str:
    return re.search(rf'data-kpi="{name}">([^<]*)<', html).group(1)


def figures_for(db, username: str, community_id=None):
    who = db.scalars(select(User).where(User.username == username)).one()
    where = metrics.scope(who, community_id)
    period = periods.month_period(None)
    return metrics.totals(db, where, period), metrics.closure(db, where, period)


@pytest.mark.parametrize("username", ["center", "community", "grid"])
def test_the_dashboard_shows_the_users_own_figures(client, auth, db, events, username):
    auth.login(username)
    html = client.get("/events/dashboard").get_data(as_text=True)
    totals, closure = figures_for(db, username)
    assert "网格事件统计" in html and "小事不出网格" in html and "大事不出街道" in html
    assert "分母为本期结案(已结案)的事件" in html
    assert kpi(html, "reported") == f"{totals.reported:,}"
    assert kpi(html, "closed") == f"{closure.closed:,}"
    assert kpi(html, "overdue") == f"{totals.overdue:,}"


def test_the_center_filters_by_community_and_month(client, auth, db, events):
    auth.login("center")
    community = db.scalars(select(User.community_id).where(User.username == "community")).one()
    month = (clock.today().replace(day=1) - timedelta(days=1)).strftime("%Y-%m")
    html = client.get(f"/events/dashboard?community={community}&month={month}").get_data(
        as_text=True
    )
    center = db.scalars(select(User).where(User.username == "center")).one()
    period = periods.month_period(month)
    totals = metrics.totals(db, metrics.scope(center, community), period)
    assert kpi(html, "reported") == f"{totals.reported:,}"
    assert f"{period.first.year} 年 {period.first.month} 月" in html
    assert f'<option value="{community}" selected>' in html


def test_a_date_range_is_a_period(client, auth, events):
    auth.login("center")
    html = client.get("/events/dashboard?from=2026-01-01&to=2026-01-31").get_data(as_text=True)
    assert "2026-01-01 至 2026-01-31" in html


def test_an_htmx_filter_gets_the_figures_alone(client, auth, events):
    auth.login("center")
    response = client.get("/events/dashboard", headers={"HX-Request": "true"})
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "<html" not in html
    assert html.lstrip().startswith('<div id="ev-figures"')


@pytest.mark.parametrize(
    "query,status,message",
    [
        ("month=2026-13", 400, "月份格式"),
        ("month=%3Cscript%3E", 400, "月份格式"),
        ("from=2026-02-01&to=2026-01-01", 400, "结束日期不能早于开始日期"),
        ("from=2026-02-01", 400, "同时填写开始和结束日期"),
        ("from=2025-01-01&to=2026-06-01", 400, "最长一年"),
        ("community=abc", 400, "所选社区无效"),
    ],
)
def test_bad_filters_get_a_chinese_message(client, auth, query, status, message):
    auth.login("center")
    response = client.get(f"/events/dashboard?{query}")
    assert response.status_code == status
    assert message in response.get_data(as_text=True)


def test_community_staff_may_not_ask_for_another_community(client, auth, db):
    auth.login("community")
    own = db.scalars(select(User.community_id).where(User.username == "community")).one()
    other = own + 1 if own == 1 else 1
    response = client.get(f"/events/dashboard?community={other}")
    assert response.status_code == 403
    assert "只能查看本辖区内社区的事件统计" in response.get_data(as_text=True)
    assert client.get(f"/events/dashboard?community={own}").status_code == 200


@pytest.mark.parametrize("username", ["planner", "auditor", "admin"])
def test_roles_without_events_see_no_figures(client, auth, username):
    auth.login(username)
    assert client.get("/events/dashboard").status_code == 403
    assert client.get("/events/kpis", headers={"HX-Request": "true"}).status_code == 403
    assert 'id="event-kpis"' not in client.get("/bigscreen").get_data(as_text=True)


def test_a_visitor_is_sent_to_log_in(client):
    response = client.get("/events/dashboard")
    assert response.status_code in (302, 401)


def test_the_big_screen_loads_the_event_tiles(client, auth, db, events):
    auth.login("center")
    screen = client.get("/bigscreen").get_data(as_text=True)
    assert 'id="event-kpis"' in screen and 'hx-get="/events/kpis"' in screen
    tiles = client.get("/events/kpis", headers={"HX-Request": "true"}).get_data(as_text=True)
    center = db.scalars(select(User).where(User.username == "center")).one()
    figures = metrics.kpis(db, metrics.scope(center))
    assert "今日上报" in tiles and "按期办结率" in tiles
    assert kpi(tiles, "open") == f"{figures.open:,}"
    assert kpi(tiles, "overdue") == f"{figures.overdue:,}"
    assert client.get("/events/kpis").status_code == 302  # alone: the big screen

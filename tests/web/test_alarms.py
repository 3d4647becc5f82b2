"""The wall's alarm ticker: new events, cameras going offline, events past their time limit, as
Server-Sent Events, each in the reader's area, a reconnect going on from where it was."""

import json
import re
from datetime import timedelta

import pytest
from sqlalchemy import text

from tests.helpers import report_in_grid
from webapp import clock
from webapp.domain.events import Urgency


@pytest.fixture
def one_pass(app):
    """A stream that looks once and ends (the browser would reconnect)."""
    app.config.update(ALARM_STREAM_S=0, ALARM_POLL_S=0)
    return app


def alarms(response) -> list[dict]:
    assert response.status_code == 200
    assert response.mimetype == "text/event-stream"
    body = response.get_data(as_text=True)
    return [json.loads(d) for d in re.findall(r"^event: alarm\ndata: (.*)$", body, re.M)]


def reported(db, urgency=Urgency.NORMAL, who="grid"):
    event = report_in_grid(db, "婚姻家庭纠纷", "邻居反映家中争吵", who, urgency=urgency)
    db.commit()
    return event


def test_a_new_event_a_camera_down_and_an_overdue_event_are_announced(
    one_pass, client, auth, db, connection
):
    event = reported(db, Urgency.URGENT)
    camera = connection.execute(
        text(
            "UPDATE camera SET state = '离线' WHERE id ="
            " (SELECT min(id) FROM camera WHERE state = '在线') RETURNING id, name"
        )
    ).one()
    late = reported(db)
    connection.execute(
        text("UPDATE grid_event SET step_due_at = now() - interval '1 minute' WHERE id = :e"),
        {"e": late.id},
    )
    auth.login("center")
    found = alarms(client.get("/bigscreen/alarms"))
    by_kind = {}
    for alarm in found:
        by_kind.setdefault(alarm["kind"], []).append(alarm)
    assert any(event.number in a["text"] and a["level"] == "alert" for a in by_kind["新事件"])
    assert any(camera.name in a["text"] for a in by_kind["监控离线"])
    assert any(late.number in a["text"] and "已超时限" in a["text"] for a in by_kind["事件超时"])
    assert len({a["key"] for a in found}) == len(found)


def test_a_camera_still_down_is_not_announced_again_when_edited(one_pass, client, auth, connection):
    """The demo's cameras went down hours before the load: an edit of one (its name here) is
    no news; a change of its state is."""
    camera = connection.execute(
        text(
            "UPDATE camera SET name = name || '(已改名)', updated_at = now() WHERE id ="
            " (SELECT min(id) FROM camera WHERE state = '离线') RETURNING id, name"
        )
    ).one()
    auth.login("center")
    texts = [a["text"] for a in alarms(client.get("/bigscreen/alarms"))]
    assert not any(camera.name in t for t in texts)
    connection.execute(text("UPDATE camera SET state = '故障' WHERE id = :id"), {"id": camera.id})
    found = alarms(client.get("/bigscreen/alarms"))
    assert any(camera.name in a["text"] and a["kind"] == "监控故障" for a in found)


def test_a_reconnect_goes_on_from_the_last_moment_it_heard(one_pass, client, auth, db):
    auth.login("center")
    old = reported(db)
    try:
        clock.shift(timedelta(minutes=5))
        first = client.get("/bigscreen/alarms").get_data(as_text=True)
        assert old.number in first  # within the backlog of a first connection
        last_id = re.findall(r"^id: (.*)$", first, re.M)[-1]
        clock.shift(timedelta(minutes=10))
        new = reported(db)
        again = alarms(client.get("/bigscreen/alarms", headers={"Last-Event-ID": last_id}))
    finally:
        clock.reset()
    texts = " ".join(a["text"] for a in again)
    assert new.number in texts and old.number not in texts


def test_the_ticker_keeps_to_the_readers_area_and_refuses_a_bad_since(
    one_pass, client, auth, db, connection
):
    event = reported(db)
    other = connection.execute(
        text(
            "SELECT c.id FROM community c WHERE c.id <>"
            " (SELECT community_id FROM grid_event WHERE id = :e) ORDER BY c.id LIMIT 1"
        ),
        {"e": event.id},
    ).scalar_one()
    connection.execute(
        text("UPDATE app_user SET community_id = :c WHERE username = 'community'"), {"c": other}
    )
    auth.login("community")
    found = alarms(client.get("/bigscreen/alarms"))
    assert not any(event.number in a["text"] for a in found if a["kind"] == "新事件")
    bad = client.get("/bigscreen/alarms?since=yesterday")
    assert bad.status_code == 400 and "ISO 8601" in bad.get_data(as_text=True)
    auth.logout()
    assert client.get("/bigscreen/alarms").status_code in (302, 401)

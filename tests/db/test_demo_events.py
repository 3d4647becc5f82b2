"""The demo's year of events is what the workflow would have written: 属地 as locate finds it,
steps that chain state to state, deadlines and closures by the loop's rules, a realistic mix."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime

import pytest
from sqlalchemy import text

from webapp import config
from webapp.crypto import encrypt_with, keyring
from webapp.demo.events import generate_events
from webapp.domain.events import FINAL_STATES, OPEN_STATES
from webapp.events.locate import locate

NOW = datetime(2026, 12, 7, 2, 0, tzinfo=UTC)


@pytest.fixture
def generated(connection):
    driver = connection.connection.driver_connection
    encrypt = encrypt_with(config._data_key())
    return generate_events(driver, count=1500, now=NOW, days=365, seed=2021, encrypt=encrypt)


def rows(db, sql: str) -> list[dict]:
    return [dict(r) for r in db.execute(text(sql)).mappings()]


def test_the_mix_has_every_part_of_the_loop(db, generated):
    assert generated["grid_event"] == 1500 and generated["event_step"] > 6 * 1500 * 0.8
    states = dict(db.execute(text("SELECT state, count(*) FROM grid_event GROUP BY 1")).all())
    assert states["已结案"] > 1200 and states.get("不予受理", 0) > 0
    assert sum(n for s, n in states.items() if s in {x.value for x in OPEN_STATES}) > 20
    overdue = db.execute(
        text("SELECT count(*) FROM grid_event WHERE closed_at IS NULL AND step_due_at < :now"),
        {"now": NOW},
    ).scalar()
    assert overdue > 5
    steps = dict(db.execute(text("SELECT step, count(*) FROM event_step GROUP BY 1")).all())
    assert {"上报上级", "督办", "返工", "退回", "重新上报"} <= set(steps)
    late = db.execute(text("SELECT count(*) FROM event_step WHERE at > due_at")).scalar()
    assert 0.03 < late / sum(steps.values()) < 0.2
    mediation = dict(
        db.execute(text("SELECT coalesce(referral, mediation), count(*) FROM grid_event"
                        " WHERE mediation IS NOT NULL GROUP BY 1")).all()
    )  # fmt: skip
    assert {"调解成功", "司法", "信访"} <= set(mediation)
    grades = db.execute(text("SELECT DISTINCT risk_grade FROM grid_event")).scalars().all()
    assert {"红", "橙", "黄", "蓝"} <= set(grades)


def test_places_are_where_locate_puts_them(db, generated):
    sample = rows(
        db,
        "SELECT ST_X(geom) lon, ST_Y(geom) lat, community_id, grid_id, compound_id, building_id"
        " FROM grid_event ORDER BY id LIMIT 60",
    )
    for event in sample:
        place = locate(db, event["lon"], event["lat"])
        assert (place.community_id, place.grid_id, place.compound_id, place.building_id) == (
            event["community_id"],
            event["grid_id"],
            event["compound_id"],
            event["building_id"],
        )


def test_steps_chain_and_end_where_the_event_stands(db, generated):
    events = {e["id"]: e for e in rows(db, "SELECT * FROM grid_event")}
    chains = defaultdict(list)
    for step in rows(db, "SELECT * FROM event_step ORDER BY event_id, id"):
        chains[step["event_id"]].append(step)
    final = {s.value for s in FINAL_STATES}
    for event_id, event in events.items():
        steps = chains[event_id]
        assert steps[0]["step"] == "上报" and steps[0]["at"] == event["reported_at"]
        state = steps[0]["to_state"]
        for step in steps[1:]:
            assert step["from_state"] == state, (event_id, step)
            if step["step"] == "督办":
                assert step["to_state"] == state and step["due_at"] is None
            state = step["to_state"]
        assert [s["at"] for s in steps] == sorted(s["at"] for s in steps)
        assert state == event["state"] and event["version"] == len(steps)
        assert event["supervised"] == sum(s["step"] == "督办" for s in steps)
        assert (event["closed_at"] is not None) == (event["state"] in final)
        assert (event["step_due_at"] is None) == (event["state"] in final | {"已退回"})
        if event["state"] == "已结案":
            assert steps[-1]["step"] == "结案" and steps[-1]["at"] == event["closed_at"]
            assert (event["settled_level"] is None) == (event["referral"] is not None)
            assert event["settled_level"] in (None, "网格", "社区", "街道")


def test_disputes_and_only_disputes_close_with_a_mediation_and_have_parties(db, generated):
    disputes = rows(
        db,
        "SELECT e.id, e.state, e.mediation, k.is_dispute FROM grid_event e"
        " JOIN event_category k ON k.id = e.category_id",
    )
    for event in disputes:
        closed = event["state"] == "已结案"
        assert (event["mediation"] is not None) == (closed and event["is_dispute"])
    parties = rows(db, "SELECT event_id, role, name, phone FROM event_party")
    assert len(parties) == 2 * sum(e["is_dispute"] for e in disputes) == generated["event_party"]
    fernet = keyring(config._data_key())
    name = fernet.decrypt(parties[0]["name"].encode()).decode()
    phone = fernet.decrypt(parties[0]["phone"].encode()).decode()
    assert 2 <= len(name) <= 4 and phone.isdigit() and len(phone) == 11

"""三必到、五必访 (六必访): a visit records the items it answered, and the checklist page counts
the people and open events of each item in the user's area."""

import re
from datetime import timedelta

import pytest
from sqlalchemy import text

from tests.helpers import HX, csrf_token, report_in_grid
from webapp import clock
from webapp.domain.events import Urgency
from webapp.domain.register import CHECKLIST


def person_with(connection, category: str, username: str = "center") -> int:
    """A resident of the user's community carrying ``category`` (the demo has such people)."""
    return connection.execute(
        text(
            "SELECT p.id FROM person p JOIN person_category pc ON pc.person_id = p.id"
            " JOIN app_user u ON u.username = :u"
            " WHERE pc.category = :c AND p.household_id IS NOT NULL"
            " AND (u.community_id IS NULL OR p.community_id = u.community_id)"
            " ORDER BY p.id LIMIT 1"
        ),
        {"c": category, "u": username},
    ).scalar_one()


def visit_form(client, person: int) -> dict:
    html = client.get(f"/register/person/{person}/care", headers=HX).get_data(as_text=True)
    return {
        "csrf_token": csrf_token(html),
        "visited_on": clock.today().isoformat(),
        "notes": "走访",
    }


def test_the_visit_form_preselects_the_items_of_the_persons_categories(client, auth, connection):
    auth.login("center")
    person = person_with(connection, "独居老人")
    html = client.get(f"/register/person/{person}/care", headers=HX).get_data(as_text=True)
    checked = set(re.findall(r'name="reasons" value="([^"]+)" checked', html))
    assert {"五必访·孤寡老人", "六必访·孤寡老人"} <= checked
    assert "三必到·家庭纠纷" not in checked
    assert len(re.findall(r'name="reasons"', html)) == len(CHECKLIST)


def test_a_visit_keeps_its_reasons_and_an_unknown_one_is_refused(client, auth, connection):
    auth.login("center")
    person = person_with(connection, "独居老人")
    form = visit_form(client, person)
    before = connection.execute(text("SELECT count(*) FROM visit")).scalar_one()
    bad = client.post(
        f"/register/person/{person}/visits",
        data={**form, "reasons": ["五必访·孤寡老人", "<b>随便</b>"]},
        headers=HX,
    )
    assert bad.status_code == 422 and "不在三必到、五必访、六必访之列" in bad.get_data(as_text=True)
    assert connection.execute(text("SELECT count(*) FROM visit")).scalar_one() == before
    ok = client.post(
        f"/register/person/{person}/visits",
        data={**form, "reasons": ["六必访·孤寡老人", "五必访·孤寡老人"]},
        headers=HX,
    )
    assert ok.status_code == 200 and "五必访·孤寡老人、六必访·孤寡老人" in ok.get_data(as_text=True)
    stored = connection.execute(
        text("SELECT reasons FROM visit WHERE person_id = :p ORDER BY id DESC LIMIT 1"),
        {"p": person},
    ).scalar_one()
    assert stored == ["五必访·孤寡老人", "六必访·孤寡老人"]


def figures(client) -> dict[str, dict[str, str]]:
    html = client.get("/register/checklists", headers=HX).get_data(as_text=True)
    rows = re.findall(r'<tr data-item="([^"]+)">(.*?)</tr>', html, re.S)
    return {
        label: dict(re.findall(r'data-figure="(\w+)"[^>]*>(\d+)', cells)) for label, cells in rows
    }


PEOPLE_SQL = """
SELECT count(*), count(*) FILTER (WHERE late) FROM (
  SELECT p.id, bool_or(coalesce((SELECT max(v.visited_on) FROM visit v WHERE v.person_id = p.id),
                                pc.since) + f.every_days < :today) AS late
  FROM person p JOIN person_category pc ON pc.person_id = p.id
  JOIN visit_frequency f ON f.category = pc.category
  WHERE p.household_id IS NOT NULL AND pc.category = ANY(:cats) AND {area}
  GROUP BY p.id) q
"""


def report_event(db, kind: str, urgency: Urgency) -> None:
    report_in_grid(db, kind, urgency=urgency)
    db.commit()


@pytest.mark.parametrize(
    ("username", "area"),
    [("center", "TRUE"), ("community", "p.community_id = :c"), ("grid", "p.grid_id = :g")],
)
def test_each_figure_equals_a_direct_count_in_the_users_area(
    client, auth, db, connection, username, area
):
    report_event(db, "婚姻家庭纠纷", Urgency.URGENT)
    report_event(db, "垃圾堆放", Urgency.NORMAL)
    # A visit of the last 30 days recorded for an item, and one older: only the first counts.
    person = person_with(connection, "独居老人", "grid")
    for days, reasons in ((3, ["五必访·孤寡老人"]), (40, ["五必访·孤寡老人"])):
        connection.execute(
            text(
                "INSERT INTO visit (person_id, visited_on, visitor, notes, reasons,"
                " community_id, grid_id) SELECT id, :d, 'grid', '走访', :r, community_id,"
                " grid_id FROM person WHERE id = :p"
            ),
            {"d": clock.today() - timedelta(days=days), "r": reasons, "p": person},
        )
    auth.login(username)
    c, g = connection.execute(
        text("SELECT community_id, grid_id FROM app_user WHERE username = :u"), {"u": username}
    ).one()
    shown = figures(client)
    assert set(shown) == {item.label for item in CHECKLIST}
    for item in CHECKLIST:
        if item.categories:
            people, late = connection.execute(
                text(PEOPLE_SQL.format(area=area)),
                {"today": clock.today(), "cats": list(item.categories), "c": c, "g": g},
            ).one()
            assert (int(shown[item.label]["people"]), int(shown[item.label]["overdue"])) == (
                people,
                late,
            ), item.label
    events_area = area.replace("p.", "e.")
    family, urgent = connection.execute(
        text(
            "SELECT count(*) FILTER (WHERE k.name = '婚姻家庭纠纷'),"
            " count(*) FILTER (WHERE e.urgency IN ('紧急', '特急'))"
            " FROM grid_event e JOIN event_category k ON k.id = e.category_id"
            f" WHERE e.closed_at IS NULL AND {events_area}"
        ),
        {"c": c, "g": g},
    ).one()
    assert family >= 1 and urgent >= 1
    assert int(shown["三必到·家庭纠纷"]["events"]) == family
    assert int(shown["三必到·突发事件"]["events"]) == urgent
    assert int(shown["五必访·孤寡老人"]["visits"]) == 1
    assert int(shown["六必访·孤寡老人"]["visits"]) == 0


def test_the_checklists_are_for_those_who_visit(client, auth):
    auth.login("planner")
    assert client.get("/register/checklists", headers=HX).status_code == 403

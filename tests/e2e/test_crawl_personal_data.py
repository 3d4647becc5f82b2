"""A grid worker crawls every page and endpoint of the app in a real browser session and finds
no other grid's personal data: no whole phone number of a staff person or of a place's contact
outside their grid. (The public lookup publishes the grid contacts' work phones, 公示电话, which
are other numbers and not personal.)"""

from __future__ import annotations

import io
import re
from itertools import islice

import pytest
from openpyxl import load_workbook
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from tests.helpers import login
from webapp import create_app
from webapp.entities.registry import ENTITIES
from webapp.map.layers import LAYERS
from webapp.models import EventParty, GridEvent, Person, Place, StaffPerson, Volunteer

pytestmark = pytest.mark.e2e

BBOX = "bbox=120.30,36.25,120.50,36.40&zoom=16"
SAMPLE = 12  # ids per table: features of other grids first
TABLES = {
    "subdistrict": "subdistrict",
    "community": "community",
    "grid": "grid",
    "compound": "compound",
    "building": "building",
    "camera": "camera",
    "police_room": "police_room",
    "facility": "facility",
    "place": "place",
    "road": "road_segment",
    "staff": "staff_person",
    "patrol_route": "patrol_route",
    "resident_group": "resident_group",
    "volunteer": "volunteer",
}


# The register's routes by their one argument (一标三实: houses, households, people, visits).
REGISTER_ARGS = {
    "building_id": "building",
    "house_id": "house",
    "household_id": "household",
    "person_id": "person",
    "visit_id": "visit",
    "grid_id": "grid",
    "unit_id": "org_unit",
}


def ids(conn, table: str, grid_id: int, limit: int = SAMPLE) -> list[int]:
    has_grid = conn.execute(
        text(
            "SELECT EXISTS (SELECT 1 FROM information_schema.columns"
            " WHERE table_name = :t AND column_name = 'grid_id')"
        ),
        {"t": table},
    ).scalar()
    order = "(grid_id IS DISTINCT FROM :g) DESC, id" if has_grid else "id"
    return list(
        conn.execute(
            text(f"SELECT id FROM {table} ORDER BY {order} LIMIT :n"), {"g": grid_id, "n": limit}
        ).scalars()
    )


def urls(app, conn, grid_id: int) -> list[str]:
    """Every GET route of the app with its parameters filled from the demo data."""
    staff_ids = list(conn.execute(text("SELECT id FROM staff_person ORDER BY id")).scalars())
    out = []
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or rule.endpoint in ("static", "auth.login_totp"):
            continue
        args = set(rule.arguments)
        path = rule.rule
        if not args:
            query = f"?{BBOX}" if "/api/" in path or "blind_spots" in path else ""
            out.append(path + query)
            continue
        fills: list[dict] = []
        if args == {"layer"}:
            fills = [{"layer": k} for k in LAYERS]
        elif args == {"layer", "feature_id"}:
            fills = [
                {"layer": layer, "feature_id": i}
                for layer in LAYERS
                if layer in TABLES
                for i in ids(conn, TABLES[layer], grid_id)
            ]
        elif args == {"layer", "z", "x", "y"}:
            fills = [{"layer": k, "z": 15, "x": 27340, "y": 12832} for k in ("building", "camera")]
        elif args == {"key"}:
            fills = [{"key": k} for k in ENTITIES]
        elif args == {"key", "entity_id"}:
            fills = [
                {"key": k, "entity_id": i}
                for k in ENTITIES
                for i in (staff_ids if k == "staff" else ids(conn, TABLES[k], grid_id))
            ]
        elif args == {"kind", "feature_id"}:
            fills = [
                {"kind": "building", "feature_id": i} for i in ids(conn, "building", grid_id, 3)
            ]
        elif args == {"area", "area_id"}:
            fills = [{"area": "grid", "area_id": i} for i in ids(conn, "grid", grid_id, 4)]
            if "compound" in rule.rule or "patrol" in rule.rule:
                fills += [
                    {"area": "compound", "area_id": i} for i in ids(conn, "compound", grid_id, 3)
                ]
            else:
                fills += [{"area": "community", "area_id": i} for i in ids(conn, "community", 0, 3)]
        elif args == {"community_id"}:
            fills = [{"community_id": i} for i in ids(conn, "community", 0, 8)]
        elif args == {"subdistrict_id"}:
            fills = [{"subdistrict_id": i} for i in ids(conn, "subdistrict", 0, 2)]
        elif args == {"room_id"}:
            fills = [{"room_id": i} for i in ids(conn, "police_room", grid_id, 3)]
        elif args == {"compound_id"}:
            fills = [{"compound_id": i} for i in ids(conn, "compound", grid_id, 5)]
        elif args == {"attachment_id"}:
            fills = [{"attachment_id": i} for i in ids(conn, "campaign_attachment", grid_id, 3)]
        elif args == {"campaign_id"}:
            fills = [{"campaign_id": i} for i in ids(conn, "campaign", grid_id, 5)]
        elif args == {"route_id"}:
            fills = [{"route_id": i} for i in ids(conn, "patrol_route", grid_id, 3)]
        elif len(args) == 1 and (table := REGISTER_ARGS.get(next(iter(args)))):
            # The register: other grids' records first, then two of the crawler's own.
            fills = [{next(iter(args)): i} for i in ids(conn, table, grid_id, 4)]
            fills += [
                {next(iter(args)): i}
                for i in conn.execute(
                    text(f"SELECT id FROM {table} WHERE grid_id = :g ORDER BY id LIMIT 2")
                    if table != "grid"
                    else text("SELECT id FROM grid WHERE id = :g"),
                    {"g": grid_id},
                ).scalars()
            ]
        elif args == {"request_id"}:  # the hotline API: a token, not the crawler's cookie
            numbers = conn.execute(text("SELECT number FROM grid_event ORDER BY id LIMIT 3"))
            fills = [{"request_id": n} for n in numbers.scalars()]
        elif args == {"collection_id"}:  # the OGC API, read with the crawler's cookie
            fills = [{"collection_id": k} for k in LAYERS if k in TABLES]
        elif args == {"collection_id", "feature_id"}:
            fills = [
                {"collection_id": layer, "feature_id": i}
                for layer in LAYERS
                if layer in TABLES
                for i in ids(conn, TABLES[layer], grid_id, 2)
            ]
        elif args == {"walk_id"}:  # 巡查打卡: whichever walks there are (maybe none)
            walks = conn.execute(text("SELECT id FROM walk ORDER BY id LIMIT 3")).scalars()
            fills = [{"walk_id": i} for i in walks]
        elif args == {"user_id"}:
            users = conn.execute(text("SELECT id FROM app_user ORDER BY id LIMIT 8")).scalars()
            fills = [{"user_id": i} for i in users]
        elif args == {"event_id"}:
            fills = [{"event_id": i} for i in ids(conn, "grid_event", grid_id, 6)]
        elif args == {"event_id", "photo_id"}:
            photos = conn.execute(
                text(
                    "SELECT p.event_id, p.id FROM event_photo p JOIN grid_event e"
                    " ON e.id = p.event_id ORDER BY (e.grid_id IS DISTINCT FROM :g) DESC, p.id"
                    " LIMIT 3"
                ),
                {"g": grid_id},
            ).all()
            fills = [{"event_id": e, "photo_id": i} for e, i in photos]
        elif args == {"generation_id"}:  # boundary generations (center only)
            found = conn.execute(text("SELECT id FROM boundary_generation ORDER BY id LIMIT 3"))
            fills = [{"generation_id": i} for i in found.scalars()]
        elif args == {"report_id", "ext"}:  # kept reports, whoever made them (maybe none)
            found = conn.execute(text("SELECT id FROM report ORDER BY id LIMIT 3"))
            fills = [{"report_id": i, "ext": e} for i in found.scalars() for e in ("pdf", "xlsx")]
        elif args == {"z", "x", "y"}:  # a base-map file's tiles (none configured here)
            fills = [{"z": 15, "x": 27340, "y": 12832}]
        elif args <= {"key", "job_id"}:  # background jobs: anybody's, the crawler's or not
            jobs = conn.execute(text("SELECT id FROM job ORDER BY id DESC LIMIT 3")).scalars()
            fills = [{"key": "police_room", "job_id": i} for i in jobs]
        else:
            raise AssertionError(f"the crawl does not know how to fill {rule.rule}: add it")
        for values in fills:
            url = path
            for name, value in values.items():
                url = re.sub(rf"<(?:[^:>]+:)?{name}>", str(value), url)
            out.append(url)
    return out


def body_text(response) -> str:
    data = response.body()
    if data[:4] == b"PK\x03\x04":  # an Excel export: read its cells
        book = load_workbook(io.BytesIO(data), read_only=True)
        return "\n".join(
            str(cell) for sheet in book for row in sheet.iter_rows(values_only=True) for cell in row
        )
    return data.decode("utf-8", errors="replace")


@pytest.mark.slow
def test_a_grid_worker_reaches_no_other_grids_personal_data(
    page, live_server, live_app, database_url, engine
):
    app = create_app({"DATABASE_URL": database_url})
    with engine.connect() as conn:
        grid_id = conn.execute(
            text("SELECT grid_id FROM app_user WHERE username = 'grid'")
        ).scalar_one()
        targets = urls(app, conn, grid_id)
    with app.app_context(), Session(engine) as session:
        staff = session.execute(select(StaffPerson)).scalars().all()
        secrets = {p.phone: p.id for p in staff if p.phone and p.grid_id != grid_id}
        places = {
            p.phone: p.id
            for p in session.execute(select(Place)).scalars()
            if p.phone and p.grid_id != grid_id
        }
        # Dispute parties' phones of events the grid worker may not read (the demo's events).
        parties = {
            p.phone: p.id
            for p in session.execute(
                select(EventParty)
                .join(GridEvent, GridEvent.id == EventParty.event_id)
                .where(
                    GridEvent.grid_id.is_distinct_from(grid_id),
                    GridEvent.handler_grid_id.is_distinct_from(grid_id),
                )
            ).scalars()
            if p.phone
        }
        # Registered volunteers belong to a community, not a grid: a grid worker sees none whole.
        volunteers = {
            v.phone: v.id for v in session.execute(select(Volunteer)).scalars() if v.phone
        }
        # Residents of other grids: their ID numbers and phones (names are too short to tell
        # from other text; they are masked by the same code as the numbers).
        residents = {}
        for p in session.execute(
            select(Person).where(Person.grid_id != grid_id).order_by(Person.id).limit(3000)
        ).scalars():
            residents[p.id_number] = p.id
            if p.phone:
                residents[p.phone] = p.id
    assert len(residents) > 1000, "the demo should hold residents of other grids"
    assert len(secrets) > 20, "the demo should hold personal phones of other grids"
    assert len(places) > 10, "the demo should hold place contacts' phones of other grids"
    assert len(volunteers) > 100, "the demo should hold volunteers' phones"
    secrets_by_kind = {
        "staff": secrets,
        "place": places,
        "event_party": parties,
        "volunteer": volunteers,
    }
    secrets = {**secrets, **places, **parties, **volunteers, **residents}
    assert len(targets) > 200
    login(page, "grid")
    statuses = {}
    # The alarm ticker's stream looks once and ends, instead of lasting its 55 seconds.
    live_app.config.update(ALARM_STREAM_S=0, ALARM_POLL_S=0)
    for url in targets:
        response = page.request.get(url)
        statuses[url] = response.status
        assert response.status < 500, f"{url} answered {response.status}"
        body = body_text(response)
        leaked = [phone for phone in secrets if phone in body]
        assert not leaked, f"{url} shows other grids' personal phones: {leaked[:3]}"
    live_app.config.update(ALARM_STREAM_S=55, ALARM_POLL_S=2)
    assert statuses["/bigscreen/alarms"] == 200
    assert sum(1 for s in statuses.values() if s == 200) > 150
    # And the reveal, asked directly, is refused for another grid's person.
    page.goto("/map")
    token = page.locator("meta[name=csrf-token]").get_attribute("content")
    for kind, numbers in secrets_by_kind.items():
        for record_id in islice(numbers.values(), 5):
            response = page.request.post(
                f"/personal/{kind}/{record_id}/phone", form={"csrf_token": token}
            )
            assert response.status == 403
            assert not any(phone in response.text() for phone in secrets)

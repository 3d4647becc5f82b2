"""巡查打卡 figures on the demo at scale 1 with a week of demo walks (three grid workers):

- one batch of 20 track points through the endpoint (login, lock, screening, insert, the walk's
  figures refreshed), a new batch each time, and the same batch sent again (all duplicates);
- the street coverage of a grid for a day and for a week (buffer, union and measure in PostGIS);
- the walks list of the center (every worker's minutes today and this week) and one walk's page.

``python -m bench.walks`` prints ``name: value (target)`` lines; ``python -m bench`` ends with
them.
"""

from __future__ import annotations

import random
import re
from datetime import timedelta

from sqlalchemy import text
from sqlalchemy.orm import Session

from webapp import clock, create_app, dbadmin, migrate
from webapp.auth.queries import DEMO_PASSWORD, ensure_demo_accounts
from webapp.db import make_engine
from webapp.demo.load import load_demo
from webapp.demo.walks import seed_walks
from webapp.field.coverage import Period, street_coverage
from webapp.hooks import register_listeners

from .load import median_ms

RUNS = 25
BATCH = 20


def _login(app, username: str):
    client = app.test_client()
    html = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html).group(1)
    client.post(
        "/login", data={"username": username, "password": DEMO_PASSWORD, "csrf_token": token}
    )
    return client, token


def measure() -> list[str]:
    url = dbadmin.create_database("gridmap_bench_walks")
    lines = []
    try:
        plain = dbadmin.url_string(url)
        migrate.upgrade(plain)
        load_demo(plain, progress=False)
        register_listeners()
        engine = make_engine(plain)
        with Session(engine) as session:
            ensure_demo_accounts(session)
            session.commit()
            walks = seed_walks(session, clock.now(), random.Random(2021))
            session.commit()
        app = create_app({"DATABASE_URL": plain, "LOGIN_RATE_LIMIT": "100000 per minute"})
        worker, _ = _login(app, "grid")
        page = worker.get("/field/walk").get_data(as_text=True)
        token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
        worker.post("/field/walk/start", data={"csrf_token": token})
        page = worker.get("/field/walk").get_data(as_text=True)
        walk_id = int(re.search(r'data-walk-id="(\d+)"', page).group(1))
        headers = {"Accept": "application/json", "X-CSRFToken": token}
        start_ms = int((clock.now() - timedelta(hours=2)).timestamp() * 1000)
        sent = {"seq": 0}

        def batch(seq0: int) -> list[dict]:
            return [
                {
                    "seq": seq0 + i,
                    "lon": 120.3668 + (seq0 + i) * 0.00001,
                    "lat": 36.31433,
                    "at": start_ms + (seq0 + i) * 1000,
                    "accuracy": 6,
                }
                for i in range(BATCH)
            ]

        def upload_new():
            response = worker.post(
                f"/field/walk/{walk_id}/points",
                json={"points": batch(sent["seq"])},
                headers=headers,
            )
            assert response.status_code == 200, response.get_data(as_text=True)
            sent["seq"] += BATCH

        upload_ms = median_ms(upload_new)
        again_ms = median_ms(
            lambda: worker.post(
                f"/field/walk/{walk_id}/points", json={"points": batch(0)}, headers=headers
            )
        )
        with engine.connect() as conn:
            grid = conn.execute(
                text("SELECT grid_id FROM app_user WHERE username = 'grid'")
            ).scalar_one()
            today = clock.today()
            day_ms = median_ms(lambda: street_coverage(conn, grid, Period.day(today), 20))
            week_ms = median_ms(lambda: street_coverage(conn, grid, Period.week_to(today), 20))
            points = conn.execute(text("SELECT count(*) FROM walk_point")).scalar_one()
            old_walk = conn.execute(text("SELECT min(id) FROM walk")).scalar_one()
        center, _ = _login(app, "center")
        list_ms = median_ms(lambda: center.get("/field/walks"))
        walk_ms = median_ms(lambda: center.get(f"/field/walks/{old_walk}"))
        engine.dispose()
        app.extensions["db_engine"].dispose()
        lines += [
            f"walks_demo: {walks} walks, {points} points",
            f"walk_upload_batch{BATCH}_ms: {upload_ms:.1f} (≤ 100: a phone on 3G waits for it)",
            f"walk_upload_batch{BATCH}_resent_ms: {again_ms:.1f} (all duplicates)",
            f"walk_street_coverage_day_ms: {day_ms:.1f} (≤ 200)",
            f"walk_street_coverage_week_ms: {week_ms:.1f} (≤ 500)",
            f"walks_list_center_ms: {list_ms:.1f} (≤ 300)",
            f"walk_page_ms: {walk_ms:.1f} (two coverages and the map; ≤ 800)",
        ]
    finally:
        dbadmin.drop_database(url)
    return lines


if __name__ == "__main__":
    for line in measure():
        print(line, flush=True)

"""一标三实 figures at two million people (issue 16, "Must show").

A throwaway database gets the demo city at ``scale`` subdistricts (default 53: the demo registers
about 38,500 people per subdistrict, 1.93 M at scale 50, so some 2.04 M people) through the demo
loader as it is (webapp.demo.load.load_demo; it has no catchments to skip: those are computed by
``gridmap catchments``, not by the load). The loader is fast enough here, so the data are the
demo's own: 7 to 12 minutes for scale 53 on the shared 2-core development machine, as other
work allows (10.5 s per subdistrict with cProfile at scale 1: a quarter of it Fernet encryption
of names, ID numbers and phones, a quarter generating rows, the rest the server's COPY and index
building). Then,
through the app's own code, medians of 25 runs after warm-up:

- person lookup by ID number: ``webapp.register.queries.find_by_id_number`` (the blind index
  ``person.id_index``) as the center on an open session, each run a different existing ID
  number (≤ 5 ms); and the search panel /register/search?q=<ID number> as the center through
  the Flask test client, for information (it also writes its audit record);
- a building's panel with its households (/register/building/<id> as htmx asks for it) as the
  center and as that building's grid worker, on a building with the median number of houses
  and on the largest (≤ 50 ms), with the statements one request runs.

``--explain`` also prints EXPLAIN (ANALYZE, BUFFERS) of every statement the lookup and the
largest building's panel run. Each figure prints as ``name: value (target)``, with the app's
CPU time per call in this process beside it: the part a busy shared machine does not inflate.
Run alone with ``make bench-register`` or ``python -m bench.register``; ``python -m bench``
ends with it (``--register-scale 0`` skips it).
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from contextlib import contextmanager

from sqlalchemy import event, func, select, text
from sqlalchemy.orm import Session

from webapp import create_app, dbadmin, migrate
from webapp.auth.queries import DEMO_PASSWORD, create_user, ensure_demo_accounts
from webapp.db import make_engine
from webapp.demo.load import load_demo
from webapp.models import Person, User
from webapp.register import queries

from .events import client_for

RUNS = 25
SCALE = 53
LOOKUP_TARGET_MS = 5.0
PANEL_TARGET_MS = 50.0
PANEL = {"HX-Request": "true"}


def _median_ms(fn, runs: int = RUNS) -> tuple[float, float]:
    """Median wall-clock and CPU milliseconds of ``fn`` in this process (the test client runs
    the app here, so the CPU figure is the app's own work without the database server's, and
    without the waits of a busy machine)."""
    fn()
    fn()  # warm caches, plans and the session
    wall, cpu = [], []
    for _ in range(runs):
        started, used = time.perf_counter(), time.process_time()
        fn()
        wall.append((time.perf_counter() - started) * 1000)
        cpu.append((time.process_time() - used) * 1000)
    return statistics.median(wall), statistics.median(cpu)


@contextmanager
def _statements(app):
    """The statements (with their parameters) the app's engines run inside the block."""
    ran: list[tuple[str, object]] = []

    def record(_conn, _cursor, statement, parameters, *_args):
        ran.append((statement, parameters))

    engines = [app.extensions["db_engine"], app.extensions["db_read_engine"]]
    for engine in {id(e): e for e in engines}.values():
        event.listen(engine, "before_cursor_execute", record)
    try:
        yield ran
    finally:
        for engine in {id(e): e for e in engines}.values():
            event.remove(engine, "before_cursor_execute", record)


def _explain(engine, ran: list[tuple[str, object]]) -> list[str]:
    """EXPLAIN (ANALYZE, BUFFERS) of each read statement in ``ran``, indented under it."""
    lines = []
    with engine.connect() as conn:
        cursor = conn.connection.driver_connection.cursor()
        for statement, parameters in ran:
            if not statement.lstrip().upper().startswith("SELECT"):
                continue
            lines.append("  " + " ".join(statement.split())[:300])
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + statement, parameters)
            lines += ["    " + row[0] for row in cursor.fetchall()]
        conn.rollback()
    return lines


def _grid_worker(session: Session, community_id: int, grid_id: int) -> str:
    """A grid-worker account for ``grid_id`` (the demo's own is for the first grid only)."""
    username = f"bench_grid{grid_id}"
    if session.scalar(select(User.id).where(User.username == username)) is None:
        create_user(
            session,
            username=username,
            password=DEMO_PASSWORD,
            role="grid",
            display_name="网格员",
            community_id=community_id,
            grid_id=grid_id,
        )
    return username


def _buildings(conn) -> dict[str, tuple[int, int, int, int]]:
    """(id, houses, community, grid) of a building with the median number of houses and of the
    one with the most."""
    sizes = conn.execute(
        text(
            "SELECT b.id, count(*) AS houses, b.community_id, b.grid_id FROM house h"
            " JOIN building b ON b.id = h.building_id GROUP BY b.id ORDER BY houses, b.id"
        )
    ).all()
    return {"typical": tuple(sizes[len(sizes) // 2]), "largest": tuple(sizes[-1])}


def measure(scale: int = SCALE, explain: bool = False) -> list[str]:
    """Build the database, take the figures; return the printed lines."""
    db_url = dbadmin.create_database("gridmap_benchregister")
    url = dbadmin.url_string(db_url)
    try:
        migrate.upgrade(url)
        started = time.perf_counter()
        load_demo(url, scale=scale, progress=False)
        load_s = time.perf_counter() - started
        engine = make_engine(url)
        with Session(engine) as session:
            ensure_demo_accounts(session)
            session.commit()
        engine.dispose()
        lines = [
            f"register_demo_scale{scale}_load_s: {load_s:.1f} (demo loader, encryption"
            " included; minutes, not tens of minutes)"
        ]
        return lines + figures(url, explain)
    finally:
        dbadmin.drop_database(db_url)


def figures(url: str, explain: bool = False) -> list[str]:
    """The figures on a database holding the demo and its accounts."""
    engine = make_engine(url)
    with engine.connect() as conn:
        people, households, houses = conn.execute(
            text(
                "SELECT (SELECT count(*) FROM person), (SELECT count(*) FROM household),"
                " (SELECT count(*) FROM house)"
            )
        ).one()
        buildings = _buildings(conn)
        residents = {
            name: conn.execute(
                text(
                    "SELECT count(*) FROM residence r JOIN house h ON h.id = r.house_id"
                    " WHERE h.building_id = :b AND r.moved_out IS NULL"
                ),
                {"b": b[0]},
            ).scalar_one()
            for name, b in buildings.items()
        }
    with Session(engine) as session:
        workers = {name: _grid_worker(session, b[2], b[3]) for name, b in buildings.items()}
        session.commit()
    engine.dispose()
    lines = [f"register_people: {people} ({households} households, {houses} houses; ≥ 2000000)"]
    app = create_app(
        {"DATABASE_URL": url, "PUBLIC_CACHE_SECONDS": 0, "LOGIN_RATE_LIMIT": "1000 per minute"}
    )
    lines += _lookup(app, explain)
    center = client_for(app, "center")
    for name, (building_id, houses, _community, _grid) in buildings.items():
        endpoint = f"/register/building/{building_id}"
        first = center.get(endpoint, headers=PANEL)
        assert first.status_code == 200, (endpoint, first.status_code)
        assert first.get_data(as_text=True).count('class="house"') == houses, endpoint
        with _statements(app) as ran:
            center.get(endpoint, headers=PANEL)
        worker = client_for(app, workers[name])
        as_center = _median_ms(lambda e=endpoint: center.get(e, headers=PANEL))
        as_worker = _median_ms(lambda e=endpoint, w=worker: w.get(e, headers=PANEL))
        shape = f"{houses} houses, {residents[name]} residents, {len(ran)} statements"
        lines += [
            f"register_building_{name}_center_ms: {as_center[0]:.1f} (≤ {PANEL_TARGET_MS:.0f};"
            f" {shape}; app CPU {as_center[1]:.1f} ms)",
            f"register_building_{name}_grid_worker_ms: {as_worker[0]:.1f}"
            f" (≤ {PANEL_TARGET_MS:.0f}; app CPU {as_worker[1]:.1f} ms)",
        ]
        if explain and name == "largest":
            lines.append(f"register_building_{name}_explain:")
            lines += _explain(app.extensions["db_engine"], ran)
    app.extensions["db_engine"].dispose()
    app.extensions["db_read_engine"].dispose()
    return lines


def _lookup(app, explain: bool) -> list[str]:
    """The lookup by ID number: the app's query on an open session, then the search panel."""
    rng = random.Random(2021)
    with app.extensions["db_sessionmaker"]() as session:
        center = session.scalars(select(User).where(User.username == "center")).one()
        last = session.scalar(select(func.max(Person.id)))
        ids = rng.sample(range(1, last + 1), 2 * RUNS + 4)
        numbers = [p.id_number for p in session.scalars(select(Person).where(Person.id.in_(ids)))]
        rng.shuffle(numbers)
        session.expunge_all()
        turn = iter(numbers)

        def lookup():
            session.expunge_all()  # every run a new person, loaded afresh
            number = next(turn)
            person = queries.find_by_id_number(session, center, number)
            assert person is not None and person.id_number == number

        sql_ms = _median_ms(lookup)
        session.expunge_all()
        with _statements(app) as ran:
            queries.find_by_id_number(session, center, numbers[-1])
    client = client_for(app, "center")
    pages = iter(numbers[RUNS + 2 :] + numbers[: RUNS + 2])

    def search():
        response = client.get(f"/register/search?q={next(pages)}", headers=PANEL)
        assert response.status_code == 200 and "/register/person/" in response.get_data(
            as_text=True
        )

    page_ms = _median_ms(search)
    lines = [
        f"register_lookup_id_number_sql_ms: {sql_ms[0]:.2f} (≤ {LOOKUP_TARGET_MS:.0f}; the app's"
        f" find_by_id_number through the blind index, {len(ran)} statement, a different"
        f" person each run; app CPU {sql_ms[1]:.2f} ms)",
        f"register_lookup_id_number_endpoint_ms: {page_ms[0]:.1f} (no target: the search panel"
        f" as the center, audit record included; app CPU {page_ms[1]:.1f} ms)",
    ]
    if explain:
        lines.append("register_lookup_id_number_explain:")
        lines += _explain(app.extensions["db_engine"], ran)
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=int, default=SCALE, help="demo subdistricts")
    parser.add_argument(
        "--explain", action="store_true", help="print EXPLAIN ANALYZE of the measured statements"
    )
    args = parser.parse_args()
    for line in measure(args.scale, args.explain):
        print(line, flush=True)


if __name__ == "__main__":
    main()

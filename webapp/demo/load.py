"""Load the demo city into PostGIS with COPY, in one transaction.

COPY with ids assigned in Python keeps a 1,000-fold city (≈ 3.5 M rows) to minutes: no round
trips for keys, and geometries travel as hex EWKB that PostGIS parses directly.

Grids and staff point at each other (grid.leader_id → staff_person, staff_person.grid_id →
grid), so grids are copied without their 网格长/网格员 first and given them by one UPDATE after
the staff are in.

Staff phones and place contacts' phones are personal data: they are encrypted with DATA_KEY
(Fernet) on their way into COPY, as the ORM would store them (about 13 µs a row: some 14 s for
the million staff of scale 1000). A staff person's published work phone (公示电话) is not.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

import psycopg
from psycopg import sql
from sqlalchemy.engine import make_url
from tqdm import tqdm

from webapp import clock, config
from webapp.crypto import blind_index_with, encrypt_with

from .generations import load_generations
from .layout import DemoLayout, generate_layout
from .people import load_people
from .standards import load_standards

log = logging.getLogger(__name__)

# Filled in after staff_person is loaded (see module docstring).
DEFERRED_COLUMNS = {"grid": ("leader_id", "worker_id")}

# The register (webapp/demo/people.py), loaded after the map from the buildings it holds.
PEOPLE_TABLES = (
    "house",
    "household",
    "person",
    "residence",
    "person_category",
    "visit",
    "org_unit",
    "resident_group",
    "volunteer",
)

# Personal data, stored encrypted (webapp.crypto.EncryptedString on the models).
ENCRYPTED_COLUMNS = {"staff_person": ("phone",), "place": ("phone",)}


class DemoError(Exception):
    """The demo cannot be loaded as asked (data already there, lookup table missing …)."""


def conninfo_for(target: str) -> str:
    """A libpq conninfo from a SQLAlchemy URL (postgresql+psycopg://…) or a plain conninfo."""
    if "://" not in target:
        return target
    url = make_url(target).set(drivername="postgresql")
    return url.render_as_string(hide_password=False)


def load_demo(
    target: str,
    scale: int = 1,
    seed: int = 2021,
    progress: bool = True,
    replace: bool = False,
    key: str | None = None,
) -> dict[str, int]:
    """Generate the demo city of ``scale`` subdistricts and load it; return rows per table.

    ``target`` is a SQLAlchemy URL or a libpq conninfo. The database must be migrated and hold
    no demo data; with ``replace`` the demo tables are emptied first (TRUNCATE … CASCADE, so a
    table that references them is emptied too). Login accounts survive a replace unless they
    are bound to a community or grid: those point into the old data and are deleted (the caller
    recreates them, e.g. with its demo-account seeding). Everything happens in one transaction:
    on any error the database is left as it was. Personal phones are encrypted with ``key``, by
    default DATA_KEY as webapp.config reads it (the key the app will read them with).

    Raises:
        DemoError: the database already holds data and ``replace`` is False, or facility_type
            lacks a type the demo uses.
    """
    layout = generate_layout(scale=scale, seed=seed)
    key = key or config._data_key()
    encrypt = encrypt_with(key)
    started = time.perf_counter()
    with psycopg.connect(conninfo_for(target)) as conn:
        conn.add_notice_handler(lambda notice: log.info("%s", notice.message_primary))
        with conn.cursor() as cur:
            if replace:
                _empty_demo_tables(cur, layout)
            else:
                _refuse_if_not_empty(cur, layout)
            type_ids = _facility_type_ids(cur, layout)
            counts = _copy_all(cur, layout, type_ids, encrypt, progress)
            _reset_sequences(cur, layout)
            _date_camera_states(cur)
            counts["patrol_team"] = _demo_patrol_teams(cur)
            counts.update(
                load_people(cur, encrypt, blind_index_with(key), seed=seed, today=clock.today())
            )
            counts.update(load_generations(cur))
            counts.update(load_standards(cur, encrypt, seed, clock.today()))
    # The register's tables too: without statistics the planner guesses a building's houses at
    # a handful and reads every open residence of the city to find theirs.
    with psycopg.connect(conninfo_for(target), autocommit=True) as conn:
        for table in (*layout.tables, *PEOPLE_TABLES):
            conn.execute(sql.SQL("ANALYZE {}").format(sql.Identifier(table)))
    log.info("demo city of %d loaded in %.1f s", scale, time.perf_counter() - started)
    return counts


# The leader's phone is copied as the staff row stores it, a Fernet token: it opens with the same
# key, so patrol_team.phone is encrypted and readable without a round trip through Python.
DEMO_TEAMS_SQL = """
INSERT INTO patrol_team (name, kind, community_id, leader, phone)
SELECT c.name || t.suffix, t.kind, c.id, s.name, s.phone
FROM community c
CROSS JOIN (VALUES ('民警巡逻组', '社区民警', '社区民警'),
                   ('义务巡逻队', '义务巡逻队', '志愿者')) AS t(suffix, kind, staff_role)
LEFT JOIN LATERAL (SELECT name, phone FROM staff_person p
                   WHERE p.community_id = c.id AND p.role = t.staff_role
                   ORDER BY p.id LIMIT 1) s ON true
ORDER BY c.id, t.kind
"""


def _demo_patrol_teams(cur: psycopg.Cursor) -> int:
    """Two patrol teams per community: the community police officer's, and the volunteers'."""
    cur.execute(DEMO_TEAMS_SQL)
    return cur.rowcount


def _refuse_if_not_empty(cur: psycopg.Cursor, layout: DemoLayout) -> None:
    filled = [
        table
        for table in layout.tables
        if cur.execute(
            sql.SQL("SELECT EXISTS (SELECT 1 FROM {})").format(sql.Identifier(table))
        ).fetchone()[0]
    ]
    if filled:
        raise DemoError(
            "The database already holds map data (in " + ", ".join(filled) + "); "
            "load the demo with replace=True to empty those tables first."
        )


def _empty_demo_tables(cur: psycopg.Cursor, layout: DemoLayout) -> None:
    """TRUNCATE the demo tables; keep the login accounts that are not bound to an area."""
    cur.execute(
        "CREATE TEMP TABLE demo_kept_user ON COMMIT DROP AS "
        "SELECT * FROM app_user WHERE community_id IS NULL AND grid_id IS NULL"
    )
    removed = cur.execute(
        "SELECT count(*) FROM app_user WHERE community_id IS NOT NULL OR grid_id IS NOT NULL"
    ).fetchone()[0]
    tables = sql.SQL(", ").join(sql.Identifier(t) for t in (*layout.tables, "app_user"))
    cur.execute(sql.SQL("TRUNCATE {} CASCADE").format(tables))
    cur.execute("INSERT INTO app_user SELECT * FROM demo_kept_user")
    if removed:
        log.warning("replace: deleted %d login account(s) bound to the old communities", removed)


def _facility_type_ids(cur: psycopg.Cursor, layout: DemoLayout) -> dict[str, int]:
    ids = dict(cur.execute("SELECT code, id FROM facility_type").fetchall())
    wanted = set(layout.tables["facility"].column_values[1])
    missing = sorted(wanted - ids.keys())
    if missing:
        raise DemoError(
            "facility_type lacks the demo's types " + ", ".join(missing) + "; "
            "run the migrations (they seed the types) before loading the demo."
        )
    return ids


def _copy_all(
    cur: psycopg.Cursor,
    layout: DemoLayout,
    type_ids: dict[str, int],
    encrypt: Callable[[str], str],
    progress: bool,
) -> dict[str, int]:
    bar = tqdm(
        total=sum(layout.row_counts().values()),
        unit="row",
        unit_scale=True,
        dynamic_ncols=True,
        disable=not progress,
    )
    counts = {}
    try:
        for table in layout.tables:
            bar.set_description(table)
            started = time.perf_counter()
            columns, convert = _copy_shape(layout, table, type_ids, encrypt)
            statement = sql.SQL("COPY {} ({}) FROM STDIN").format(
                sql.Identifier(table), sql.SQL(", ").join(map(sql.Identifier, columns))
            )
            with cur.copy(statement) as copy:
                for rows in layout.iter_rows(table):
                    for row in convert(rows):
                        copy.write_row(row)
                    bar.update(len(rows))
            counts[table] = layout.row_count(table)
            log.debug("%s: %d rows in %.1f s", table, counts[table], time.perf_counter() - started)
            if table == "staff_person":
                _fill_deferred(cur, layout)
    finally:
        bar.close()
    return counts


def _copy_shape(
    layout: DemoLayout, table: str, type_ids: dict[str, int], encrypt: Callable[[str], str]
) -> tuple[list[str], Callable[[list[tuple]], list[tuple]]]:
    """The columns to COPY into and how to turn layout rows into them: deferred columns
    dropped, facility type codes turned into ids, personal data encrypted."""
    columns = list(layout.tables[table].columns)
    if table in ENCRYPTED_COLUMNS:
        secret = {columns.index(column) for column in ENCRYPTED_COLUMNS[table]}
        return columns, lambda rows: [
            tuple(
                encrypt(value) if i in secret and value is not None else value
                for i, value in enumerate(row)
            )
            for row in rows
        ]
    if table in DEFERRED_COLUMNS:
        keep = [i for i, column in enumerate(columns) if column not in DEFERRED_COLUMNS[table]]
        return [columns[i] for i in keep], lambda rows: [[row[i] for i in keep] for row in rows]
    if table == "facility":
        at = columns.index("type_code")
        columns[at] = "type_id"
        return columns, lambda rows: [
            (*row[:at], type_ids[row[at]], *row[at + 1 :]) for row in rows
        ]
    return columns, lambda rows: rows


def _fill_deferred(cur: psycopg.Cursor, layout: DemoLayout) -> None:
    """Give grids their 网格长 and 网格员 now that the staff rows exist."""
    cur.execute(
        "CREATE TEMP TABLE demo_grid_staff (id int, leader_id int, worker_id int) ON COMMIT DROP"
    )
    with cur.copy("COPY demo_grid_staff (id, leader_id, worker_id) FROM STDIN") as copy:
        for replica in range(layout.scale):
            columns = [
                layout.replica_column("grid", column, replica)
                for column in ("id", *DEFERRED_COLUMNS["grid"])
            ]
            for row in zip(*columns, strict=True):
                copy.write_row(row)
    cur.execute(
        "UPDATE grid SET leader_id = s.leader_id, worker_id = s.worker_id "
        "FROM demo_grid_staff s WHERE grid.id = s.id"
    )


def _date_camera_states(cur) -> None:
    """The cameras that are down went down some hours to ten days before the load
    (deterministic by id), not at the load itself: the wall's ticker would otherwise announce
    every one of them for its first two hours."""
    cur.execute(
        "UPDATE camera SET state_since = now() - make_interval(hours => 6 + id % 240)"
        " WHERE state <> '在线'"
    )


def _reset_sequences(cur: psycopg.Cursor, layout: DemoLayout) -> None:
    """Ids came from Python: move each id sequence past them so the app can insert."""
    for table in layout.tables:
        cur.execute(
            sql.SQL("SELECT setval(pg_get_serial_sequence(%s, 'id'), max(id)) FROM {}").format(
                sql.Identifier(table)
            ),
            [table],
        )

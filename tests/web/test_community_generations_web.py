"""新一代社区划分 through the panel (the choice, the job, its refusal), and the map as of a past
date: the layer control's counts of that day's layout, the read-only panel of an archived
grid, and the move list with names (people masked)."""

from __future__ import annotations

import io
import re
from datetime import date, timedelta

from openpyxl import load_workbook
from sqlalchemy import text

from tests.db.test_community_generations import EDGE_SQL, layout, shape
from tests.helpers import HX
from tests.web.test_boundary_panel import step, upload
from webapp import clock
from webapp.demo.generations import SPLIT_ON

FIELDS = {"level": "community", "name": "名称", "code": "编码", "parent": "上级编码"}
SPLIT = date.fromisoformat(SPLIT_ON)


def generation_fields(day) -> dict:
    return {**FIELDS, "mode": "generation", "valid_from": day.isoformat(), "note": "社区调整"}


def run_job(client, queued) -> str:
    from webapp.jobs.worker import Worker

    assert queued.status_code == 202, queued.get_data(as_text=True)[:600]
    Worker(client.application).run_pending()
    job_url = re.search(r'hx-get="(/jobs/\d+)"', queued.get_data(as_text=True)).group(1)
    return client.get(job_url, headers=HX).get_data(as_text=True)


def test_center_moves_a_grid_to_the_neighbour_community_through_the_panel(
    client, auth, connection, tmp_path
):
    auth.login("center")
    edge = connection.execute(text(EDGE_SQL)).one()
    a_geom = shape(connection, "SELECT ST_Difference(c.geom, g.geom) FROM community c, grid g"
                   " WHERE c.code = :a AND g.id = :g", a=edge.a_code, g=edge.grid_id)  # fmt: skip
    b_geom = shape(connection, "SELECT ST_Union(c.geom, g.geom) FROM community c, grid g"
                   " WHERE c.code = :b AND g.id = :g", b=edge.b_code, g=edge.grid_id)  # fmt: skip
    path = layout(connection, tmp_path, {edge.a_code: a_geom, edge.b_code: b_geom})
    mapping = upload(client, path.read_bytes(), "c.geojson", level="community")
    assert mapping.status_code == 200
    assert "导入方式(社区、网格)" in mapping.get_data(as_text=True)
    day = clock.today() - timedelta(days=2)
    preview = step(client, "/boundaries/preview", **generation_fields(day))
    html = preview.get_data(as_text=True)
    assert preview.status_code == 200, html[:800]
    assert "新一代划分" in html and "沿用编码" in html and "个社区" in html
    done = run_job(client, step(client, "/boundaries/run", **generation_fields(day)))
    assert "已导入新一代社区划分" in done and "网格 1" in done
    assert connection.execute(
        text("SELECT community_id FROM grid WHERE id = :g"), {"g": edge.grid_id}
    ).scalar() == edge.b_id  # fmt: skip
    page = client.get("/boundaries/generations", headers=HX).get_data(as_text=True)
    assert "社区 #" in page and "网格 #" in page
    gen_id = connection.execute(
        text("SELECT id FROM boundary_generation WHERE level = 'community' AND valid_to IS NULL")
    ).scalar_one()
    moves = client.get(f"/boundaries/generations/{gen_id}?kind=grid", headers=HX)
    assert moves.status_code == 200 and edge.grid_name in moves.get_data(as_text=True)


def test_a_community_layout_cutting_a_grid_fails_the_job_with_its_name(
    client, auth, connection, tmp_path
):
    auth.login("center")
    edge = connection.execute(text(EDGE_SQL)).one()
    half = shape(connection, "SELECT ST_Intersection(g.geom, ST_MakeEnvelope(ST_XMin(g.geom),"
                 " ST_YMin(g.geom), (ST_XMin(g.geom) + ST_XMax(g.geom)) / 2, ST_YMax(g.geom),"
                 " 4326)) FROM grid g WHERE g.id = :g", g=edge.grid_id)  # fmt: skip
    a = shape(connection, "SELECT geom FROM community WHERE code = :a", a=edge.a_code)
    b = shape(connection, "SELECT geom FROM community WHERE code = :b", b=edge.b_code)
    path = layout(
        connection, tmp_path, {edge.a_code: a.difference(half), edge.b_code: b.union(half)}
    )
    upload(client, path.read_bytes(), "c.geojson", level="community")
    day = clock.today()
    assert step(client, "/boundaries/preview", **generation_fields(day)).status_code == 200
    done = run_job(client, step(client, "/boundaries/run", **generation_fields(day)))
    assert f"{edge.grid_name}”({edge.grid_code})跨越了新社区" in done and "未写入任何数据" in done
    assert not connection.execute(
        text("SELECT 1 FROM boundary_generation WHERE level = 'community'")
    ).all()


def test_counts_and_panels_as_of_a_past_date(client, auth, connection):
    """The demo's earlier layout (before SPLIT each community's last two grids were one)."""
    auth.login("center")
    day = (SPLIT - timedelta(days=1)).isoformat()
    now = client.get("/api/layers/counts").get_json()
    then = client.get(f"/api/layers/counts/as-of?as_of={day}").get_json()
    archived = connection.execute(
        text(
            "SELECT a.feature_id, a.code, a.name, a.parent_name FROM boundary_archive a"
            " JOIN boundary_generation g ON g.id = a.generation_id"
            " WHERE g.level = 'grid' AND g.valid_to = :split ORDER BY a.code LIMIT 1"
        ),
        {"split": SPLIT},
    ).one()
    archived_n = connection.execute(
        text(
            "SELECT count(*) FROM boundary_archive a JOIN boundary_generation g"
            " ON g.id = a.generation_id WHERE g.level = 'grid' AND g.valid_to = :split"
        ),
        {"split": SPLIT},
    ).scalar_one()
    assert then["grid"] == archived_n < now["grid"] and then["as_of"] == day
    assert then["community"] == now["community"] and then["building"] == now["building"]
    # The map page as of that day asks for those counts.
    shell = client.get(f"/boundaries/generations?as_of={day}").get_data(as_text=True)
    assert f"/api/layers/counts/as-of?as_of={day}" in shell
    # The archived grid's read-only panel.
    url = f"/map/as-of/grid/{archived.feature_id}?as_of={day}"
    panel = client.get(url, headers=HX)
    html = panel.get_data(as_text=True)
    assert panel.status_code == 200, html[:500]
    assert archived.code in html and archived.parent_name in html and "只读" in html
    assert f"停用日期</dt><dd>{SPLIT}" in html and "m²" in html
    # A community with no generation yet: that day's outline is the live one.
    community_id, community_code = connection.execute(
        text("SELECT id, code FROM community ORDER BY id LIMIT 1")
    ).one()
    community = client.get(f"/map/as-of/community/{community_id}?as_of={day}", headers=HX)
    text_ = community.get_data(as_text=True)
    assert community.status_code == 200 and community_code in text_ and "当前划分" in text_
    assert client.get(f"/map/as-of/grid/999999?as_of={day}", headers=HX).status_code == 404
    assert client.get(f"/map/as-of/building/1?as_of={day}", headers=HX).status_code == 404
    assert client.get(f"/map/as-of/grid/{archived.feature_id}", headers=HX).status_code == 400


def test_the_move_list_names_what_moved_and_masks_people(client, auth, connection):
    auth.login("center")
    gen_id, _, name = connection.execute(
        text(
            "SELECT m.generation_id, m.entity_id, b.name FROM generation_move m"
            " JOIN building b ON b.id = m.entity_id WHERE m.kind = 'building'"
            " ORDER BY m.generation_id, m.entity_id LIMIT 1"
        )
    ).one()
    html = client.get(f"/boundaries/generations/{gen_id}?kind=building", headers=HX).get_data(
        as_text=True
    )
    assert "名称 / 地址" in html and name in html
    from sqlalchemy.orm import Session

    from webapp.models.register import Person

    # The demo's generation moved buildings and houses: list a few people as moved too.
    connection.execute(
        text(
            "INSERT INTO generation_move (generation_id, kind, entity_id, old_grid_code,"
            " new_grid_code) SELECT :g, 'person', p.id, g.code, g.code FROM person p"
            " JOIN grid g ON g.id = p.grid_id ORDER BY p.id LIMIT 3"
        ),
        {"g": gen_id},
    )
    with Session(connection) as s:
        first = s.scalars(
            text(
                "SELECT m.entity_id FROM generation_move m WHERE m.kind = 'person'"
                " AND m.generation_id = :g ORDER BY m.entity_id LIMIT 1"
            ).bindparams(g=gen_id)
        ).one()
        person = s.get(Person, first)
        full, id_number = person.name, person.id_number
    people = client.get(f"/boundaries/generations/{gen_id}?kind=person", headers=HX).get_data(
        as_text=True
    )
    assert f"{full[0]}{'*' * (len(full) - 1)}" in people
    assert full not in people and id_number not in people
    sheet = client.get(f"/boundaries/generations/{gen_id}/moves.xlsx")
    rows = list(load_workbook(io.BytesIO(sheet.data)).active.iter_rows(values_only=True))
    assert rows[0][-1] == "名称 / 地址" and rows[0][:3] == ("类型", "编号", "原网格编码")
    assert all(r[-1] for r in rows[1:])
    assert not any(full == r[-1] or id_number in str(r) for r in rows)
    assert any(r[0] == "房屋" and "单元" in r[-1] for r in rows)

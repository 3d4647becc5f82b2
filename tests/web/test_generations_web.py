"""新一代划分 through the panel: the choice in the mapping step, the job, the generations page,
the move list and its Excel file, the grid layer as of a date (and its ETag), and refusals."""

from __future__ import annotations

import io
import re
from datetime import timedelta

import pytest
from openpyxl import load_workbook
from sqlalchemy import text

from tests.boundary_files import PAIR_SQL, grid_layout
from tests.helpers import HX, TEST_SETTINGS, AuthActions
from tests.web.test_boundary_panel import step, upload
from webapp import clock

FIELDS = {"level": "grid", "name": "名称", "code": "编码", "parent": "上级编码"}


@pytest.fixture
def pair(connection):
    return connection.execute(text(PAIR_SQL)).one()


def generation_fields(day) -> dict:
    return {**FIELDS, "mode": "generation", "valid_from": day.isoformat(), "note": "网格调整"}


def bbox(connection) -> str:
    box = connection.execute(
        text(
            "SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) FROM"
            " (SELECT ST_Extent(geom)::geometry e FROM grid) q"
        )
    ).one()
    return ",".join(f"{v:.5f}" for v in box)


def test_center_imports_a_generation_and_reads_its_moves_and_the_old_map(
    client, auth, connection, tmp_path, pair
):
    auth.login("center")
    _, a_code, b_id, b_code = pair
    buildings = connection.execute(
        text("SELECT count(*) FROM building WHERE grid_id = :g"), {"g": b_id}
    ).scalar_one()
    path = grid_layout(connection, tmp_path, merge=(a_code, b_code))
    day = clock.today() - timedelta(days=3)
    assert upload(client, path.read_bytes(), "grids.geojson", level="grid").status_code == 200
    preview = step(client, "/boundaries/preview", **generation_fields(day))
    html = preview.get_data(as_text=True)
    assert preview.status_code == 200, html[:800]
    assert "新一代划分" in html and f"将撤销 1 个网格:{b_code}" in html
    queued = step(client, "/boundaries/run", **generation_fields(day))
    assert queued.status_code == 202
    from webapp.jobs.worker import Worker

    Worker(client.application).run_pending()
    job_url = re.search(r'hx-get="(/jobs/\d+)"', queued.get_data(as_text=True)).group(1)
    done = client.get(job_url, headers=HX).get_data(as_text=True)
    assert "已导入新一代网格划分" in done and f"楼栋 {buildings}" in done

    page = client.get("/boundaries/generations", headers=HX).get_data(as_text=True)
    assert day.isoformat() in page and "当前" in page and "2024-01-01" in page
    last_day = (day - timedelta(days=1)).isoformat()
    assert f"/boundaries/generations?as_of={last_day}" in page
    gen_id = connection.execute(
        text("SELECT id FROM boundary_generation WHERE valid_to IS NULL")
    ).scalar_one()
    moves = client.get(f"/boundaries/generations/{gen_id}?kind=building", headers=HX)
    html = moves.get_data(as_text=True)
    assert moves.status_code == 200 and f"楼栋 {buildings}" in html and b_code in html
    sheet = client.get(f"/boundaries/generations/{gen_id}/moves.xlsx")
    assert sheet.status_code == 200
    rows = list(load_workbook(io.BytesIO(sheet.data)).active.iter_rows(values_only=True))
    assert rows[0][:3] == ("类型", "编号", "原网格编码")
    assert sum(1 for r in rows if r[0] == "楼栋" and r[2] == b_code) == buildings
    assert all(isinstance(r[2], str) for r in rows[1:])  # codes as text

    # The grid layer as of the old generation's last day holds the retired grid; today not.
    args = f"bbox={bbox(connection)}&zoom=14"
    old = client.get(f"/api/layers/grid.geojson?{args}&as_of={last_day}").get_json()
    now = client.get(f"/api/layers/grid.geojson?{args}").get_json()
    assert b_code in {f["properties"]["code"] for f in old["features"]}
    assert b_code not in {f["properties"]["code"] for f in now["features"]}
    assert all(f["properties"]["as_of"] == last_day for f in old["features"])
    bad = client.get(f"/api/layers/grid.geojson?{args}&as_of=2025-13-40")
    assert bad.status_code == 400 and "查看日期无效" in bad.get_json()["error"]
    # The map page as of that day puts the date into the two layers' URLs.
    shell = client.get(f"/boundaries/generations?as_of={last_day}").get_data(as_text=True)
    assert f"grid.geojson?as_of={last_day}" in shell and "地图上的网格、社区边界为" in shell


def test_the_as_of_date_is_part_of_the_layer_etag(database_url):
    """On the real database (announcements arrive on commit): the dated layer has its own
    versioned ETag, and its repeat is a 304."""
    from webapp import create_app, data_versions

    app = create_app({**TEST_SETTINGS, "DATABASE_URL": database_url, "DATA_VERSIONS": True})
    assert data_versions.wait_until_listening(app)
    try:
        client = app.test_client()
        AuthActions(client).login("center")
        url = "/api/layers/grid.geojson?bbox=120.35,36.28,120.43,36.34&zoom=14"
        plain = client.get(url).headers["ETag"]
        dated = client.get(url + "&as_of=2024-01-01").headers["ETag"]
        other = client.get(url + "&as_of=2024-01-02").headers["ETag"]
        assert plain.startswith('"data-') and dated.startswith('"data-')
        assert len({plain, dated, other}) == 3
        again = client.get(url + "&as_of=2024-01-01", headers={"If-None-Match": dated})
        assert again.status_code == 304
    finally:
        data_versions.current_for(app).stop()
        app.extensions["db_engine"].dispose()


def test_community_staff_cannot_choose_a_new_generation(client, auth, connection, tmp_path, pair):
    auth.login("community")
    _, a_code, _, b_code = pair
    path = grid_layout(connection, tmp_path, merge=(a_code, b_code))
    assert upload(client, path.read_bytes(), "grids.geojson", level="grid").status_code == 200
    mapping = client.get("/boundaries/import", headers=HX).get_data(as_text=True)
    assert "新一代划分" not in mapping
    preview = step(client, "/boundaries/preview", **generation_fields(clock.today()))
    assert preview.status_code == 403
    assert "只有综治中心可以导入新一代网格划分" in preview.get_data(as_text=True)
    run = step(client, "/boundaries/run", **generation_fields(clock.today()))
    assert run.status_code == 403
    assert client.get("/boundaries/generations", headers=HX).status_code == 403
    assert not connection.execute(
        text("SELECT 1 FROM boundary_generation WHERE created_by = 'community'")
    ).all()


def test_a_date_before_the_current_generation_is_refused_at_preview(
    client, auth, connection, tmp_path, pair
):
    auth.login("center")
    connection.execute(
        text("UPDATE boundary_generation SET valid_from = :d WHERE valid_to IS NULL"),
        {"d": clock.today() - timedelta(days=10)},
    )
    _, a_code, _, b_code = pair
    path = grid_layout(connection, tmp_path, merge=(a_code, b_code))
    upload(client, path.read_bytes(), "grids.geojson", level="grid")
    early = clock.today() - timedelta(days=11)
    preview = step(client, "/boundaries/preview", **generation_fields(early))
    assert preview.status_code == 422
    assert "早于当前划分的启用日期" in preview.get_data(as_text=True)
    future = step(client, "/boundaries/preview", **generation_fields(clock.today() + timedelta(1)))
    assert future.status_code == 422 and "晚于今天" in future.get_data(as_text=True)


def test_the_cli_checks_a_generation_and_refuses_a_future_date(
    database_url, monkeypatch, connection, tmp_path, pair
):
    from click.testing import CliRunner

    from webapp.cli import main

    monkeypatch.setenv("DATABASE_URL", database_url)
    _, a_code, _, b_code = pair
    path = grid_layout(connection, tmp_path, merge=(a_code, b_code))
    args = ["boundaries", "import", str(path), "--level", "grid", "--name-column", "名称"]
    args += ["--code-column", "编码", "--parent-column", "上级编码"]
    ok = CliRunner().invoke(main, [*args, "--valid-from", str(clock.today()), "--dry-run"])
    assert ok.exit_code == 0, ok.output
    grids = connection.execute(text("SELECT count(*) FROM grid")).scalar_one()
    assert f"新一代划分 {grids - 1} 个网格(沿用编码 {grids - 1},新增 0,撤销 1)" in ok.output
    assert "检查通过" in ok.output
    future = str(clock.today() + timedelta(days=1))
    refused = CliRunner().invoke(main, [*args, "--valid-from", future])
    assert refused.exit_code == 1 and "晚于今天" in refused.output

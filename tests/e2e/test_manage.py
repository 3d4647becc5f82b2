"""Managing features in headless Chromium: draw a building, boundary refusal, edit conflicts,
area permissions. These tests write to the shared test database and remove what they made."""

import json
import math
import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import text

from tests.helpers import login, open_page, screen_point, wait_for_layers, workbook

pytestmark = pytest.mark.e2e


def compound_point(engine, compound_id: int = 1) -> tuple[float, float]:
    with engine.connect() as conn:
        return conn.execute(
            text(
                "SELECT ST_X(p), ST_Y(p) FROM (SELECT ST_PointOnSurface(geom) p FROM compound"
                " WHERE id = :id) q"
            ),
            {"id": compound_id},
        ).one()


def draw_square(page, lon: float, lat: float, half_m: float, zoom: int) -> None:
    """Draw a square on the map with the drawing tool, corner by corner, and close it."""
    page.evaluate(f"gridmap.map.setView([{lat}, {lon}], {zoom}, {{animate: false}})")
    wait_for_layers(page)
    page.get_by_role("button", name="在地图上绘制").click()
    dlat = half_m / 111_320
    dlon = half_m / (111_320 * math.cos(math.radians(lat)))
    corners = [(-1, -1), (1, -1), (1, 1), (-1, 1), (-1, -1)]
    for sx, sy in corners:
        x, y = screen_point(page, lon + sx * dlon, lat + sy * dlat)
        page.mouse.click(x, y)
        page.wait_for_timeout(120)


def fill_building(page, name: str) -> None:
    page.get_by_label("名称").fill(name)
    page.locator("#compound_id").select_option("1")
    page.get_by_label("层数").fill("6")
    page.get_by_label("单元数").fill("2")


@pytest.mark.slow
def test_draw_a_building_inside_a_compound_and_it_appears_on_the_map(page, requests_seen, engine):
    login(page)
    open_page(page, "/manage/building/new")
    fill_building(page, "浏览器绘制楼")
    lon, lat = compound_point(engine)
    draw_square(page, lon, lat, 5, 19)
    expect(page.locator("textarea[name=geometry]")).to_have_value(re.compile('"Polygon"'))
    try:
        page.get_by_role("button", name="保存").click()
        expect(page.locator("#panel")).to_contain_text("已新增")
        with engine.connect() as conn:
            building_id, compound_id = conn.execute(
                text("SELECT id, compound_id FROM building WHERE name = '浏览器绘制楼'")
            ).one()
        assert compound_id == 1
        # The building layer reloaded in place and now holds the new footprint.
        page.wait_for_function(
            "id => Object.values(gridmap.overlays.building.gmTiles._vectorTiles)"
            ".some(t => t._features && t._features[id])",
            arg=building_id,
        )
        assert page.evaluate("document.querySelector('#panel').dataset.id") == str(building_id)
        # A click on the new footprint opens its feature panel (vector tiles carry the id).
        page.goto("/map")
        page.wait_for_function("() => window.gridmap && window.gridmap.map")
        page.evaluate(f"gridmap.map.setView([{lat}, {lon}], 19, {{animate: false}})")
        wait_for_layers(page)
        page.wait_for_function(
            "id => Object.values(gridmap.overlays.building.gmTiles._vectorTiles)"
            ".some(t => t._features && t._features[id])",
            arg=building_id,
        )
        x, y = screen_point(page, lon, lat)
        page.mouse.click(x, y)
        expect(page.locator("#panel h2")).to_contain_text("浏览器绘制楼")
    finally:
        with engine.begin() as conn:
            conn.execute(text("DELETE FROM building WHERE name = '浏览器绘制楼'"))


@pytest.mark.slow
def test_a_building_drawn_across_the_compound_boundary_is_refused(page, requests_seen, engine):
    login(page)
    open_page(page, "/manage/building/new")
    fill_building(page, "越界楼")
    lon, lat = compound_point(engine)
    draw_square(page, lon, lat, 250, 16)
    with page.expect_response(lambda r: r.url.endswith("/manage/building/new")) as answer:
        page.get_by_role("button", name="保存").click()
    assert answer.value.status == 422
    expect(page.locator("#error-geometry")).to_contain_text("不在所属小区")
    expect(page.get_by_label("名称")).to_have_value("越界楼")  # nothing the user typed is lost
    with engine.connect() as conn:
        assert (
            conn.execute(text("SELECT count(*) FROM building WHERE name = '越界楼'")).scalar() == 0
        )


@pytest.fixture
def spare_camera(engine):
    """A camera of its own, so other tests' expectations of the demo stay true."""
    with engine.begin() as conn:
        camera_id = conn.execute(
            text(
                "INSERT INTO camera (device_code, name, kind, owner_type, state, community_id,"
                " grid_id, geom) SELECT '37021400011326099999', '冲突测试点位', '枪机', '公共',"
                " '在线', community_id, grid_id, ST_PointOnSurface(geom) FROM compound"
                " WHERE id = 1 RETURNING id"
            )
        ).scalar_one()
    yield camera_id
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM camera WHERE id = :id"), {"id": camera_id})


@pytest.mark.slow
def test_two_sessions_edit_one_camera_and_the_second_gets_the_conflict(
    browser, live_server, engine, spare_camera
):
    first = browser.new_context(service_workers="block", base_url=live_server).new_page()
    second = browser.new_context(service_workers="block", base_url=live_server).new_page()
    for page in (first, second):
        login(page)
        open_page(page, f"/manage/camera/{spare_camera}/edit")
    first.get_by_label("名称").fill("甲的修改")
    first.get_by_role("button", name="保存").click()
    expect(first.locator("#panel")).to_contain_text("已保存")
    second.get_by_label("名称").fill("乙的修改")
    second.get_by_role("button", name="保存").click()
    conflict = second.locator(".conflict")
    expect(conflict).to_contain_text("已被center")
    expect(conflict).to_contain_text("乙的修改")
    expect(conflict).to_contain_text("甲的修改")
    expect(second.get_by_label("名称")).to_have_value("乙的修改")
    with engine.connect() as conn:
        name = conn.execute(
            text("SELECT name FROM camera WHERE id = :id"), {"id": spare_camera}
        ).scalar()
    assert name == "甲的修改"
    first.context.close()
    second.context.close()


def test_community_staff_cannot_edit_another_communitys_compound(page, requests_seen, engine):
    with engine.connect() as conn:
        other, own = conn.execute(
            text(
                "SELECT min(id) FILTER (WHERE community_id <> 1),"
                " min(id) FILTER (WHERE community_id = 1) FROM compound"
            )
        ).one()
    login(page, "community")
    open_page(page, f"/manage/compound/{other}")
    expect(page.locator("#panel")).to_be_visible()
    expect(page.get_by_role("link", name="编辑")).to_have_count(0)
    expect(page.get_by_role("button", name="删除")).to_have_count(0)
    open_page(page, f"/manage/compound/{own}")
    expect(page.get_by_role("link", name="编辑")).to_have_count(1)
    # Straight to the form, and a forged POST: both refused.
    response = page.goto(f"/manage/compound/{other}/edit")
    assert response.status == 403
    expect(page.locator("#panel")).to_contain_text("不在您负责的区域内")
    token = page.locator("meta[name=csrf-token]").get_attribute("content")
    forged = page.request.post(
        f"/manage/compound/{other}/edit",
        form={"csrf_token": token, "version": "1", "name": "越权", "enclosure": "封闭式"},
    )
    assert forged.status == 403
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM compound WHERE name = '越权'")).scalar() == 0


def test_an_excel_file_with_two_bad_rows_shows_both_errors_and_writes_nothing(
    page, requests_seen, engine, tmp_path
):
    lon, lat = compound_point(engine)
    square = (
        f"POLYGON(({lon - 0.00003} {lat - 0.00003},{lon + 0.00003} {lat - 0.00003},"
        f"{lon + 0.00003} {lat + 0.00003},{lon - 0.00003} {lat + 0.00003},"
        f"{lon - 0.00003} {lat - 0.00003}))"
    )
    headers = ["名称", "所属小区(编号)", "层数", "单元数", "图形(WKT)"]
    rows = [
        ["导入甲楼", 1, 6, 2, square],
        ["导入乙楼", 1, "六", 2, square],
        [None, 1, 6, 2, square],
        ["导入丁楼", 1, 5, 1, square],
    ]
    path = tmp_path / "楼栋台账.xlsx"
    path.write_bytes(workbook(headers, rows))
    with engine.connect() as conn:
        before = conn.execute(text("SELECT count(*) FROM building")).scalar()
    login(page)
    open_page(page, "/manage/building")
    page.get_by_role("link", name="导入").click()
    page.locator("input[type=file]").set_input_files(str(path))
    with page.expect_response(lambda r: r.url.endswith("/manage/building/import")) as answer:
        page.get_by_role("button", name=re.compile("导入")).last.click()
    # Queued at once: the panel follows the job in the worker, then shows its result.
    assert answer.value.status == 202
    expect(page.locator("#import-job")).to_contain_text("导入在后台进行")
    errors = page.locator("table.import-errors tbody tr")
    expect(errors).to_have_count(2)
    expect(errors.nth(0)).to_contain_text("3")
    expect(errors.nth(0)).to_contain_text("层数")
    expect(errors.nth(1)).to_contain_text("4")
    expect(errors.nth(1)).to_contain_text("名称")
    expect(page.locator("#panel")).to_contain_text("未导入任何数据")
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM building")).scalar() == before


def test_a_long_import_shows_its_progress_then_its_result(page, requests_seen, engine, tmp_path):
    with engine.connect() as conn:
        points = conn.execute(
            text(
                "SELECT ST_X(p.geom), ST_Y(p.geom) FROM grid,"
                " ST_Dump(ST_GeneratePoints(grid.geom, 450, 29)) p"
                " WHERE grid.id = (SELECT min(id) FROM grid)"
            )
        ).all()
    features = [
        {
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [lon, lat]},
            "properties": {"name": f"浏览器导入警务室{number}"},
        }
        for number, (lon, lat) in enumerate(points)
    ]
    path = tmp_path / "警务室.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    login(page)
    open_page(page, "/manage/police_room/import")
    page.locator("input[type=file]").set_input_files(str(path))
    try:
        page.get_by_role("button", name=re.compile("导入")).last.click()
        status = page.locator("#import-job")
        expect(status).to_contain_text("进行中", timeout=30_000)
        expect(status).to_contain_text(re.compile(r"已处理 [1-9]\d* 行"), timeout=60_000)
        expect(status.get_by_role("button", name="取消")).to_be_visible()
        expect(page.locator("#panel")).to_contain_text(
            "已导入 450 条(新增 450,更新 0)", timeout=90_000
        )
        assert re.search(r"/manage/police_room/import/\d+$", page.url)
    finally:
        with engine.begin() as conn:
            conn.execute(text("DELETE FROM police_room WHERE name LIKE '浏览器导入警务室%'"))

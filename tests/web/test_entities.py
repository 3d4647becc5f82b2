"""Management panels: lists, forms, geometry rules, optimistic locking, area permissions, audit."""

import json
import math
import re

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from gis.coords import wgs84_to_gcj02
from tests.helpers import HX, clear_register, count, csrf_token, form_of, point_on

# Entries written in this test's transaction (now() is its start; other tests' entries are older).
# Logins are audited too: count the data writes.
THIS_TEST_AUDIT = "SELECT count(*) FROM audit_log WHERE at >= now() AND entity <> 'account'"


def square(lon: float, lat: float, half_m: float) -> str:
    """A square polygon of side 2 × half_m metres around a point, as GeoJSON text."""
    dlat = half_m / 111_320
    dlon = half_m / (111_320 * math.cos(math.radians(lat)))
    ring = [
        [lon - dlon, lat - dlat],
        [lon + dlon, lat - dlat],
        [lon + dlon, lat + dlat],
        [lon - dlon, lat + dlat],
        [lon - dlon, lat - dlat],
    ]
    return json.dumps({"type": "Polygon", "coordinates": [ring]})


@pytest.fixture
def center(client, auth):
    auth.login("center")
    return client


# ---- lists --------------------------------------------------------------------------------


def test_a_list_filters_searches_sorts_and_pages(center, connection):
    total = count(connection, "SELECT count(*) FROM building")
    html = center.get("/manage/building", headers=HX).get_data(as_text=True)
    assert f"共 {total} 条" in html
    assert "第 1 /" in html  # more than one page of buildings
    community_id = count(connection, "SELECT min(community_id) FROM building")
    in_community = count(
        connection, "SELECT count(*) FROM building WHERE community_id = :c", c=community_id
    )
    html = center.get(f"/manage/building?community={community_id}").get_data(as_text=True)
    assert f"共 {in_community} 条" in html
    name = connection.execute(text("SELECT name FROM compound ORDER BY id LIMIT 1")).scalar()
    html = center.get(f"/manage/compound?q={name}", headers=HX).get_data(as_text=True)
    assert name in html and "共 1 条" in html
    html = center.get("/manage/camera?sort=device_code&dir=desc", headers=HX).get_data(as_text=True)
    codes = re.findall(r">(\d{20})</a>", html)
    assert codes and codes == sorted(codes, reverse=True)
    assert codes[0] == connection.execute(text("SELECT max(device_code) FROM camera")).scalar()


def test_a_community_worker_starts_from_their_own_community(client, auth, connection):
    auth.login("community")
    own = count(connection, "SELECT count(*) FROM compound WHERE community_id = 1")
    html = client.get("/manage/compound", headers=HX).get_data(as_text=True)
    assert f"共 {own} 条" in html
    # The grid list reports the part of the community no grid covers, as SQL measures it.
    uncovered = connection.execute(
        text(
            "SELECT ST_Area(ST_Difference(c.geom, (SELECT ST_Union(geom) FROM grid"
            " WHERE community_id = 1))::geography) FROM community c WHERE id = 1"
        )
    ).scalar()
    html = client.get("/manage/grid", headers=HX).get_data(as_text=True)
    if uncovered > 1:
        assert f"约 {uncovered:,.0f} m² 尚未划入任何网格" in html
    else:
        assert "本社区已全部划入网格" in html


def test_the_list_refuses_nothing_odd(center):
    for url in (
        "/manage/building?page=x&sort=;drop&dir=up&q=' OR 1=1 --",
        "/manage/grid?q=<script>",
    ):
        response = center.get(url, headers=HX)
        assert response.status_code == 200
        assert "<script>" not in response.get_data(as_text=True).split("<aside", 1)[1]
    assert center.get("/manage/nothing").status_code == 404


# ---- create, geometry rules ----------------------------------------------------------------


def _new_building(client, geometry: str, crs: str = "wgs84", **fields):
    data = form_of(client, "/manage/building/new")
    data.update(name="测试楼", floors="6", units="2", households="24", geometry=geometry, crs=crs)
    data.update(fields)
    return client.post("/manage/building/new", data=data, headers=HX)


def test_a_building_drawn_inside_its_compound_is_saved_and_audited(center, connection):
    lon, lat = point_on(connection, "compound", 1)
    response = _new_building(center, square(lon, lat, 4), compound_id="1")
    assert response.status_code == 200, response.get_data(as_text=True)
    assert "已新增" in response.get_data(as_text=True)
    assert json.loads(response.headers["HX-Trigger"]) == {"gridmap:changed": {"layer": "building"}}
    row = connection.execute(
        text("SELECT id, compound_id, grid_id FROM building WHERE name = '测试楼'")
    ).one()
    assert row.compound_id == 1 and row.grid_id is not None
    entry = connection.execute(
        text(
            "SELECT username, action, before, after FROM audit_log WHERE entity = 'building'"
            " AND entity_id = :id"
        ),
        {"id": row.id},
    ).one()
    assert entry.username == "center" and entry.action == "create" and entry.before is None
    assert entry.after["name"] == "测试楼" and entry.after["geometry"]["type"] == "Polygon"


def test_a_building_across_its_compound_boundary_is_refused(center, connection):
    lon, lat = point_on(connection, "compound", 1)
    before = count(connection, "SELECT count(*) FROM building")
    response = _new_building(center, square(lon, lat, 400), compound_id="1")
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "小区" in html and "测试楼" in html  # the message, and the user's input kept
    assert count(connection, "SELECT count(*) FROM building") == before
    assert count(connection, THIS_TEST_AUDIT) == 0


def test_a_self_intersecting_shape_is_refused_with_a_repair_offered(center, connection):
    lon, lat = point_on(connection, "compound", 1)
    d = 0.00003
    bowtie = json.dumps(
        {
            "type": "Polygon",
            "coordinates": [
                [
                    [lon - d, lat - d],
                    [lon + d, lat + d],
                    [lon + d, lat - d],
                    [lon - d, lat + d],
                    [lon - d, lat - d],
                ]
            ],
        }
    )
    response = _new_building(center, bowtie, compound_id="1")
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "自相交" in html and "data-repaired=" in html and "使用修复后的图形" in html
    assert count(connection, "SELECT count(*) FROM building WHERE name = '测试楼'") == 0


@pytest.mark.parametrize(
    ("geometry", "message"),
    [
        (
            '{"type": "Polygon", "coordinates": [[120.1, 36.3], [120.2, 36.3], [120.2, 36.4]]}',
            "嵌套",
        ),
        ('{"type": "Point", "coordinates": [120.37, 36.31]}', "点"),
        ("36.31,120.37\n36.32,120.37\n36.32,120.38\n36.31,120.37", "经纬度"),
        ('{"type": "Polygon", "crs": {"type": "name"}, "coordinates": []}', "crs"),
        ("", "请在地图上绘制"),
    ],
)
def test_bad_geometry_is_refused_with_a_reason(center, connection, geometry, message):
    response = _new_building(center, geometry)
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert count(connection, "SELECT count(*) FROM building WHERE name = '测试楼'") == 0


def test_a_gcj02_point_is_stored_as_wgs84_within_a_metre(center, connection):
    lon, lat = point_on(connection, "compound", 1)
    glon, glat = wgs84_to_gcj02(lon, lat)
    data = form_of(center, "/manage/police_room/new")
    data.update(name="测试警务室", geometry=f"{glon:.7f},{glat:.7f}", crs="gcj02")
    response = center.post("/manage/police_room/new", data=data, headers=HX)
    assert response.status_code == 200, response.get_data(as_text=True)
    metres = connection.execute(
        text(
            "SELECT ST_Distance(geom::geography, ST_SetSRID(ST_MakePoint(:x, :y), 4326)"
            "::geography) FROM police_room WHERE name = '测试警务室'"
        ),
        {"x": lon, "y": lat},
    ).scalar_one()
    assert metres < 1.0


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("<script>alert(1)</script>", "标记字符"),
        ("楼" * 10_000, "最多 100 个字"),
        ("", "请填写名称"),
    ],
)
def test_bad_names_are_refused(center, connection, name, message):
    lon, lat = point_on(connection, "compound", 1)
    response = _new_building(center, square(lon, lat, 4), name=name)
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert count(
        connection,
        "SELECT count(*) FROM building WHERE compound_id = 1 AND name"
        " NOT IN (SELECT name FROM building WHERE id < 0)",
    ) == count(connection, "SELECT count(*) FROM building WHERE compound_id = 1")
    assert count(connection, THIS_TEST_AUDIT) == 0


def test_text_in_a_number_field_is_refused(center, connection):
    lon, lat = point_on(connection, "compound", 1)
    response = _new_building(center, square(lon, lat, 4), floors="六")
    assert response.status_code == 422
    assert count(connection, "SELECT count(*) FROM building WHERE name = '测试楼'") == 0


def test_a_form_without_csrf_token_is_refused(center, connection):
    lon, lat = point_on(connection, "compound", 1)
    data = form_of(center, "/manage/building/new")
    data.pop("csrf_token")
    data.update(name="测试楼", floors="6", units="2", geometry=square(lon, lat, 4))
    response = center.post("/manage/building/new", data=data)
    assert response.status_code == 400
    assert "CSRF" in response.get_data(as_text=True)
    assert count(connection, "SELECT count(*) FROM building WHERE name = '测试楼'") == 0


def test_the_inline_check_explains_a_field(center):
    html = center.get("/manage/camera/new", headers=HX).get_data(as_text=True)
    response = center.post(
        "/manage/camera/check?field=range_m",
        data={"csrf_token": csrf_token(html), "range_m": "5000"},
        headers=HX,
    )
    assert response.status_code == 200
    assert 'id="error-range_m"' in response.get_data(as_text=True)
    assert "不大于 1000" in response.get_data(as_text=True)


# ---- grids ---------------------------------------------------------------------------------


def test_a_grid_that_would_overlap_its_neighbours_is_refused_with_the_overlap(center, connection):
    grid_id, community_id = connection.execute(
        text("SELECT id, community_id FROM grid ORDER BY id LIMIT 1")
    ).one()
    other = connection.execute(
        text(
            "SELECT ST_AsGeoJSON(geom) FROM grid WHERE community_id = :c AND id <> :id"
            " ORDER BY id LIMIT 1"
        ),
        {"c": community_id, "id": grid_id},
    ).scalar_one()
    data = form_of(center, f"/manage/grid/{grid_id}/edit")
    data["geometry"] = other  # the neighbour's whole shape
    response = center.post(f"/manage/grid/{grid_id}/edit", data=data, headers=HX)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "重叠" in html and "m²" in html and "data-overlap=" in html
    assert count(connection, "SELECT version FROM grid WHERE id = :id", id=grid_id) == 1


# ---- optimistic locking --------------------------------------------------------------------


def test_a_stale_save_gets_a_conflict_and_nothing_is_lost(center, connection):
    data = form_of(center, "/manage/camera/1/edit")
    connection.execute(
        text("UPDATE camera SET name = '他人改的名字', version = version + 1 WHERE id = 1")
    )
    data["name"] = "我改的名字"
    response = center.post("/manage/camera/1/edit", data=data, headers=HX)
    assert response.status_code == 409
    html = response.get_data(as_text=True)
    assert "已被" in html and "我改的名字" in html and "他人改的名字" in html
    assert (
        connection.execute(text("SELECT name FROM camera WHERE id = 1")).scalar() == "他人改的名字"
    )
    # The form now carries the current version: saving again overwrites knowingly.
    version = re.search(r'name="version" type="hidden" value="(\d+)"', html) or re.search(
        r'id="version" name="version" type="hidden" value="(\d+)"', html
    )
    data["version"] = version.group(1)
    assert center.post("/manage/camera/1/edit", data=data, headers=HX).status_code == 200
    assert connection.execute(text("SELECT name FROM camera WHERE id = 1")).scalar() == "我改的名字"


def test_a_stale_delete_is_refused(center, connection):
    html = center.get("/manage/building/1", headers=HX).get_data(as_text=True)
    connection.execute(text("UPDATE building SET version = version + 1 WHERE id = 1"))
    response = center.post(
        "/manage/building/1/delete",
        data={"csrf_token": csrf_token(html), "version": "1"},
        headers=HX,
    )
    assert response.status_code == 409
    assert count(connection, "SELECT count(*) FROM building WHERE id = 1") == 1


def test_a_grid_with_features_cannot_be_deleted_but_a_building_can(center, connection):
    html = center.get("/manage/grid/1", headers=HX).get_data(as_text=True)
    response = center.post(
        "/manage/grid/1/delete", data={"csrf_token": csrf_token(html), "version": "1"}, headers=HX
    )
    assert response.status_code == 409
    assert "不能删除" in response.get_data(as_text=True)
    assert count(connection, "SELECT count(*) FROM grid WHERE id = 1") == 1
    delete = {"csrf_token": csrf_token(html), "version": "1"}
    # A building whose houses are registered (一标三实) keeps them: the delete is refused.
    response = center.post("/manage/building/1/delete", data=delete, headers=HX)
    assert response.status_code == 409
    assert count(connection, "SELECT count(*) FROM building WHERE id = 1") == 1
    clear_register(connection, "b.id = 1")
    response = center.post("/manage/building/1/delete", data=delete, headers=HX)
    assert response.status_code == 200
    assert count(connection, "SELECT count(*) FROM building WHERE id = 1") == 0
    assert count(connection, THIS_TEST_AUDIT + " AND action = 'delete'") == 1


# ---- permissions ---------------------------------------------------------------------------


def test_community_staff_cannot_touch_another_communitys_compound(client, auth, connection):
    auth.login("community")
    other = count(connection, "SELECT min(id) FROM compound WHERE community_id <> 1")
    assert client.get(f"/manage/compound/{other}/edit", headers=HX).status_code == 403
    own = count(connection, "SELECT min(id) FROM compound WHERE community_id = 1")
    data = form_of(client, f"/manage/compound/{own}/edit")
    data["name"] = "越权修改"
    response = client.post(f"/manage/compound/{other}/edit", data=data, headers=HX)
    assert response.status_code == 403
    assert "本社区" in response.get_data(as_text=True) or "区域" in response.get_data(as_text=True)
    assert count(connection, "SELECT count(*) FROM compound WHERE name = '越权修改'") == 0
    html = client.get(f"/manage/compound/{own}", headers=HX).get_data(as_text=True)
    response = client.post(
        f"/manage/compound/{other}/delete", data={"csrf_token": csrf_token(html), "version": "1"}
    )
    assert response.status_code == 403
    # Their own compound they may edit.
    response = client.post(f"/manage/compound/{own}/edit", data=data, headers=HX)
    assert response.status_code == 200
    assert count(connection, "SELECT count(*) FROM compound WHERE name = '越权修改'") == 1


def test_a_grid_worker_cannot_move_a_camera_out_of_their_grid(client, auth, connection):
    auth.login("grid")
    camera_id = count(connection, "SELECT min(id) FROM camera WHERE grid_id = 1")
    lon, lat = point_on(
        connection,
        "grid",
        count(connection, "SELECT max(id) FROM grid WHERE community_id = 1 AND id <> 1"),
    )
    data = form_of(client, f"/manage/camera/{camera_id}/edit")
    data.update(geometry=f"{lon},{lat}", crs="wgs84", compound_id="None", grid_id="None")
    response = client.post(f"/manage/camera/{camera_id}/edit", data=data, headers=HX)
    assert response.status_code == 403
    assert "本网格" in response.get_data(as_text=True)
    assert count(connection, "SELECT grid_id FROM camera WHERE id = :id", id=camera_id) == 1
    assert count(connection, THIS_TEST_AUDIT) == 0


def test_planners_and_grid_workers_may_not_write_what_is_not_theirs(client, auth):
    auth.login("planner")
    assert client.get("/manage/building/new", headers=HX).status_code == 403
    assert client.get("/manage/building/1/edit", headers=HX).status_code == 403
    auth.logout()
    auth.login("grid")
    assert client.get("/manage/grid/1/edit", headers=HX).status_code == 403
    assert client.get("/manage/road/new", headers=HX).status_code == 403


# ---- audit ---------------------------------------------------------------------------------


def test_the_audit_log_is_for_the_auditor_and_cannot_be_changed(client, auth, connection):
    auth.login("center")
    data = form_of(client, "/manage/camera/1/edit")
    data["name"] = "审计测试"
    assert client.post("/manage/camera/1/edit", data=data, headers=HX).status_code == 200
    assert client.get("/manage/audit", headers=HX).status_code == 403
    auth.logout()
    auth.login("admin")  # the system administrator does not read the audit log (三权分立)
    assert client.get("/manage/audit", headers=HX).status_code == 403
    auth.logout()
    auth.login("auditor")
    html = client.get("/manage/audit?entity=camera&action=update", headers=HX).get_data(
        as_text=True
    )
    assert "修改监控点位:名称" in html and "center" in html and "127.0.0.1" in html
    with pytest.raises(DBAPIError, match="append-only"), connection.begin_nested():
        connection.execute(text("UPDATE audit_log SET username = 'someone'"))
    with pytest.raises(DBAPIError, match="append-only"), connection.begin_nested():
        connection.execute(text("DELETE FROM audit_log"))


def test_a_drawn_road_joins_the_network(center, connection):
    a = connection.execute(
        text("SELECT ST_X(geom), ST_Y(geom) FROM road_node ORDER BY id LIMIT 1")
    ).one()
    data = form_of(center, "/manage/road/new")
    line = {"type": "LineString", "coordinates": [[a[0], a[1]], [a[0] + 0.001, a[1] + 0.0005]]}
    data.update(name="新修小路", road_class="支路", walkable="y", geometry=json.dumps(line))
    response = center.post("/manage/road/new", data=data, headers=HX)
    assert response.status_code == 200, response.get_data(as_text=True)
    source, target = connection.execute(
        text("SELECT source, target FROM road_segment WHERE name = '新修小路'")
    ).one()
    assert source == count(connection, "SELECT min(id) FROM road_node")
    assert target != source


def test_a_maintenance_record_updates_the_cameras_state(center, connection):
    camera_id = count(connection, "SELECT min(id) FROM camera WHERE state = '在线'")
    html = center.get(f"/manage/camera/{camera_id}", headers=HX).get_data(as_text=True)
    assert "维护记录" in html and "添加维护记录" in html
    record = {
        "csrf_token": csrf_token(html),
        "performed_on": "2026-11-20",
        "kind": "维修",
        "description": "更换电源适配器",
        "performed_by": "维保公司",
        "state_after": "离线",
    }
    response = center.post(f"/manage/camera/{camera_id}/maintenance", data=record, headers=HX)
    assert response.status_code == 200
    assert "更换电源适配器" in response.get_data(as_text=True)
    assert (
        connection.execute(
            text("SELECT state FROM camera WHERE id = :id"), {"id": camera_id}
        ).scalar()
        == "离线"
    )
    assert count(connection, THIS_TEST_AUDIT + " AND entity = 'camera'") == 1
    bad = {**record, "performed_on": "2026-13-40", "description": "<script>x</script>"}
    response = center.post(f"/manage/camera/{camera_id}/maintenance", data=bad, headers=HX)
    assert response.status_code == 422
    assert "维护日期" in response.get_data(as_text=True)
    assert (
        count(
            connection,
            "SELECT count(*) FROM camera_maintenance WHERE camera_id = :id"
            " AND description LIKE '%<script>%'",
            id=camera_id,
        )
        == 0
    )


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [("azimuth_deg", "400", "朝向"), ("field_angle_deg", "0", "视场角"), ("range_m", "0", "距离")],
)
def test_impossible_camera_views_are_refused(center, connection, field, value, message):
    data = form_of(center, "/manage/camera/1/edit")
    data[field] = value
    response = center.post("/manage/camera/1/edit", data=data, headers=HX)
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert count(connection, "SELECT version FROM camera WHERE id = 1") == 1


def test_an_absurd_area_is_refused_by_its_field_in_plain_numbers(center):
    html = center.get("/manage/compound/new", headers=HX).get_data(as_text=True)
    response = center.post(
        "/manage/compound/check?field=total_floor_area_m2",
        data={"csrf_token": csrf_token(html), "total_floor_area_m2": "1e20"},
        headers=HX,
    )
    text_ = response.get_data(as_text=True)
    assert 'id="error-total_floor_area_m2"' in text_
    assert "总建筑面积(m²)应不小于 0、不大于 10000000" in text_


def test_a_grid_workers_lists_start_in_their_grid_and_community(client, auth, connection):
    auth.login("grid")
    community, grids = connection.execute(
        text(
            "SELECT g.community_id, (SELECT count(*) FROM grid x WHERE x.community_id ="
            " g.community_id) FROM app_user u JOIN grid g ON g.id = u.grid_id"
            " WHERE u.username = 'grid'"
        )
    ).one()
    html = client.get("/manage/compound", headers=HX).get_data(as_text=True)
    community_select = re.search(r'<select name="community".*?</select>', html, re.S).group(0)
    assert re.search(rf'<option value="{community}"\s+selected>', community_select)
    grid_select = re.search(r'<select name="grid".*?</select>', html, re.S).group(0)
    assert grid_select.count("<option") == grids + 1  # the community's grids and 全部


@pytest.mark.parametrize(
    ("field", "value", "words"),
    [
        ("name", "东门\x00监控", "控制字符"),
        ("name", "东门\u202e控监", "改变文字方向"),
        ("device_code", "37020000001330000001", "不是摄像机"),  # 20 digits; 133 is a display
        ("device_code", "99020000001310000001", "中心编码"),
    ],
)
def test_the_typing_check_names_the_real_problem(client, auth, field, value, words):
    auth.login()
    page = client.get("/manage/camera/new").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    answer = client.post(
        f"/manage/camera/check?field={field}", data={field: value, "csrf_token": token}
    ).get_data(as_text=True)
    assert words in answer, answer

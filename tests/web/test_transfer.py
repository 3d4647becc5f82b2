"""Import and export of layers: GeoJSON and the Excel 台账, round trips, refusals, areas."""

import io
import json
import math
import re

import pytest
from openpyxl import Workbook, load_workbook
from sqlalchemy import text

from tests.helpers import HX, clear_register, count, point_on, upload, workbook
from webapp import crypto
from webapp.entities import transfer_views

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# Entries of this test's transaction (now() is its start); end-to-end tests commit older ones.
IMPORTS_IN_THIS_TEST = "SELECT count(*) FROM audit_log WHERE action = 'import' AND at >= now()"


@pytest.fixture
def app(app, tmp_path):
    """The transfer blueprint, registered here until create_app does it; uploads wait for
    the worker in the test's own folder."""
    if "transfer" not in app.blueprints:
        app.register_blueprint(transfer_views.bp)
    app.config["UPLOAD_FOLDER"] = str(tmp_path / "uploads")
    return app


@pytest.fixture
def center(client, auth):
    auth.login("center")
    return client


def square_wkt(lon: float, lat: float, half_m: float) -> str:
    dlat = half_m / 111_320
    dlon = half_m / (111_320 * math.cos(math.radians(lat)))
    ring = [
        (lon - dlon, lat - dlat),
        (lon + dlon, lat - dlat),
        (lon + dlon, lat + dlat),
        (lon - dlon, lat + dlat),
        (lon - dlon, lat - dlat),
    ]
    return "POLYGON ((" + ", ".join(f"{x:.7f} {y:.7f}" for x, y in ring) + "))"


def error_rows(html: str) -> list[tuple[str, str, str]]:
    body = html.split('class="entity-list import-errors"', 1)[1].split("</table>", 1)[0]
    return [
        tuple(cell.strip() for cell in cells)
        for cells in re.findall(r"<tr><td>(.*?)</td><td>(.*?)</td><td>(.*?)</td></tr>", body)
    ]


# ---- exports ------------------------------------------------------------------------------


def test_a_geojson_export_keeps_to_the_filter(center, connection):
    community_id = count(connection, "SELECT max(community_id) FROM building")
    response = center.get(f"/manage/building/export.geojson?community={community_id}")
    assert response.status_code == 200
    assert response.mimetype == "application/geo+json"
    assert re.fullmatch(
        r'attachment; filename="building-\d{8}\.geojson"', response.headers["Content-Disposition"]
    )
    doc = json.loads(response.get_data(as_text=True))
    assert doc["type"] == "FeatureCollection" and "crs" not in doc and "gridmap:crs" not in doc
    expected = count(
        connection, "SELECT count(*) FROM building WHERE community_id = :c", c=community_id
    )
    assert len(doc["features"]) == expected > 0
    props = doc["features"][0]["properties"]
    assert {"id", "name", "floors", "compound_id", "grid_id"} <= props.keys()
    assert doc["features"][0]["geometry"]["type"] == "Polygon"


def test_an_export_keeps_to_the_users_area(client, auth, connection):
    auth.login("community")
    ids = {f["id"] for f in client.get("/manage/building/export.geojson").get_json()["features"]}
    own = connection.execute(text("SELECT id FROM building WHERE community_id = 1")).scalars()
    assert ids == set(own)
    # Asking for another community does not widen the area.
    other = client.get("/manage/building/export.geojson?community=2").get_json()
    assert other["features"] == []
    assert client.get("/manage/road/export.geojson").status_code == 403
    auth.logout()
    auth.login("grid")
    ids = {f["id"] for f in client.get("/manage/camera/export.geojson").get_json()["features"]}
    assert ids == set(connection.execute(text("SELECT id FROM camera WHERE grid_id = 1")).scalars())
    auth.logout()
    auth.login("planner")  # reads the whole subdistrict, but roads are the center's
    features = client.get("/manage/building/export.geojson").get_json()["features"]
    assert len(features) == count(connection, "SELECT count(*) FROM building")
    assert client.get("/manage/road/export.xlsx").status_code == 403


def test_a_gcj02_export_says_so_and_staff_have_no_geometry(center, connection):
    doc = center.get("/manage/police_room/export.geojson?crs=gcj02").get_json()
    assert doc["gridmap:crs"] == "gcj02" and "crs" not in doc
    first = doc["features"][0]
    lon, lat = connection.execute(
        text("SELECT ST_X(geom), ST_Y(geom) FROM police_room WHERE id = :id"), {"id": first["id"]}
    ).one()
    glon, glat = first["geometry"]["coordinates"]
    assert 0.001 < abs(glon - lon) + abs(glat - lat) < 0.02  # shifted by some hundred metres
    staff = center.get("/manage/staff/export.geojson").get_json()["features"]
    assert staff and all(f["geometry"] is None for f in staff)
    assert center.get("/manage/building/export.geojson?crs=utm").status_code == 400


def test_an_excel_export_has_chinese_headers_and_the_filtered_rows(center, connection):
    response = center.get("/manage/police_room/export.xlsx?crs=wgs84")
    assert response.status_code == 200 and response.mimetype == XLSX
    assert re.fullmatch(
        r'attachment; filename="police_room-\d{8}\.xlsx"', response.headers["Content-Disposition"]
    )
    book = load_workbook(io.BytesIO(response.data), read_only=True)
    assert book.sheetnames == ["警务室", "填写说明"]
    rows = list(book["警务室"].iter_rows(values_only=True))
    assert rows[0][:4] == ("编号", "名称", "地址", "联系电话")
    assert rows[0][-2:] == ("经度", "纬度") and "社区民警(编号)" in rows[0]
    assert len(rows) - 1 == count(connection, "SELECT count(*) FROM police_room")


def test_a_shape_too_long_for_an_excel_cell_is_not_cut(center, connection):
    connection.execute(
        text(
            "UPDATE place SET geom = ST_Buffer(ST_PointOnSurface(geom)::geography, 5, 2000)"
            "::geometry WHERE id = (SELECT min(id) FROM place)"
        )
    )
    response = center.get("/manage/place/export.xlsx")
    assert response.status_code == 400
    assert "请改为导出 GeoJSON" in response.get_data(as_text=True)
    assert center.get("/manage/place/export.geojson").status_code == 200


def test_the_template_has_the_headers_and_the_instructions(center):
    response = center.get("/manage/building/template.xlsx")
    assert response.status_code == 200 and response.mimetype == XLSX
    book = load_workbook(io.BytesIO(response.data), read_only=True)
    assert book.sheetnames == ["楼栋", "填写说明"]
    rows = list(book["楼栋"].iter_rows(values_only=True))
    assert rows == [
        (
            "编号",
            "名称",
            "地址",
            "所属小区(编号)",
            "层数",
            "单元数",
            "户数",
            "楼栋长(编号)",
            "所属网格(编号)",
            "图形(WKT)",
        )
    ]
    notes = {row[0]: row for row in book["填写说明"].iter_rows(values_only=True) if row}
    assert notes["层数"][1] == "是" and "不小于 1" in notes["层数"][2]
    assert notes["地址"][1] == "否"
    assert any("GCJ-02" in str(row[0]) for row in notes.values())
    camera = load_workbook(io.BytesIO(center.get("/manage/camera/template.xlsx").data))
    kinds = {row[0]: row for row in camera["填写说明"].iter_rows(values_only=True) if row}
    assert "枪机" in kinds["类型"][2] and "是”或“否" in kinds["已接入雪亮工程"][2]


# ---- round trips ---------------------------------------------------------------------------

BUILDING_COLUMNS = "name, address, compound_id, floors, units, households, head_id, grid_id"


def _keep_originals(connection, table: str, where: str) -> int:
    connection.execute(text(f"CREATE TEMP TABLE original AS SELECT * FROM {table} WHERE {where}"))
    connection.execute(text(f"DELETE FROM {table} WHERE {where}"))
    return count(connection, "SELECT count(*) FROM original")


def _matching(connection, table: str, columns: str) -> int:
    """New rows equal to an original in every column and in shape (within 1e-6 degree)."""
    names = [name.strip() for name in columns.split(",")]
    mine = ", ".join(f"t.{name}" for name in names)
    theirs = ", ".join(f"o.{name}" for name in names)
    return count(
        connection,
        f"SELECT count(*) FROM {table} t JOIN original o ON ({mine}) IS NOT DISTINCT FROM"
        f" ({theirs}) AND ST_HausdorffDistance(t.geom, o.geom) < 1e-6",
    )


def test_a_geojson_export_imports_back_equal(center, connection):
    compound_id = count(
        connection,
        "SELECT compound_id FROM building WHERE compound_id IS NOT NULL"
        " GROUP BY 1 ORDER BY count(*) DESC LIMIT 1",
    )
    data = center.get(f"/manage/building/export.geojson?compound={compound_id}").data
    clear_register(connection, f"b.compound_id = {compound_id}")
    total = _keep_originals(connection, "building", f"compound_id = {compound_id}")
    assert total > 5
    response = upload(center, "building", data, "楼栋.geojson")
    assert response.status_code == 200, response.get_data(as_text=True)
    assert f"已导入 {total} 条(新增 {total},更新 0)" in response.get_data(as_text=True)
    assert json.loads(response.headers["HX-Trigger"]) == {"gridmap:changed": {"layer": "building"}}
    in_compound = "SELECT count(*) FROM building WHERE compound_id = :c"
    assert count(connection, in_compound, c=compound_id) == total
    assert _matching(connection, "building", BUILDING_COLUMNS) == total
    audit = count(connection, IMPORTS_IN_THIS_TEST)
    assert audit == total


@pytest.mark.parametrize("crs", ["wgs84", "gcj02"])
def test_an_excel_export_of_points_imports_back_equal(center, connection, crs):
    data = center.get(f"/manage/police_room/export.xlsx?crs={crs}").data
    total = _keep_originals(connection, "police_room", "true")
    response = upload(center, "police_room", data, "警务室.xlsx", crs=crs)
    assert response.status_code == 200, response.get_data(as_text=True)
    columns = "name, address, phone, hours, officer_id, assistant_id, grid_id, community_id"
    assert _matching(connection, "police_room", columns) == total == 8


def test_an_excel_export_of_shapes_imports_back_equal(center, connection):
    data = center.get("/manage/place/export.xlsx").data
    total = _keep_originals(connection, "place", "true")
    response = upload(center, "place", data, "场所.xlsx")
    assert response.status_code == 200, response.get_data(as_text=True)
    columns = "name, kind, address, contact, grid_id, community_id"
    assert _matching(connection, "place", columns) == total > 0
    # The contact's phone is personal: encrypted anew (randomised), the same number inside.
    phones = [
        sorted(crypto.decrypt(p) for p in connection.execute(text(sql)).scalars() if p)
        for sql in ("SELECT phone FROM place", "SELECT phone FROM original")
    ]
    assert phones[0] == phones[1] and phones[0]


CAMERA_COLUMNS = (
    "device_code, name, kind, owner_type, owner_name, state, connected, connected_on,"
    " azimuth_deg, field_angle_deg, range_m, installed_on, compound_id, grid_id, community_id"
)


@pytest.mark.parametrize("suffix", ["geojson", "xlsx"])
def test_cameras_with_dates_flags_and_decimals_import_back_equal(center, connection, suffix):
    data = center.get(f"/manage/camera/export.{suffix}?community=1").data
    total = _keep_originals(connection, "camera", "community_id = 1")
    response = upload(center, "camera", data, f"点位.{suffix}")
    assert response.status_code == 200, response.get_data(as_text=True)
    assert _matching(connection, "camera", CAMERA_COLUMNS) == total > 0
    assert count(connection, "SELECT count(*) FROM camera WHERE connected") > 0


def test_an_excel_row_with_an_id_updates_that_row(center, connection):
    building_id = count(connection, "SELECT min(id) FROM building")
    book = load_workbook(io.BytesIO(center.get("/manage/building/export.xlsx").data))
    sheet = book["楼栋"]
    headers = [cell.value for cell in sheet[1]]
    for row in sheet.iter_rows(min_row=2):
        if row[0].value == building_id:
            row[headers.index("层数")].value = 33
            row[headers.index("图形(WKT)")].value = None  # keep the stored shape
            kept = [cell.value for cell in row]
    out = io.BytesIO()
    fresh = Workbook()
    fresh.active.append(headers)
    fresh.active.append(kept)
    fresh.save(out)
    response = upload(center, "building", out.getvalue(), "楼栋.xlsx")
    assert response.status_code == 200, response.get_data(as_text=True)
    assert "新增 0,更新 1" in response.get_data(as_text=True)
    assert count(connection, "SELECT floors FROM building WHERE id = :id", id=building_id) == 33
    entry = connection.execute(
        text("SELECT before, after FROM audit_log WHERE action = 'import' AND entity_id = :id"),
        {"id": building_id},
    ).one()
    assert entry.before["floors"] != 33 and entry.after["floors"] == 33


# ---- bad rows ------------------------------------------------------------------------------


def _building_rows(connection) -> tuple[list, list[list]]:
    lon, lat = point_on(connection, "compound", 1)
    headers = ["名称", "地址", "所属小区(编号)", "层数", "单元数", "户数", "图形(WKT)"]
    rows = [
        ["导入一号楼", "测试路 1 号", 1, 6, 2, 24, square_wkt(lon, lat, 3)],
        ["导入二号楼", None, 1, "六", 2, 24, square_wkt(lon + 0.00008, lat, 3)],
        [None, None, 1, 6, 2, 24, square_wkt(lon, lat + 0.00008, 3)],
        ["导入四号楼", None, 1, 5, 1, None, square_wkt(lon + 0.00008, lat + 0.00008, 3)],
    ]
    return headers, rows


def test_two_bad_excel_rows_are_listed_and_nothing_is_written(center, connection):
    headers, rows = _building_rows(connection)
    before = count(connection, "SELECT count(*) FROM building")
    response = upload(center, "building", workbook(headers, rows), "楼栋.xlsx")
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "共 4 行,其中 2 行有错误,未导入任何数据" in html
    assert error_rows(html) == [
        ("3", "层数", "层数应为整数,填写的是“六”。"),
        ("4", "名称", "请填写名称。"),
    ]
    assert count(connection, "SELECT count(*) FROM building") == before
    assert (
        count(
            connection, "SELECT count(*) FROM audit_log WHERE at >= now() AND entity <> 'account'"
        )
        == 0
    )


def test_only_the_valid_rows_are_imported_when_asked(center, connection):
    headers, rows = _building_rows(connection)
    before = count(connection, "SELECT count(*) FROM building")
    response = upload(center, "building", workbook(headers, rows), "楼栋.xlsx", only_valid=True)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "已导入 2 条(新增 2,更新 0),跳过 2 条有错误的行" in html
    assert len(error_rows(html)) == 2
    assert count(connection, "SELECT count(*) FROM building") == before + 2
    names = connection.execute(
        text("SELECT name FROM building WHERE name LIKE '导入%' ORDER BY name")
    ).scalars()
    assert list(names) == ["导入一号楼", "导入四号楼"]
    assert count(connection, IMPORTS_IN_THIS_TEST) == 2


@pytest.mark.parametrize(
    ("name", "message"),
    [("<script>alert(1)</script>", "标记字符"), ("楼" * 10_000, "最多 100 个字")],
)
def test_bad_names_are_row_errors(center, connection, name, message):
    headers, rows = _building_rows(connection)
    rows[0][0] = name
    response = upload(center, "building", workbook(headers, rows[:1]), "楼栋.xlsx")
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert message in html and "<script>alert" not in html
    assert count(connection, "SELECT count(*) FROM building WHERE name LIKE '导入%'") == 0


def test_rows_that_collide_or_leave_their_parent_are_row_errors(center, connection):
    code = connection.execute(text("SELECT device_code FROM camera LIMIT 1")).scalar()
    lon, lat = point_on(connection, "grid", 1)
    far_lon, far_lat = point_on(connection, "grid", count(connection, "SELECT max(id) FROM grid"))
    features = [
        {
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [x, y]},
            "properties": {
                "device_code": code,
                "name": "重复编码",
                "kind": "枪机",
                "owner_type": "公共",
                "state": "在线",
                "grid_id": 1,
            },
        }
        for x, y in [(lon, lat)]
    ] + [
        {
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [far_lon, far_lat]},
            "properties": {
                "device_code": "37020000001320000999",
                "name": "不在网格内",
                "kind": "球机",
                "owner_type": "公共",
                "state": "在线",
                "grid_id": 1,
                "connected": "否",
            },
        },
    ]
    data = json.dumps({"type": "FeatureCollection", "features": features}).encode()
    response = upload(center, "camera", data, "点位.geojson")
    assert response.status_code == 422
    errors = error_rows(response.get_data(as_text=True))
    assert [e[0] for e in errors] == ["1", "2"]
    assert "已存在" in errors[0][2] and "国标编码" in errors[0][1]
    assert "不在所属网格" in errors[1][2]
    assert (
        count(connection, "SELECT count(*) FROM camera WHERE name IN ('重复编码', '不在网格内')")
        == 0
    )


def test_a_community_worker_cannot_import_outside_their_community(client, auth, connection):
    auth.login("community")
    other_grid = count(connection, "SELECT min(id) FROM grid WHERE community_id <> 1")
    lon, lat = point_on(connection, "grid", other_grid)
    data = workbook(["名称", "经度", "纬度"], [["越界警务室", lon, lat]], title="警务室")
    before = count(connection, "SELECT count(*) FROM police_room")
    response = upload(client, "police_room", data, "警务室.xlsx")
    assert response.status_code == 422
    ((row, column, message),) = error_rows(response.get_data(as_text=True))
    assert row == "2" and column == "经度/纬度" and "本社区" in message
    assert count(connection, "SELECT count(*) FROM police_room") == before
    # Updating a row of another community is refused by its 编号 too.
    room = count(connection, "SELECT min(id) FROM police_room WHERE community_id <> 1")
    data = workbook(["编号", "名称", "经度", "纬度"], [[room, "改名", None, None]])
    response = upload(client, "police_room", data, "警务室.xlsx")
    assert response.status_code == 422 and "不在您负责的区域内" in response.get_data(as_text=True)


def test_a_role_that_may_not_write_cannot_import(client, auth):
    auth.login("grid")
    assert client.get("/manage/road/import", headers=HX).status_code == 403
    response = upload(client, "building", b"{}", "x.geojson")
    assert response.status_code == 400  # grid workers may write buildings: the file is wrong
    auth.logout()
    auth.login("planner")
    assert client.get("/manage/building/import", headers=HX).status_code == 403


# ---- refused files -------------------------------------------------------------------------


def _point_collection(**member) -> bytes:
    feature = {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [120.37, 36.31]},
        "properties": {"name": "测试设施", "type_id": 1},
    }
    return json.dumps({"type": "FeatureCollection", **member, "features": [feature]}).encode()


def test_a_geojson_with_a_crs_member_is_refused(center, connection):
    before = count(connection, "SELECT count(*) FROM facility")
    data = _point_collection(crs={"type": "name", "properties": {"name": "EPSG:4490"}})
    response = upload(center, "facility", data, "设施.geojson")
    assert response.status_code == 400
    assert "RFC 7946 不允许 crs 成员" in response.get_data(as_text=True)
    assert count(connection, "SELECT count(*) FROM facility") == before


def test_a_file_in_another_declared_crs_is_refused(center):
    response = upload(center, "facility", _point_collection(**{"gridmap:crs": "gcj02"}), "a.json")
    assert response.status_code == 400
    assert "文件声明的坐标系" in response.get_data(as_text=True)


def test_wrong_nesting_is_a_row_error(center, connection):
    lon, lat = point_on(connection, "compound", 1)
    features = [
        {
            "type": "Feature",
            "geometry": {"type": "Polygon", "coordinates": [[lon, lat], [lon, lat + 1e-4]]},
            "properties": {"name": "嵌套错误", "floors": 3, "units": 1},
        },
        {"type": "Polygon", "coordinates": []},
    ]
    data = json.dumps({"type": "FeatureCollection", "features": features}).encode()
    response = upload(center, "building", data, "楼栋.geojson")
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    errors = error_rows(html)
    assert errors[0][0] == "1" and "嵌套层级不对" in errors[0][2]
    assert errors[1][0] == "2" and "不是 GeoJSON 要素" in errors[1][2]
    assert "要素序号" in html
    assert count(connection, "SELECT count(*) FROM building WHERE name = '嵌套错误'") == 0


def test_an_excel_without_a_required_column_is_refused(center):
    data = workbook(["名称", "地址", "单元数", "图形(WKT)"], [["甲", None, 1, "POINT (1 1)"]])
    response = upload(center, "building", data, "楼栋.xlsx")
    assert response.status_code == 400
    assert "缺少必填的列:层数" in response.get_data(as_text=True)


@pytest.mark.parametrize(
    ("data", "name"),
    [
        (b"\x00\x01 not a file at all", "x.xlsx"),
        (b"PK\x03\x04 broken zip", "x.xlsx"),
        (b"{not json", "x.geojson"),
        (b'{"type": "Topology"}', "x.json"),
        (b"", "x.json"),
    ],
)
def test_unreadable_files_are_refused(center, connection, data, name):
    before = count(connection, "SELECT count(*) FROM building")
    response = upload(center, "building", data, name)
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert 'class="notice bad"' in html
    assert count(connection, "SELECT count(*) FROM building") == before


def test_an_import_without_csrf_token_is_refused(center, connection):
    headers, rows = _building_rows(connection)
    response = center.post(
        "/manage/building/import",
        data={"file": (io.BytesIO(workbook(headers, rows)), "楼栋.xlsx"), "crs": "wgs84"},
        content_type="multipart/form-data",
    )
    assert response.status_code == 400
    assert "CSRF" in response.get_data(as_text=True)
    assert count(connection, "SELECT count(*) FROM building WHERE name LIKE '导入%'") == 0


def test_an_upload_over_the_limit_is_refused_in_chinese(app, center, connection):
    app.config["MAX_CONTENT_LENGTH"] = 1024
    headers, rows = _building_rows(connection)
    response = upload(center, "building", workbook(headers, rows * 20), "楼栋.xlsx")
    assert response.status_code == 413
    assert "上传的文件过大:不能超过 1 KB" in response.get_data(as_text=True)
    assert count(connection, "SELECT count(*) FROM building WHERE name LIKE '导入%'") == 0


def test_text_in_excel_cells_is_explained(center, connection):
    data = workbook(
        ["名称", "设施类型(编号)", "面积(m²)", "经度", "纬度"],
        [["甲", "卫生站", "很大", "东经", 36.3]],
        title="服务设施",
    )
    response = upload(center, "facility", data, "设施.xlsx")
    assert response.status_code == 422
    messages = {
        column: message for _row, column, message in error_rows(response.get_data(as_text=True))
    }
    assert "应填写编号" in messages["设施类型(编号)"]
    assert "应为数字" in messages["面积(m²)"]
    assert "经度/纬度" in messages


def test_a_number_too_large_for_its_column_is_a_row_error(center, connection):
    lon, lat = point_on(connection, "grid", 1)
    data = workbook(
        ["名称", "设施类型(编号)", "面积(m²)", "经度", "纬度"], [["大设施", 1, "1e12", lon, lat]]
    )
    response = upload(center, "facility", data, "设施.xlsx")
    assert response.status_code == 422
    # The field's own limit names it (the database's numeric overflow stays a last resort).
    assert "面积(m²)应不小于 0、不大于 1000000" in response.get_data(as_text=True)
    assert count(connection, "SELECT count(*) FROM facility WHERE name = '大设施'") == 0


def test_the_import_panel_offers_the_file_the_crs_and_progress(center):
    html = center.get("/manage/camera/import", headers=HX).get_data(as_text=True)
    assert 'hx-encoding="multipart/form-data"' in html and 'type="file"' in html
    assert 'name="only_valid"' in html and "仅导入有效的行" in html
    assert "GCJ-02" in html and "<progress" in html and "data-upload-progress" in html
    assert "/manage/camera/template.xlsx" in html

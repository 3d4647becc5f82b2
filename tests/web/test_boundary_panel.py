"""The boundary import panel: upload, mapping, preview, the job that writes, and refusals."""

from __future__ import annotations

import io
import json
import re

import pytest
from shapely.geometry import box
from sqlalchemy import text

from tests.boundary_files import geojson, square
from tests.helpers import HX, AuthActions, csrf_token

LON, LAT = 117.02, 36.65


def _token(client) -> str:
    return csrf_token(client.get("/boundaries/import", headers=HX).get_data(as_text=True))


def upload(client, data: bytes, name: str, level="subdistrict", crs="auto", **extra):
    form = {
        "csrf_token": _token(client),
        "level": level,
        "crs": crs,
        "encoding": "auto",
        "file": (io.BytesIO(data), name),
        **extra,
    }
    return client.post(
        "/boundaries/import", data=form, headers=HX, content_type="multipart/form-data"
    )


def step(client, url: str, **fields):
    form = {"csrf_token": _token(client), "layer": "0", "crs": "auto", "encoding": "auto", **fields}
    return client.post(url, data=form, headers=HX)


@pytest.fixture
def center(client, auth):
    auth.login("center")
    return client


def _overlay(html: str) -> dict:
    found = re.search(r'data-overlay="([^"]*)"', html)
    assert found, "the preview draws on the map"
    raw = found.group(1).replace("&#34;", '"').replace("&quot;", '"').replace("&amp;", "&")
    return json.loads(raw)


def test_center_imports_a_subdistrict_through_mapping_preview_and_job(center, connection, tmp_path):
    path = geojson(
        tmp_path / "s.geojson",
        [{"JDMC": "泉城路街道", "JDDM": "370102001", "备注": "测试"}],
        [square(LON, LAT)],
    )
    mapping = upload(center, path.read_bytes(), "s.geojson")
    html = mapping.get_data(as_text=True)
    assert mapping.status_code == 200, html[:500]
    assert "JDMC" in html and "泉城路街道" in html and "370102001" in html  # columns, samples
    fields = {"level": "subdistrict", "name": "JDMC", "code": "JDDM", "parent": ""}
    preview = step(center, "/boundaries/preview", **fields)
    html = preview.get_data(as_text=True)
    assert preview.status_code == 200, html[:800]
    assert "检查通过" in html and "1 个街道(新增 1,更新 0)" in html
    overlay = _overlay(html)
    assert overlay["features"][0]["properties"]["name"] == "泉城路街道(370102001)"
    assert not connection.execute(text("SELECT 1 FROM subdistrict WHERE code = '370102001'")).all()
    queued = step(center, "/boundaries/run", **fields)
    assert queued.status_code == 202
    job_url = re.search(r'hx-get="(/jobs/\d+)"', queued.get_data(as_text=True)).group(1)
    from webapp.jobs.worker import Worker

    Worker(center.application).run_pending()
    finished = center.get(job_url, headers=HX)
    done = finished.get_data(as_text=True)
    assert json.loads(finished.headers["HX-Trigger"]) == {
        "gridmap:changed": {"layer": "subdistrict"}
    }  # the map reloads the layer
    assert "已导入 1 个街道(新增 1,更新 0)" in done
    name = connection.execute(text("SELECT name FROM subdistrict WHERE code = '370102001'"))
    assert name.scalar_one() == "泉城路街道"
    audit = connection.execute(
        text("SELECT summary FROM audit_log WHERE entity = 'subdistrict' ORDER BY id DESC")
    ).first()
    assert "泉城路街道" in audit.summary


def test_a_preview_with_an_overlap_answers_422_and_draws_it(center, connection, tmp_path):
    first = box(LON, LAT, LON + 0.01, LAT + 0.01)
    second = box(LON + 0.0099, LAT, LON + 0.02, LAT + 0.01)  # a sliver over the first
    path = geojson(
        tmp_path / "s.geojson",
        [{"名称": "甲街道", "编码": "990000001"}, {"名称": "乙街道", "编码": "990000002"}],
        [first, second],
    )
    assert upload(center, path.read_bytes(), "s.geojson").status_code == 200
    preview = step(center, "/boundaries/preview", level="subdistrict", name="名称", code="编码")
    html = preview.get_data(as_text=True)
    assert preview.status_code == 422, html[:500]
    assert "街道“甲街道”(编码 990000001)与“乙街道”(编码 990000002)重叠约" in html
    assert "未导入任何数据" in html and "/boundaries/run" not in html
    states = [f["properties"]["state"] for f in _overlay(html)["features"]]
    assert states == ["新增", "新增", "重叠"]


def test_a_projected_file_declared_as_wgs84_is_refused_in_the_panel(center, tmp_path):
    from tests.boundary_files import in_crs

    path = geojson(
        tmp_path / "p.geojson",
        [{"名称": "甲", "编码": "1"}],
        [in_crs(square(117.0, LAT), "EPSG:4548")],
    )
    upload(center, path.read_bytes(), "p.geojson", crs="EPSG:4326")
    preview = step(
        center,
        "/boundaries/preview",
        level="subdistrict",
        name="名称",
        code="编码",
        crs="EPSG:4326",
    )
    assert preview.status_code == 400
    assert "坐标超出经纬度范围" in preview.get_data(as_text=True)


def test_an_unreadable_file_is_refused_at_upload(center):
    response = upload(center, b"not a boundary", "x.zip")
    assert response.status_code == 400
    assert "无法识别的文件" in response.get_data(as_text=True)


def test_an_oversized_upload_gets_413_in_chinese(center, app):
    app.config["MAX_CONTENT_LENGTH"] = 1024 * 1024
    response = upload(center, b"\0" * (2 * 1024 * 1024), "big.zip")
    assert response.status_code == 413
    assert "上传的文件过大" in response.get_data(as_text=True)


def test_community_staff_import_only_grids(client, auth, tmp_path):
    auth.login("community")
    html = client.get("/boundaries/import", headers=HX).get_data(as_text=True)
    assert 'value="grid"' in html and 'value="community"' not in html
    path = geojson(tmp_path / "s.geojson", [{"名称": "甲", "编码": "1"}], [square(LON, LAT)])
    response = upload(client, path.read_bytes(), "s.geojson", level="community")
    assert response.status_code == 403
    assert "此操作仅" in response.get_data(as_text=True)


def test_community_staff_may_not_import_another_communitys_grids(
    client, auth, connection, tmp_path
):
    auth.login("community")
    own = connection.execute(
        text(
            "SELECT c.code FROM app_user u JOIN community c ON c.id = u.community_id"
            " WHERE u.username = 'community'"
        )
    ).scalar_one()
    other, shape = connection.execute(
        text(
            "SELECT code, ST_AsGeoJSON(geom) FROM grid WHERE community_id <> (SELECT community_id"
            " FROM app_user WHERE username = 'community') ORDER BY id LIMIT 1"
        )
    ).one()
    assert own
    row = {"名称": "网格", "编码": other, "社区编码": ""}
    from shapely.geometry import shape as to_shape

    path = geojson(tmp_path / "g.geojson", [row], [to_shape(json.loads(shape))])
    upload(client, path.read_bytes(), "g.geojson", level="grid", crs="EPSG:4326")
    preview = step(
        client,
        "/boundaries/preview",
        level="grid",
        name="名称",
        code="编码",
        parent="",
        crs="EPSG:4326",
    )
    html = preview.get_data(as_text=True)
    assert preview.status_code in (403, 422), html[:500]
    assert "只能导入本社区的网格" in html or "重叠" in html


def test_grid_workers_may_not_import_boundaries(client, auth):
    auth.login("grid")
    assert client.get("/boundaries/import", headers=HX).status_code == 403


def test_a_geopackage_layer_is_chosen_and_its_columns_read(center, tmp_path):
    from tests.boundary_files import write_layer

    path = tmp_path / "b.gpkg"
    write_layer(
        path, [{"SQMC": "甲社区", "SQDM": "1"}], [square(LON, LAT)], driver="GPKG", layer="社区"
    )
    write_layer(
        path,
        [{"WGMC": "甲网格", "WGDM": "2"}],
        [square(LON, LAT)],
        driver="GPKG",
        layer="网格",
        append=True,
    )
    html = upload(center, path.read_bytes(), "b.gpkg").get_data(as_text=True)
    assert ">社区</option>" in html and ">网格</option>" in html and "SQMC" in html
    remapped = step(
        center, "/boundaries/preview", level="grid", layer="1", remap="1", name="SQMC", code="SQDM"
    )
    html = remapped.get_data(as_text=True)
    assert remapped.status_code == 200
    assert "WGMC" in html and "甲网格" in html and "SQMC" not in html


def test_a_file_left_between_the_steps_goes_after_a_day(center, app, tmp_path):
    import os
    import time

    app.config["UPLOAD_FOLDER"] = str(tmp_path / "uploads")
    path = geojson(tmp_path / "s.geojson", [{"名称": "甲", "编码": "1"}], [square(LON, LAT)])
    assert upload(center, path.read_bytes(), "s.geojson").status_code == 200
    (kept,) = os.listdir(tmp_path / "uploads")
    assert kept.endswith(".boundary")
    old = time.time() - 2 * 24 * 3600
    os.utime(tmp_path / "uploads" / kept, (old, old))
    # Another session's upload sweeps it (its own session never comes back); a fresh one stays.
    other = app.test_client()
    AuthActions(other).login("center")
    assert upload(other, path.read_bytes(), "s.geojson").status_code == 200
    assert kept not in os.listdir(tmp_path / "uploads")
    assert len(os.listdir(tmp_path / "uploads")) == 1

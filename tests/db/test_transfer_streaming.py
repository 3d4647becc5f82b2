"""Uploads read from a file on disk, row by row: refusals up front, progress, stopping, memory."""

import json
import tracemalloc

import pytest
from openpyxl import Workbook
from sqlalchemy import select, text

from webapp.entities import transfer
from webapp.entities.registry import ENTITIES
from webapp.models import User

FACILITY = ENTITIES["facility"]


def _point(connection) -> tuple[float, float]:
    return connection.execute(
        text("SELECT ST_X(p), ST_Y(p) FROM (SELECT ST_PointOnSurface(geom) p FROM grid LIMIT 1) q")
    ).one()


def _collection(lon: float, lat: float, count: int, **member) -> dict:
    feature = {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [lon, lat]},
        "properties": {"name": "流式导入", "type_id": 1},
    }
    # The members after the features: the first pass finds them wherever they are.
    return {"type": "FeatureCollection", "features": [feature] * count, **member}


def _geojson_file(tmp_path, doc) -> str:
    path = tmp_path / "upload.geojson"
    path.write_text(json.dumps(doc), encoding="utf-8")
    return str(path)


def _xlsx_file(tmp_path, rows: list[list]) -> str:
    book = Workbook()
    sheet = book.active
    sheet.title = FACILITY.label
    sheet.append(["名称", "设施类型(编号)", "经度", "纬度"])
    for row in rows:
        sheet.append(row)
    path = tmp_path / "upload.xlsx"
    book.save(path)
    return str(path)


@pytest.fixture
def center(app, db):
    with app.app_context():
        yield db.scalars(select(User).where(User.username == "center")).one()


def test_a_geojson_file_on_disk_imports_with_progress(tmp_path, db, center, connection):
    lon, lat = _point(connection)
    path = _geojson_file(tmp_path, _collection(lon, lat, 450, **{"gridmap:crs": "wgs84"}))
    upload = transfer.read_upload_path(path, FACILITY)
    assert (upload.count, upload.declared_crs) == (450, "wgs84")
    assert not isinstance(upload.rows, list)  # rows stream from the file
    calls = []
    result = transfer.import_rows(
        db, center, None, FACILITY, upload, "wgs84", progress=lambda *a: calls.append(a)
    )
    assert (result.total, result.created, result.errors) == (450, 450, [])
    size = (tmp_path / "upload.geojson").stat().st_size
    assert [rows for rows, _done, _total in calls] == [200, 400, 450]
    assert all(total == size for _rows, _done, total in calls)
    assert 0 < calls[0][1] <= calls[1][1] <= calls[2][1] == size
    written = "SELECT count(*) FROM facility WHERE name = '流式导入'"
    assert connection.execute(text(written)).scalar_one() == 450


def test_an_xlsx_file_on_disk_imports_its_rows(tmp_path, db, center, connection):
    lon, lat = _point(connection)
    path = _xlsx_file(tmp_path, [["表格导入", 1, lon, lat], [None, None, None, None]] * 3)
    upload = transfer.read_upload_path(path, FACILITY)
    assert upload.count == 3
    result = transfer.import_rows(db, center, None, FACILITY, upload, "wgs84")
    assert (result.total, result.created) == (3, 3)
    # Row numbers are the sheet's, blank lines skipped but counted.
    assert [row.number for row in transfer.read_upload_path(path, FACILITY).rows] == [2, 4, 6]


def test_an_import_asked_to_stop_is_cancelled(tmp_path, db, center, connection):
    lon, lat = _point(connection)
    upload = transfer.read_upload_path(
        _geojson_file(tmp_path, _collection(lon, lat, 500)), FACILITY
    )
    asked = []

    def should_stop() -> bool:
        asked.append(True)
        return len(asked) == 2

    with pytest.raises(transfer.ImportCancelled) as cancelled:
        transfer.import_rows(db, center, None, FACILITY, upload, "wgs84", should_stop=should_stop)
    assert len(asked) == 2  # after 200 and 400 rows
    assert cancelled.value.message == "导入已取消。"


DEEP = {"type": "FeatureCollection", "features": [{"type": "Feature", "geometry": 0}]}
DEEP["features"][0]["geometry"] = json.loads("[" * 100 + "]" * 100)


@pytest.mark.parametrize(
    ("doc", "message"),
    [
        ({"type": "FeatureCollection", "features": []}, "没有要素"),
        ({"features": [], "type": "Topology"}, "FeatureCollection"),
        ({"features": [1], "type": "FeatureCollection", "crs": None}, "不允许 crs 成员"),
        ({"type": "FeatureCollection", "features": {}}, "features 应为要素的列表"),
        ({"type": "FeatureCollection", "features": [0] * 20_001}, "一次最多导入 20000 条"),
        (DEEP, "嵌套过深"),
    ],
)
def test_a_file_is_refused_before_any_row_is_read(tmp_path, doc, message):
    with pytest.raises(transfer.FileRefused) as refused:
        transfer.read_upload_path(_geojson_file(tmp_path, doc), FACILITY)
    assert message in refused.value.message


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b'{"type": "FeatureCollection",\n "features": [}', "第 2 行第 15 列附近"),
        (b'{"type": "FeatureCollection", "features": [NaN]}', "如 NaN"),
        (b'{"type": "FeatureCollection", "name": "\xff"}', "UTF-8 编码"),
        (b"\xef\xbb\xbf" + b'{"type": "Feature", "x": ', "第 1 行第 26 列附近"),
    ],
)
def test_broken_json_is_located_for_the_user(data, message):
    with pytest.raises(transfer.FileRefused) as refused:
        transfer.read_upload(data, FACILITY)
    assert message in refused.value.message


def test_a_large_file_is_read_in_bounded_memory(tmp_path):
    """A 10 MB GeoJSON read whole costs several times its size; streamed, a few 100 kB."""
    ring = [[120.3 + i * 1e-5, 36.3 + (i % 7) * 1e-5] for i in range(60)]
    feature = {
        "type": "Feature",
        "geometry": {"type": "Polygon", "coordinates": [[*ring, ring[0]]]},
        "properties": {"name": "大文件", "floors": 3, "units": 1, "address": "某路 1 号" * 5},
    }
    path = tmp_path / "large.geojson"
    with path.open("w", encoding="utf-8") as file:
        file.write('{"type": "FeatureCollection", "features": [')
        file.write(",".join([json.dumps(feature)] * 5_200))
        file.write("]}")
    size = path.stat().st_size
    assert size > 10_000_000
    tracemalloc.start()
    try:
        upload = transfer.read_upload_path(path, ENTITIES["building"])
        rows = sum(1 for _row in upload.rows)
        _now, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert rows == upload.count == 5_200 and upload.bytes_read == size
    assert peak < size / 5, f"peak {peak} bytes for a file of {size}"


def test_bytes_and_a_file_read_alike(tmp_path):
    doc = _collection(120.3, 36.3, 3)
    path = _geojson_file(tmp_path, doc)
    from_disk = list(transfer.read_upload_path(path, FACILITY).rows)
    in_memory = list(transfer.read_upload(json.dumps(doc).encode(), FACILITY).rows)
    assert from_disk == in_memory and len(from_disk) == 3

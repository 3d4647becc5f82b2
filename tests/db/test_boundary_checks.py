"""Boundary import from file to PostGIS: every coordinate system to within a metre and 0.05 %
of area, the hierarchy checks (a sliver overlap, a gap) naming the features, and the files that
must be refused with nothing stored."""

from __future__ import annotations

import os
import zipfile

import pytest
from shapely.geometry import box
from sqlalchemy import text

from gis.boundary_crs import CrsRefused
from gis.boundary_files import FileRefused
from gis.errors import UserError
from tests.boundary_files import (
    geodesic_area,
    geojson,
    in_crs,
    square,
    write_layer,
    zipped_shapefile,
)
from webapp.boundaries import queries
from webapp.boundaries.plan import Choice, make_plan

# A place far from the demo subdistrict (Jinan), so a new subdistrict overlaps nothing.
LON, LAT = 117.02, 36.65
GK_CODES = list(range(4513, 4555))


def gk_point(code: int) -> tuple[float, float]:
    """A point half a degree west of the zone's central meridian, at Jinan's latitude."""
    zone = (code - 4513) if code < 4534 else (code - 4534)
    return 75 + 3 * zone - 0.5, LAT


def subdistrict_choice(crs: str, **kw) -> Choice:
    return Choice("subdistrict", "名称", "代码", "", crs, kw.pop("encoding", "auto"), **kw)


def imported(db, path, choice: Choice) -> dict:
    plan = make_plan(db, str(path), choice)
    assert not plan.problems, [p.message for p in plan.problems]
    queries.write(db, choice.level, plan.features, username="test", user_id=None, address=None)
    db.flush()
    model = {"subdistrict": "subdistrict", "community": "community", "grid": "grid"}[choice.level]
    code = plan.features[0].code
    return dict(
        db.execute(
            text(
                f"SELECT name, ST_Area(geom::geography) AS area,"
                f" ST_X(ST_PointN(ST_ExteriorRing(ST_GeometryN(geom, 1)), 1)) AS x,"
                f" ST_Y(ST_PointN(ST_ExteriorRing(ST_GeometryN(geom, 1)), 1)) AS y"
                f" FROM {model} WHERE code = :code"
            ),
            {"code": code},
        )
        .mappings()
        .one()
    )


def metres_between(a, b) -> float:
    from pyproj import Geod

    return Geod(ellps="WGS84").inv(a[0], a[1], b[0], b[1])[2]


# Every zone of both Gauss–Krüger series; all but two (Qingdao's and Jinan's) marked slow.
CASES = [
    pytest.param("EPSG:4326", "geojson", id="EPSG:4326"),
    pytest.param("EPSG:4490", "gpkg", id="EPSG:4490"),
    pytest.param("gcj02", "geojson", id="gcj02"),
    pytest.param("bd09", "kml", id="bd09"),
] + [
    pytest.param(
        f"EPSG:{code}",
        "shp" if code % 2 else "gpkg",
        id=f"EPSG:{code}",
        marks=() if code in (4527, 4549) else pytest.mark.slow,
    )
    for code in GK_CODES
]


@pytest.mark.parametrize(("crs", "fmt"), CASES)
def test_each_crs_keeps_a_known_point_and_area(db, tmp_path, crs, fmt):
    lon, lat = gk_point(int(crs[5:])) if crs.startswith("EPSG:45") else (LON, LAT)
    truth = square(lon, lat)
    shape = in_crs(truth, crs if crs not in ("EPSG:4326", "EPSG:4490") else 4326)
    rows = [{"名称": "测试街道", "代码": "999999001"}]
    if fmt == "shp":
        path = zipped_shapefile(tmp_path, rows, [shape], crs=crs, encoding="GBK")
        declared = "auto"
    elif fmt == "gpkg":
        path = write_layer(
            tmp_path / "b.gpkg",
            rows,
            [shape],
            crs=crs if crs[:4] == "EPSG" else "EPSG:4326",
            driver="GPKG",
        )
        declared = "auto"
    elif fmt == "kml":
        path = write_layer(tmp_path / "b.kml", rows, [shape], crs="EPSG:4326", driver="KML")
        declared = crs
    else:
        path = geojson(tmp_path / "b.geojson", rows, [shape])
        declared = crs
    row = imported(db, path, subdistrict_choice(declared))
    assert row["name"] == "测试街道"
    tolerance = 2.0 if crs in ("gcj02", "bd09") else 1.0
    assert metres_between((row["x"], row["y"]), truth.exterior.coords[0]) < tolerance
    assert row["area"] == pytest.approx(geodesic_area(truth), rel=5e-4)


def test_a_zoned_easting_is_not_read_with_the_plain_zone(db, tmp_path):
    """EPSG:4527 (zone 39, with the prefix) declared for a file without the prefix: refused,
    the converted position is not in China."""
    shape = in_crs(square(117.0, LAT), "EPSG:4548")
    path = geojson(tmp_path / "b.geojson", [{"名称": "街道", "代码": "1"}], [shape])
    with pytest.raises(CrsRefused, match="不在中国境内"):
        make_plan(db, str(path), subdistrict_choice("EPSG:4527"))


def test_a_projected_file_declared_as_wgs84_is_refused(db, tmp_path):
    shape = in_crs(square(117.0, LAT), "EPSG:4548")
    path = geojson(tmp_path / "b.geojson", [{"名称": "街道", "代码": "1"}], [shape])
    with pytest.raises(CrsRefused, match="超出经纬度范围") as refused:
        make_plan(db, str(path), subdistrict_choice("EPSG:4326"))
    assert "投影坐标" in refused.value.message


def test_a_shapefile_without_prj_and_nothing_declared_is_refused(db, tmp_path):
    shape = in_crs(square(117.0, LAT), "EPSG:4548")
    path = zipped_shapefile(
        tmp_path, [{"名称": "街道", "代码": "1"}], [shape], crs="EPSG:4548", keep_prj=False
    )
    with pytest.raises(CrsRefused, match=r"缺少 \.prj"):
        make_plan(db, str(path), subdistrict_choice("auto"))
    # Declared, the same file reads.
    assert make_plan(db, str(path), subdistrict_choice("EPSG:4548")).features


def test_a_declared_crs_that_contradicts_the_prj_is_refused(db, tmp_path):
    shape = in_crs(square(117.0, LAT), "EPSG:4548")
    path = zipped_shapefile(tmp_path, [{"名称": "街道", "代码": "1"}], [shape], crs="EPSG:4548")
    with pytest.raises(CrsRefused, match="不一致"):
        make_plan(db, str(path), subdistrict_choice("EPSG:4549"))


def test_a_gbk_shapefile_keeps_its_chinese_names(db, tmp_path):
    shape = in_crs(square(117.0, LAT), "EPSG:4548")
    path = zipped_shapefile(
        tmp_path,
        [{"名称": "历下区泉城路街道", "代码": "370102001"}],
        [shape],
        crs="EPSG:4548",
        encoding="GBK",
    )
    with zipfile.ZipFile(path) as archive:
        assert archive.read("boundary.cpg").strip().upper() in (b"GBK", b"CP936", b"936")
    plan = make_plan(db, str(path), subdistrict_choice("auto"))
    assert plan.features[0].name == "历下区泉城路街道"
    # Without a .cpg the text is recognised as GBK, too.
    bare = zipped_shapefile(
        tmp_path / "..",
        [{"名称": "泉城路街道", "代码": "370102001"}],
        [shape],
        crs="EPSG:4548",
        encoding="GBK",
        stem="bare",
    )
    with zipfile.ZipFile(bare) as archive:
        names = archive.namelist()
    stripped = tmp_path / "nocpg.zip"
    with zipfile.ZipFile(bare) as source, zipfile.ZipFile(stripped, "w") as out:
        for name in names:
            if not name.endswith(".cpg"):
                out.writestr(name, source.read(name))
    assert make_plan(db, str(stripped), subdistrict_choice("auto")).features[0].name == "泉城路街道"


@pytest.mark.parametrize(
    ("written", "declared", "likely"), [("GBK", "UTF-8", "GBK"), ("UTF-8", "GBK", "UTF-8")]
)
def test_a_cpg_that_lies_is_named(db, tmp_path, written, declared, likely):
    shape = in_crs(square(117.0, LAT), "EPSG:4548")
    path = zipped_shapefile(
        tmp_path,
        [{"名称": "泉城路街道", "代码": "1"}],
        [shape],
        crs="EPSG:4548",
        encoding=written,
        cpg=declared,
    )
    with pytest.raises(FileRefused) as refused:
        make_plan(db, str(path), subdistrict_choice("auto"))
    assert f".cpg 文件声明文字编码为 {declared}" in refused.value.message
    assert f"像是 {likely}" in refused.value.message
    # Choosing the right encoding reads it.
    plan = make_plan(db, str(path), subdistrict_choice("auto", encoding=written.lower()))
    assert plan.features[0].name == "泉城路街道"


def _zip(path, entries: dict[str, bytes], symlink: str | None = None):
    with zipfile.ZipFile(path, "w") as out:
        for name, data in entries.items():
            out.writestr(name, data)
        if symlink:
            info = zipfile.ZipInfo(symlink)
            info.external_attr = 0o120777 << 16
            out.writestr(info, "/etc/passwd")
    return path


@pytest.mark.parametrize(
    ("entries", "symlink", "message"),
    [
        ({"../../evil.shp": b"x"}, None, "指向压缩包之外"),
        ({"/etc/evil.shp": b"x"}, None, "指向压缩包之外"),
        ({"data/../../x.dbf": b"x"}, None, "指向压缩包之外"),
        ({"a.txt": b"x"}, "boundary.shp", "符号链接"),
    ],
)
def test_a_zip_that_climbs_out_is_refused_and_writes_nothing(
    db, tmp_path, entries, symlink, message
):
    before = set(os.listdir(tmp_path.parent))
    path = _zip(tmp_path / "evil.zip", entries, symlink)
    with pytest.raises(FileRefused, match=message):
        make_plan(db, str(path), subdistrict_choice("EPSG:4326"))
    assert set(os.listdir(tmp_path.parent)) == before
    assert not (tmp_path.parent.parent / "evil.shp").exists()


def test_a_zip_bomb_is_refused(db, tmp_path):
    path = tmp_path / "bomb.zip"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as out:
        out.writestr("big.dbf", b"\0" * (201 * 1024 * 1024))
    with pytest.raises(FileRefused, match="解压后超过"):
        make_plan(db, str(path), subdistrict_choice("EPSG:4326"))


def test_not_a_boundary_file_is_refused(db, tmp_path):
    path = tmp_path / "a.txt"
    path.write_bytes(b"name,code\n")
    with pytest.raises(UserError, match="无法识别的文件"):
        make_plan(db, str(path), subdistrict_choice("EPSG:4326"))


# ---- hierarchy ----------------------------------------------------------------------------


@pytest.fixture
def new_community(db, tmp_path):
    """A subdistrict and one community (1 km square) far from the demo, imported."""
    area = box(LON, LAT, LON + 0.012, LAT + 0.009)
    sub = geojson(
        tmp_path / "s.geojson",
        [{"名称": "测试街道", "代码": "999999001"}],
        [area.buffer(0.001, join_style="mitre")],
    )
    imported(db, sub, subdistrict_choice("EPSG:4326"))
    com = geojson(
        tmp_path / "c.geojson",
        [{"名称": "测试社区", "代码": "999999001001", "街道编码": "999999001"}],
        [area],
    )
    imported(db, com, Choice("community", "名称", "代码", "街道编码", "EPSG:4326"))
    return area


def grid_file(tmp_path, halves, name="g.geojson"):
    rows = [
        {"名称": f"第{i + 1}网格", "代码": f"99999900100{i + 1}", "社区编码": "999999001001"}
        for i in range(len(halves))
    ]
    return geojson(tmp_path / name, rows, halves)


def grid_choice() -> Choice:
    return Choice("grid", "名称", "代码", "社区编码", "EPSG:4326")


def split(area, west_edge_shift_m: float = 0.0):
    """Two grids tiling ``area`` along a north-south line; the east one's west edge shifted
    by ``west_edge_shift_m`` metres (negative: a sliver overlap, positive: a gap)."""
    minx, miny, maxx, maxy = area.bounds
    mid = (minx + maxx) / 2
    shift = west_edge_shift_m / (111_000 * 0.8028)  # cos(36.65°)
    return [box(minx, miny, mid, maxy), box(mid + shift, miny, maxx, maxy)]


def test_grids_that_tile_their_community_are_written(db, tmp_path, new_community):
    imported(db, grid_file(tmp_path, split(new_community)), grid_choice())
    assert (
        db.execute(
            text(
                "SELECT count(*) FROM grid g JOIN community c ON c.id = g.community_id"
                " WHERE c.code = '999999001001'"
            )
        ).scalar()
        == 2
    )


def test_a_sliver_overlap_is_refused_naming_both_grids(db, tmp_path, new_community):
    plan = make_plan(db, str(grid_file(tmp_path, split(new_community, -3.0))), grid_choice())
    overlaps = [p for p in plan.problems if p.kind == "overlap"]
    assert len(overlaps) == 1, [p.message for p in plan.problems]
    message = overlaps[0].message
    assert "“第1网格”(编码 999999001001)" in message and "“第2网格”(编码 999999001002)" in message
    # 3 m wide over the community's 1 km height: about 3,000 m².
    assert 2_500 < overlaps[0].area_m2 < 3_500 and "重叠约" in message
    assert overlaps[0].geom is not None


def test_a_gap_is_refused_naming_the_community_and_grids(db, tmp_path, new_community):
    plan = make_plan(db, str(grid_file(tmp_path, split(new_community, 3.0))), grid_choice())
    gaps = [p for p in plan.problems if p.kind == "gap"]
    assert len(gaps) == 1, [p.message for p in plan.problems]
    assert "社区“测试社区”(编码 999999001001)" in gaps[0].message
    assert "“第1网格”" in gaps[0].message and "“第2网格”" in gaps[0].message
    assert 2_500 < gaps[0].area_m2 < 3_500


def test_duplicate_codes_and_a_missing_parent_are_named(db, tmp_path, new_community):
    halves = split(new_community)
    rows = [
        {"名称": "甲网格", "代码": "X1", "社区编码": "999999001001"},
        {"名称": "乙网格", "代码": "X1", "社区编码": "999999001001"},
    ]
    plan = make_plan(db, str(geojson(tmp_path / "d.geojson", rows, halves)), grid_choice())
    assert any(
        "“乙网格”(编码 X1)与第 1 个要素“甲网格”的编码 X1 重复" in p.message for p in plan.problems
    )
    rows = [{"名称": "丙网格", "代码": "X3", "社区编码": "000000000000"}]
    plan = make_plan(db, str(geojson(tmp_path / "m.geojson", rows, halves[:1])), grid_choice())
    assert [p.message for p in plan.problems] == [
        "“丙网格”(编码 X3)的上级社区编码 000000000000 不存在。请先导入该社区,或改正上级编码。"
    ]


def test_a_grid_outside_its_community_is_named(db, tmp_path, new_community):
    minx, miny, maxx, maxy = new_community.bounds
    halves = [
        box(minx, miny, (minx + maxx) / 2, maxy),
        box((minx + maxx) / 2, miny, maxx + 0.001, maxy),
    ]
    plan = make_plan(db, str(grid_file(tmp_path, halves)), grid_choice())
    assert any(
        "“第2网格”(编码 999999001002)超出所属社区“测试社区”" in p.message for p in plan.problems
    )


def test_reimporting_the_same_codes_updates_in_place(db, tmp_path, new_community):
    imported(db, grid_file(tmp_path, split(new_community)), grid_choice())
    ids = db.execute(text("SELECT id FROM grid WHERE code LIKE '99999900100_' ORDER BY id")).all()
    renamed = geojson(
        tmp_path / "r.geojson",
        [
            {"名称": "东网格", "代码": "999999001001", "社区编码": "999999001001"},
            {"名称": "西网格", "代码": "999999001002", "社区编码": "999999001001"},
        ],
        split(new_community),
    )
    plan = make_plan(db, str(renamed), grid_choice())
    assert plan.updates == 2 and not plan.problems
    queries.write(db, "grid", plan.features, username="t", user_id=None, address=None)
    again = db.execute(text("SELECT id, name FROM grid WHERE code LIKE '99999900100_' ORDER BY id"))
    assert [(r.id,) for r in again] == [tuple(i) for i in ids]


def test_a_community_that_no_longer_holds_its_grids_is_refused(db, tmp_path, new_community):
    imported(db, grid_file(tmp_path, split(new_community)), grid_choice())
    minx, miny, maxx, maxy = new_community.bounds
    smaller = box(minx, miny, (minx + maxx) / 2, maxy)
    com = geojson(
        tmp_path / "c2.geojson",
        [{"名称": "测试社区", "代码": "999999001001", "街道编码": "999999001"}],
        [smaller],
    )
    plan = make_plan(db, str(com), Choice("community", "名称", "代码", "街道编码", "EPSG:4326"))
    assert any("不再包含已有的下级要素“第2网格”" in p.message for p in plan.problems)


def test_script_in_a_name_is_refused(db, tmp_path):
    rows = [{"名称": '<img src=x onerror="alert(1)">街道', "代码": "999999001"}]
    path = geojson(tmp_path / "x.geojson", rows, [square(LON, LAT)])
    plan = make_plan(db, str(path), subdistrict_choice("EPSG:4326"))
    assert [p.message for p in plan.problems] == [
        "第 1 个要素的名称或编码含有“<”“>”或不可见的控制字符,请删除后重新导出。"
    ]

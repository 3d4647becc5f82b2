"""Boundary import in headless Chromium: a GBK Shapefile in CGCS2000 Gauss–Krüger of one
community's grids, uploaded, its columns mapped, previewed on the map (a gap drawn and named,
then the corrected file passing), and imported by the job. Screenshots go to SCREENSHOT_DIR
(docs/ to retake the README's), else to the test's temporary folder."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import shapely
from playwright.sync_api import expect
from sqlalchemy import text

from tests.boundary_files import in_crs, zipped_shapefile
from tests.helpers import login, open_page

pytestmark = pytest.mark.e2e


def shots(tmp_path) -> Path:
    folder = Path(os.environ.get("SCREENSHOT_DIR") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def community_grids(engine):
    with engine.connect() as conn:
        community = conn.execute(
            text(
                "SELECT id, code, name FROM community WHERE EXISTS"
                " (SELECT 1 FROM grid WHERE community_id = community.id) ORDER BY id LIMIT 1"
            )
        ).one()
        grids = conn.execute(
            text(
                "SELECT id, code, name, ST_AsBinary(geom) AS wkb FROM grid"
                " WHERE community_id = :c ORDER BY code"
            ),
            {"c": community.id},
        ).all()
    return community, grids


def gk_code(lon: float) -> str:
    """The CGCS2000 3-degree zone (without the zone prefix) of a longitude."""
    central = round(lon / 3) * 3
    return f"EPSG:{4534 + (central - 75) // 3}"


def shapefile(folder: Path, community, grids, *, shrink_first_m: float = 0.0, stem: str):
    lon = shapely.from_wkb(bytes(grids[0].wkb)).centroid.x
    crs = gk_code(lon)
    shapes = [in_crs(shapely.from_wkb(bytes(g.wkb)), crs) for g in grids]
    if shrink_first_m:
        shapes[0] = shapes[0].buffer(-shrink_first_m, join_style="mitre")
    rows = [
        {
            "网格名称": f"{g.name}(新)" if i == 0 else g.name,
            "网格编码": g.code,
            "社区编码": community.code,
        }
        for i, g in enumerate(grids)
    ]
    folder.mkdir(parents=True, exist_ok=True)
    return zipped_shapefile(folder, rows, shapes, crs=crs, encoding="GBK", stem=stem)


def upload_and_preview(page, path: Path) -> None:
    open_page(page, "/boundaries/import")
    page.get_by_label("层级").select_option("grid")
    page.locator("#b-file").set_input_files(str(path))
    page.get_by_role("button", name="上传并选择字段").click()
    expect(page.locator("#panel")).to_contain_text("对应字段")
    expect(page.locator(".columns-sample")).to_contain_text("网格名称")
    # The guesses picked the columns; the user checks them and previews.
    expect(page.locator("#b-name")).to_have_value("网格名称")
    expect(page.locator("#b-code")).to_have_value("网格编码")
    expect(page.locator("#b-parent")).to_have_value("社区编码")
    page.get_by_role("button", name="预览").click()
    expect(page.locator(".boundary-preview")).to_be_visible()


@pytest.mark.slow
def test_import_grids_from_a_gbk_shapefile_with_mapping_and_preview(page, engine, tmp_path):
    community, grids = community_grids(engine)
    login(page)
    page.set_viewport_size({"width": 1400, "height": 900})
    # A grid shrunk by 5 m leaves a gap: named, drawn, nothing to import.
    upload_and_preview(
        page, shapefile(tmp_path / "gap", community, grids, shrink_first_m=5, stem="grids")
    )
    problems = page.locator(".problems")
    expect(problems).to_contain_text(f"社区“{community.name}”(编码 {community.code})内有约")
    expect(problems).to_contain_text("未被网格覆盖")
    expect(page.get_by_role("button", name="导入", exact=True)).to_have_count(0)
    page.wait_for_timeout(400)
    page.screenshot(path=str(shots(tmp_path) / "import-preview-gap.png"))
    # The corrected file passes; its names (GBK) are drawn on the map.
    upload_and_preview(page, shapefile(tmp_path / "ok", community, grids, stem="grids"))
    expect(page.locator(".boundary-preview")).to_contain_text("检查通过")
    expect(page.locator(".leaflet-tooltip.overlay-label").first).to_be_visible()
    expect(
        page.locator(".leaflet-tooltip.overlay-label", has_text=f"{grids[0].name}(新)")
    ).to_be_visible()
    page.wait_for_timeout(400)
    page.screenshot(path=str(shots(tmp_path) / "import-preview.png"))
    try:
        page.get_by_role("button", name="导入", exact=True).click()
        expect(page.locator("#panel")).to_contain_text(
            f"已导入 {len(grids)} 个网格(新增 0,更新 {len(grids)})", timeout=30_000
        )
        with engine.connect() as conn:
            name = conn.execute(
                text("SELECT name FROM grid WHERE id = :id"), {"id": grids[0].id}
            ).scalar_one()
        assert name == f"{grids[0].name}(新)"
    finally:
        # The live server committed the import: put the names and the shapes back exactly (a
        # round trip through Gauss–Krüger moves vertices by millimetres, enough to take a street
        # on a grid's edge out of it for the tests that follow).
        with engine.begin() as conn:
            for grid in grids:
                conn.execute(
                    text(
                        "UPDATE grid SET name = :n, geom = ST_SetSRID(ST_GeomFromWKB(:wkb), 4326)"
                        " WHERE id = :id"
                    ),
                    {"n": grid.name, "wkb": bytes(grid.wkb), "id": grid.id},
                )

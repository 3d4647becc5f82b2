"""``gridmap boundaries import``: the panel's steps from a shell, against the session's
database; the subdistrict it writes is removed afterwards (the audit log is append-only)."""

import pytest
from click.testing import CliRunner
from sqlalchemy import create_engine, text

from tests.boundary_files import in_crs, square, zipped_shapefile
from webapp.cli import main

CODE = "990099001"


@pytest.fixture
def gridmap(database_url, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", database_url)
    runner = CliRunner()
    yield lambda *args: runner.invoke(main, [str(a) for a in args])
    engine = create_engine(database_url)
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM subdistrict WHERE code = :c"), {"c": CODE})
    engine.dispose()


def test_import_a_gbk_shapefile_from_the_command_line(gridmap, database_url, tmp_path):
    shape = in_crs(square(117.0, 36.65), "EPSG:4548")
    path = zipped_shapefile(
        tmp_path,
        [{"JDMC": "命令行街道", "JDDM": CODE}],
        [shape],
        crs="EPSG:4548",
        encoding="GBK",
        keep_prj=False,
    )
    args = [
        "boundaries",
        "import",
        path,
        "--level",
        "subdistrict",
        "--name-column",
        "JDMC",
        "--code-column",
        "JDDM",
    ]
    refused = gridmap(*args)
    assert refused.exit_code == 1 and "缺少 .prj" in refused.output
    checked = gridmap(*args, "--crs", "EPSG:4548", "--dry-run")
    assert checked.exit_code == 0, checked.output
    assert "未写入" in checked.output
    done = gridmap(*args, "--crs", "epsg:4548")
    assert done.exit_code == 0, done.output
    assert "已导入 1 个街道(新增 1,更新 0)" in done.output
    engine = create_engine(database_url)
    with engine.connect() as conn:
        name = conn.execute(text("SELECT name FROM subdistrict WHERE code = :c"), {"c": CODE})
        assert name.scalar_one() == "命令行街道"
    engine.dispose()
    again = gridmap(*args, "--crs", "EPSG:4548", "--code-column", "没有这列")
    assert again.exit_code == 1 and "没有“没有这列”列" in again.output

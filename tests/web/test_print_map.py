"""打印地图: the view as an A4/A3 PDF, read back with pdftotext, and its refusals."""

from __future__ import annotations

import re
import shutil
import subprocess
from datetime import UTC, datetime

import pytest

from webapp import clock

# The demo subdistrict's middle (scale 1 sits around 120.39 E, 36.31 N): about 2 × 1.5 km.
VIEW = "120.380,36.300,120.403,36.314"
LAYERS = "community,grid,compound,police_room,camera,road"

pytestmark = pytest.mark.skipif(shutil.which("pdftotext") is None, reason="needs poppler-utils")


def pdf_text(data: bytes) -> str:
    assert data.startswith(b"%PDF-")
    out = subprocess.run(
        ["pdftotext", "-layout", "-", "-"], input=data, capture_output=True, check=True
    )
    return out.stdout.decode()


def url(**params) -> str:
    query = {"bbox": VIEW, "zoom": "16", "layers": LAYERS, **params}
    return "/map/print.pdf?" + "&".join(f"{k}={v}" for k, v in query.items())


@pytest.fixture
def center(client, auth):
    auth.login("center")
    return client


def test_the_printed_view_holds_title_legend_scale_date_and_watermark(center):
    with clock.frozen(datetime(2026, 11, 20, 4, 0, tzinfo=UTC)):
        response = center.get(url(title="城阳街道巡查图", paper="A4", orientation="landscape"))
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    assert "attachment" in response.headers["Content-Disposition"]
    text = pdf_text(response.data)
    assert "城阳街道巡查图" in text
    assert "内部资料" in text
    assert "2026年11月20日" in text and "2026-11-20" in text
    for name in ("图例", "社区边界", "网格", "住宅小区", "警务室", "道路"):
        assert name in text, name
    assert re.search(r"监控(在线|离线|故障)", text)
    assert "北" in text
    # The bar is a round length, and the 1:N scale is that of the paper frame at 36.3° N.
    assert re.search(r"\b\d+ (米|公里)\b", text)
    scale = int(re.search(r"1:([\d,]+)", text)[1].replace(",", ""))
    assert 5_000 < scale < 20_000


def test_a_print_is_on_the_audit_record(center, connection):
    from sqlalchemy import text

    assert center.get(url(title="巡查图")).status_code == 200
    summary = connection.execute(
        text("SELECT summary FROM audit_log WHERE entity = 'map_print' ORDER BY id DESC LIMIT 1")
    ).scalar()
    assert "巡查图" in summary and "community" in summary


def test_the_legend_lists_only_the_layers_drawn(center):
    text = pdf_text(center.get(url(layers="community", paper="A3")).data)
    assert "社区边界" in text
    assert "住宅小区" not in text and "警务室" not in text and "监控" not in text


def test_a_portrait_a3_page_is_a3(center):
    response = center.get(url(paper="A3", orientation="portrait"))
    assert response.status_code == 200
    info = subprocess.run(
        ["pdfinfo", "-"], input=response.data, capture_output=True, check=True
    ).stdout.decode()
    width, height = map(float, re.search(r"Page size:\s+([\d.]+) x ([\d.]+)", info).groups())
    assert abs(width - 841.9) < 2 and abs(height - 1190.6) < 2  # 297 × 420 mm in points


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"bbox": "120.3,36.3,abc,36.4"}, "非数字"),
        ({"bbox": "120.4,36.3,120.3,36.4"}, "最小值应小于最大值"),
        ({"bbox": "100,20,130,50"}, "打印范围过大"),
        ({"bbox": "120.38,36.30,120.3801,36.3001"}, "打印范围过小"),
        ({"layers": "community,secret"}, "未知图层"),
        ({"layers": ""}, "至少选择一个图层"),
        ({"paper": "A0"}, "纸张"),
        ({"orientation": "sideways"}, "方向"),
        ({"zoom": "99"}, "缩放级别"),
        ({"title": "长" * 41}, "标题最长"),
    ],
)
def test_bad_input_gets_a_chinese_400(center, params, message):
    response = center.get(url(**params))
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)


def test_a_planner_cannot_print_the_register_layer(client, auth):
    auth.login("planner")
    response = client.get(url(layers="community,collection_progress"))
    assert response.status_code == 403
    assert "无权查看图层" in response.get_data(as_text=True)


def test_printing_needs_a_login(client):
    assert client.get(url()).status_code in (302, 401)


def test_the_printed_layers_keep_to_the_users_area(connection):
    """A community worker's print reads the layer queries with their scope: patrol routes of
    other communities are not drawn, as on screen."""
    from sqlalchemy import select, text
    from sqlalchemy.orm import Session

    from gis.bbox import BBox
    from tests.helpers import patrol_route
    from webapp.models import User
    from webapp.printing.queries import view_layers

    for community_id in connection.execute(text("SELECT id FROM community")).scalars().all():
        patrol_route(connection, community_id)
    user = Session(bind=connection).scalar(select(User).where(User.username == "community"))
    box = BBox(120.30, 36.25, 120.50, 36.40)
    (layer,) = view_layers(connection, user, ["patrol_route"], box, 13, {})
    drawn = {f["properties"]["id"] for f in layer.features}
    own = set(
        connection.execute(
            text("SELECT id FROM patrol_route WHERE community_id = :c"), {"c": user.community_id}
        ).scalars()
    )
    others = connection.execute(
        text("SELECT count(*) FROM patrol_route WHERE community_id <> :c"),
        {"c": user.community_id},
    ).scalar()
    assert others > 0, "the demo has routes of other communities"
    assert drawn == own and own

"""打印地图 in the browser: the control sends the view on screen and the PDF downloads."""

import shutil
import subprocess
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.helpers import login, open_page

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(shutil.which("pdftotext") is None, reason="needs poppler-utils"),
]


def test_the_print_control_downloads_the_view_as_a_pdf(page, tmp_path):
    login(page)
    open_page(page, "/map")
    page.locator(".gm-print summary").click()
    page.locator(".gm-print-form input[name=title]").fill("网格巡查图")
    page.locator(".gm-print-form select[name=paper]").select_option("A3")
    with page.expect_download() as caught:
        page.get_by_role("button", name="打印地图(PDF)").click()
    download = caught.value
    assert download.suggested_filename.endswith(".pdf")
    query = parse_qs(urlsplit(download.url).query)
    # The layers on the map now, the view's box and zoom.
    on = page.evaluate(
        "() => gridmap.config.layers.filter(d => gridmap.map.hasLayer(gridmap.overlays[d.key])"
        " && (d.key === 'camera' || gridmap.map.getZoom() >= d.minZoom)).map(d => d.key)"
    )
    assert set(on) <= set(query["layers"][0].split(",")) and "community" in on
    assert query["zoom"] == [str(int(page.evaluate("() => gridmap.map.getZoom()")))]
    path = tmp_path / "map.pdf"
    download.save_as(path)
    text = subprocess.run(
        ["pdftotext", str(path), "-"], capture_output=True, check=True
    ).stdout.decode()
    assert "网格巡查图" in text and "内部资料" in text and "社区边界" in text and "A3" in text

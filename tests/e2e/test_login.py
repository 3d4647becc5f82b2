import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import text

from tests.helpers import login
from webapp.home.queries import LAYERS

pytestmark = pytest.mark.e2e


def test_login_shows_the_database_counts(page, requests_seen, engine, tmp_path):
    login(page)
    expect(page.get_by_role("heading", name="辖区概况")).to_be_visible()
    with engine.connect() as conn:
        for key, table, *_ in LAYERS:
            expected = conn.execute(text(f"SELECT count(*) FROM {table}")).scalar()
            expect(page.locator(f'[data-count="{key}"]')).to_have_text(
                re.compile(rf"^{expected:,} \S+$")
            )
    # The page's own assets load (styles applied, htmx present), all from 127.0.0.1.
    assert page.evaluate("typeof htmx") == "object"
    assert any(url.endswith("/static/css/app.css") for url in requests_seen)
    page.screenshot(path=str(tmp_path / "home.png"), full_page=True)


def test_a_wrong_password_shows_the_message(page, requests_seen):
    login(page, password="not-the-password")
    expect(page.get_by_role("alert")).to_contain_text("用户名或密码错误")

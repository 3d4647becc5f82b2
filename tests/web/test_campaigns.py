"""平安创建 panels: start, workflow, inspections, refusals, and the dashboard against SQL."""

import re

import pytest
from sqlalchemy import text

from tests.helpers import HX, YEAR, campaign_id, csrf_token, inspect, start
from webapp import clock


@pytest.fixture
def center(client, auth):
    auth.login("center")
    return client


def move(client, cid: int, to: str, version: int | None = None):
    page = client.get(f"/campaigns/{cid}", headers=HX).get_data(as_text=True)
    current = re.search(r'name="version" value="(\d+)"', page)
    return client.post(
        f"/campaigns/{cid}/transition",
        data={
            "csrf_token": csrf_token(page),
            "to": to,
            "version": str(version) if version is not None else current.group(1),
        },
        headers=HX,
    )


def test_a_compound_campaign_from_declaration_to_passed(center, connection):
    response = start(center, "compound", 1, "平安小区")
    assert response.status_code == 200, response.get_data(as_text=True)
    cid = campaign_id(connection, "compound", 1)
    assert move(center, cid, "创建中").status_code == 200
    assert move(center, cid, "验收").status_code == 200
    refused = move(center, cid, "达标")  # no passing inspection yet
    assert refused.status_code == 422 and "合格的检查记录" in refused.get_data(as_text=True)
    assert inspect(center, cid, "60", all_pass=False).status_code == 200
    assert inspect(center, cid, "92", all_pass=True).status_code == 200
    assert move(center, cid, "达标").status_code == 200
    state, events, inspections = connection.execute(
        text(
            "SELECT c.state, (SELECT count(*) FROM campaign_event WHERE campaign_id = c.id),"
            " (SELECT array_agg(passed ORDER BY id) FROM campaign_inspection"
            "  WHERE campaign_id = c.id) FROM campaign c WHERE c.id = :id"
        ),
        {"id": cid},
    ).one()
    assert state == "达标" and events == 4 and inspections == [False, True]
    # The checklist of the year was seeded and each inspection has a result per criterion.
    assert (
        connection.execute(
            text(
                "SELECT count(*) FROM campaign_inspection_result r JOIN campaign_inspection i"
                " ON i.id = r.inspection_id WHERE i.campaign_id = :id"
            ),
            {"id": cid},
        ).scalar()
        == 2
        * connection.execute(
            text(
                "SELECT count(*) FROM campaign_checklist_item WHERE campaign_type = '平安小区'"
                " AND year = :y"
            ),
            {"y": YEAR},
        ).scalar()
    )


@pytest.mark.parametrize("forged", ["命名", "摘牌", "申报", "创建中", "<script>", ""])
def test_a_forged_transition_is_refused(center, connection, forged):
    start(center, "compound", 2, "平安小区")
    cid = campaign_id(connection, "compound", 2)
    move(center, cid, "创建中")
    response = move(center, cid, forged)
    assert response.status_code == 422
    assert (
        connection.execute(text("SELECT state FROM campaign WHERE id = :id"), {"id": cid}).scalar()
        == "创建中"
    )


def test_a_stale_transition_is_a_conflict(center, connection):
    start(center, "compound", 3, "平安小区")
    cid = campaign_id(connection, "compound", 3)
    assert move(center, cid, "创建中", version=99).status_code == 409


def test_a_campaign_for_the_wrong_kind_of_feature_is_refused(center, connection):
    school = connection.execute(text("SELECT min(id) FROM place WHERE kind = '学校'")).scalar()
    response = start(center, "place", school, "平安工地")
    assert response.status_code == 422
    assert "工地" in response.get_data(as_text=True)
    response = start(center, "compound", 1, "平安校园")
    assert response.status_code == 422
    assert connection.execute(text("SELECT count(*) FROM campaign")).scalar() == 0


@pytest.mark.parametrize("score", ["101", "-1", "abc", ""])
def test_a_score_out_of_range_is_refused(center, connection, score):
    start(center, "compound", 1, "平安小区")
    cid = campaign_id(connection, "compound", 1)
    response = inspect(center, cid, score, all_pass=True)
    assert response.status_code == 422
    assert (
        connection.execute(
            text("SELECT count(*) FROM campaign_inspection WHERE campaign_id = :id"), {"id": cid}
        ).scalar()
        == 0
    )


def test_a_campaign_cannot_be_declared_twice_a_year(center, connection):
    assert start(center, "compound", 1, "平安小区").status_code == 200
    assert start(center, "compound", 1, "平安小区").status_code == 409


def test_other_communities_and_other_roles_cannot_write(client, auth, connection):
    other = connection.execute(
        text("SELECT min(id) FROM compound WHERE community_id <> 1")
    ).scalar()
    auth.login("community")
    assert start(client, "compound", other, "平安小区").status_code == 403
    auth.logout()
    auth.login("planner")
    assert start(client, "compound", 1, "平安小区").status_code == 403
    assert connection.execute(text("SELECT count(*) FROM campaign")).scalar() == 0


def test_the_dashboard_counts_equal_direct_sql(center, connection):
    compounds = connection.execute(text("SELECT id FROM compound ORDER BY id LIMIT 5")).scalars()
    for n, cid in enumerate(compounds):
        start(center, "compound", cid, "平安小区")
        if n % 2:
            move(center, campaign_id(connection, "compound", cid), "创建中")
    html = center.get(f"/campaigns?type=平安小区&year={YEAR}", headers=HX).get_data(as_text=True)
    rows = connection.execute(
        text(
            "SELECT cm.id, (SELECT count(*) FROM compound WHERE community_id = cm.id),"
            " count(c.id), count(c.id) FILTER (WHERE c.state = '申报'),"
            " count(c.id) FILTER (WHERE c.state = '创建中') FROM community cm LEFT JOIN campaign c"
            " ON c.community_id = cm.id AND c.campaign_type = '平安小区' AND c.year = :y"
            " GROUP BY cm.id"
        ),
        {"y": YEAR},
    ).all()
    for community_id, eligible, total, declared, building in rows:
        row = re.search(rf'<tr data-community="{community_id}">(.*?)</tr>', html, re.S).group(1)
        cells = re.findall(r"<td>([^<]*)</td>", row)
        assert [int(c) for c in cells[1:5]] == [eligible, total, declared, building]
        # Rates over every eligible compound, not over the declared ones.
        declared_rate = f"{total / eligible * 100:.0f}%" if eligible else "—"
        assert cells[-2:] == [declared_rate, "0%" if eligible else "—"]
    # Undeclared eligible compounds are drawn as gaps.
    overlay = html.replace("&#34;", '"')
    gaps = connection.execute(text("SELECT count(*) FROM compound")).scalar() - 5
    assert len(re.findall(r'"kind" ?: ?"gap"', overlay)) == gaps
    assert len(re.findall(r'"kind" ?: ?"campaign"', overlay)) == 5


def test_checklists_are_edited_per_year_until_an_inspection_uses_them(center, connection):
    token = csrf_token(center.get("/account/password").get_data(as_text=True))
    # Years no other test touches (the end-to-end tests commit this year's list).
    last_year, this_year = 2090, 2091

    def save(year: int, items: str):
        return center.post(
            "/campaigns/checklists",
            data={"csrf_token": token, "type": "平安小区", "year": str(year), "items": items},
            headers=HX,
        )

    assert save(last_year, "去年标准一\n去年标准二").status_code == 200
    # This year's list starts as a copy of last year's, then goes its own way.
    html = center.get(f"/campaigns/checklists?type=平安小区&year={this_year}", headers=HX).get_data(
        as_text=True
    )
    assert "去年标准一" in html
    assert save(this_year, "今年标准一\n今年标准二\n今年标准三").status_code == 200
    texts = connection.execute(
        text(
            "SELECT year, string_agg(text, '|' ORDER BY seq) FROM campaign_checklist_item"
            " WHERE campaign_type = '平安小区' AND year IN (:a, :b) GROUP BY year ORDER BY year"
        ),
        {"a": last_year, "b": this_year},
    ).all()
    assert texts == [
        (last_year, "去年标准一|去年标准二"),
        (this_year, "今年标准一|今年标准二|今年标准三"),
    ]
    # Once an inspection has used this year's list, it stays as it is.
    start(center, "compound", 1, "平安小区")
    cid = campaign_id(connection, "compound", 1)
    move(center, cid, "创建中")  # inspections start once the work has
    assert inspect(center, cid, "90", all_pass=True).status_code == 200
    assert save(YEAR, "改了").status_code == 409
    assert save(YEAR - 2, "<script>x</script>").status_code == 422


def test_only_center_staff_edit_checklists(client, auth):
    auth.login("community")
    token = csrf_token(client.get("/account/password").get_data(as_text=True))
    response = client.post(
        "/campaigns/checklists",
        data={"csrf_token": token, "type": "平安小区", "year": str(YEAR), "items": "x"},
        headers=HX,
    )
    assert response.status_code == 403


def test_the_ledger_exports_every_campaign_with_its_last_inspection(center, connection):
    import io

    from openpyxl import load_workbook

    start(center, "compound", 1, "平安小区")
    move(center, campaign_id(connection, "compound", 1), "创建中")
    inspect(center, campaign_id(connection, "compound", 1), "88", all_pass=True)
    start(center, "compound", 2, "平安小区")
    response = center.get(f"/campaigns/export.xlsx?type=平安小区&year={YEAR}")
    assert response.status_code == 200
    rows = list(load_workbook(io.BytesIO(response.data)).active.iter_rows(values_only=True))
    assert rows[0][:5] == ("编号", "社区", "对象类型", "对象", "状态")
    assert (
        len(rows)
        == 1
        + connection.execute(
            text("SELECT count(*) FROM campaign WHERE campaign_type = '平安小区' AND year = :y"),
            {"y": YEAR},
        ).scalar()
    )
    assert any(r[6] == 88 and r[7] == "合格" for r in rows[1:])
    assert (
        connection.execute(
            text(
                "SELECT count(*) FROM audit_log WHERE action = 'export' AND entity = 'campaign'"
                " AND at >= now()"
            )
        ).scalar()
        == 1
    )


def test_campaigns_waiting_for_an_inspection_are_due_then_overdue(center, connection):
    compounds = connection.execute(text("SELECT id FROM compound ORDER BY id LIMIT 3")).scalars()
    ids = []
    for days, compound in zip((10, 100, 200), compounds, strict=True):
        start(center, "compound", compound, "平安小区")
        cid = campaign_id(connection, "compound", compound)
        move(center, cid, "创建中")
        connection.execute(
            text(
                "UPDATE campaign_event SET at = at - make_interval(days => :d)"
                " WHERE campaign_id = :id"
            ),
            {"d": days, "id": cid},
        )
        ids.append(cid)
    html = center.get(f"/campaigns?type=平安小区&year={YEAR}", headers=HX).get_data(as_text=True)
    fresh, due, overdue = ids
    assert f'data-campaign="{fresh}"' not in html
    assert re.search(rf'<li data-campaign="{due}">.*?100 天前', html, re.S)
    assert re.search(
        rf'<li class="overdue" data-campaign="{overdue}">.*?逾期.*?200 天前', html, re.S
    )
    assert re.search(r"待检查 <small>(\d+)</small> · 逾期 <small>(\d+)</small>", html)


def test_one_passed_compound_is_not_a_hundred_percent(center, connection):
    compound, community = connection.execute(
        text("SELECT id, community_id FROM compound ORDER BY id LIMIT 1")
    ).one()
    start(center, "compound", compound, "平安小区")
    connection.execute(
        text("UPDATE campaign SET state = '达标' WHERE feature_id = :f AND layer = 'compound'"),
        {"f": compound},
    )
    eligible = connection.execute(
        text("SELECT count(*) FROM compound WHERE community_id = :c"), {"c": community}
    ).scalar()
    html = center.get(f"/campaigns?type=平安小区&year={YEAR}", headers=HX).get_data(as_text=True)
    row = re.search(rf'<tr data-community="{community}">(.*?)</tr>', html, re.S).group(1)
    cells = re.findall(r"<td>([^<]*)</td>", row)
    assert cells[-1] == f"{100 / eligible:.0f}%" and eligible > 1


def test_the_due_list_follows_the_type_and_year(center, connection):
    compound = connection.execute(text("SELECT min(id) FROM compound")).scalar()
    start(center, "compound", compound, "平安小区")
    cid = campaign_id(connection, "compound", compound)
    move(center, cid, "创建中")
    connection.execute(
        text("UPDATE campaign_event SET at = at - interval '100 days' WHERE campaign_id = :id"),
        {"id": cid},
    )
    shown = center.get(f"/campaigns?type=平安小区&year={YEAR}", headers=HX)
    assert f'data-campaign="{cid}"' in shown.get_data(as_text=True)
    for other in (f"type=平安家庭&year={YEAR}", f"type=平安小区&year={YEAR - 1}"):
        html = center.get(f"/campaigns?{other}", headers=HX).get_data(as_text=True)
        assert f'data-campaign="{cid}"' not in html, other


def inspect_on(client, cid: int, day: str, score: str = "90"):
    page = client.get(f"/campaigns/{cid}", headers=HX).get_data(as_text=True)
    items = re.findall(r'name="(item_\d+)" value="pass"', page)
    data = {"csrf_token": csrf_token(page), "inspected_on": day, "inspectors": "张三"}
    data.update({"score": score, **dict.fromkeys(items, "pass")})
    return client.post(f"/campaigns/{cid}/inspections", data=data, headers=HX)


def test_passed_needs_a_passing_inspection_after_the_latest_acceptance(center, connection):
    start(center, "compound", 2, "平安小区")
    cid = campaign_id(connection, "compound", 2)
    for step in ("创建中", "验收"):
        assert move(center, cid, step).status_code == 200
    assert inspect(center, cid, "92", all_pass=True).status_code == 200
    for step in ("未达标", "创建中", "验收"):
        assert move(center, cid, step).status_code == 200
    refused = move(center, cid, "达标")  # the pass belongs to the first round
    assert refused.status_code == 422 and "本轮验收" in refused.get_data(as_text=True)
    assert inspect(center, cid, "91", all_pass=True).status_code == 200
    assert move(center, cid, "达标").status_code == 200


def test_inspections_out_of_the_year_in_the_future_or_before_the_work_are_refused(
    center, connection
):
    from datetime import timedelta

    start(center, "compound", 3, "平安小区")
    cid = campaign_id(connection, "compound", 3)
    declared = inspect_on(center, cid, clock.today().isoformat())
    assert declared.status_code == 422 and "申报" in declared.get_data(as_text=True)
    move(center, cid, "创建中")
    last_year = inspect_on(center, cid, f"{YEAR - 1}-06-01")
    assert last_year.status_code == 422 and f"{YEAR} 年内" in last_year.get_data(as_text=True)
    tomorrow = inspect_on(center, cid, (clock.today() + timedelta(days=1)).isoformat())
    assert tomorrow.status_code == 422 and "晚于今天" in tomorrow.get_data(as_text=True)
    connection.execute(text("UPDATE campaign SET state = '摘牌' WHERE id = :id"), {"id": cid})
    revoked = inspect_on(center, cid, clock.today().isoformat())
    assert revoked.status_code == 422 and "摘牌" in revoked.get_data(as_text=True)
    assert (
        connection.execute(
            text("SELECT count(*) FROM campaign_inspection WHERE campaign_id = :id"), {"id": cid}
        ).scalar()
        == 0
    )


def test_a_failing_review_after_naming_shows_with_a_deadline(center, connection):
    from datetime import timedelta

    start(center, "compound", 4, "平安小区")
    cid = campaign_id(connection, "compound", 4)
    for step in ("创建中", "验收"):
        move(center, cid, step)
    inspect(center, cid, "92", all_pass=True)
    for step in ("达标", "命名"):
        assert move(center, cid, step).status_code == 200
    assert inspect(center, cid, "50", all_pass=False).status_code == 200
    page = center.get(f"/campaigns/{cid}", headers=HX).get_data(as_text=True)
    deadline = (clock.today() + timedelta(days=90)).isoformat()
    assert "复查不合格" in page and deadline in page
    state, flagged, due = connection.execute(
        text("SELECT state, review_failed_on, rectify_by FROM campaign WHERE id = :id"),
        {"id": cid},
    ).one()
    assert state == "命名" and flagged == clock.today() and due.isoformat() == deadline
    inspect(center, cid, "93", all_pass=True)  # put right
    page = center.get(f"/campaigns/{cid}", headers=HX).get_data(as_text=True)
    assert "复查不合格" not in page


def test_grid_workers_keep_to_their_grid_like_every_other_write(client, auth, connection):
    grid_id, community_id = connection.execute(
        text(
            "SELECT u.grid_id, g.community_id FROM app_user u JOIN grid g ON g.id = u.grid_id"
            " WHERE username = 'grid'"
        )
    ).one()
    mine = connection.execute(
        text("SELECT min(id) FROM compound WHERE grid_id = :g"), {"g": grid_id}
    ).scalar()
    neighbours = connection.execute(
        text("SELECT min(id) FROM compound WHERE community_id = :c AND grid_id <> :g"),
        {"c": community_id, "g": grid_id},
    ).scalar()
    auth.login("grid")
    assert start(client, "compound", mine, "平安小区").status_code == 200
    assert start(client, "compound", neighbours, "平安小区").status_code == 403
    assert start(client, "community", community_id, "平安社区").status_code == 403

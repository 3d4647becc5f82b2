"""社区建设标准 on the web: the table, one community's page, the 标准达标率 layer, the party
organisation form, and the panels of 居民小组 and 志愿者 (bad input, escaping, stale saves)."""

import json
import re

import pytest
from sqlalchemy import text

from tests.helpers import HX, count, csrf_token, form_of

LAYER = "/api/layers/standards.geojson?bbox=120.3,36.25,120.5,36.4&zoom=13"


def own_and_other(connection, username="community") -> tuple[int, int]:
    own = connection.execute(
        text("SELECT community_id FROM app_user WHERE username = :u"), {"u": username}
    ).scalar_one()
    other = connection.execute(
        text("SELECT min(id) FROM community WHERE id <> :c"), {"c": own}
    ).scalar_one()
    return own, other


def greens(html: str) -> dict[int, int]:
    """Per community, the cells of the table shown green."""
    cells = re.findall(r'<td class="std (\w+)" data-community="(\d+)"', html)
    out: dict[int, int] = {}
    for colour, community in cells:
        out[int(community)] = out.get(int(community), 0) + (colour == "green")
    return out


def test_the_table_shows_every_community_and_standard_with_its_source(client, auth, connection):
    auth.login("center")
    html = client.get("/standards").get_data(as_text=True)
    assert "建设标准" in html  # the nav link
    communities = count(connection, "SELECT count(*) FROM community")
    assert html.count('<td class="std ') == communities * 14
    assert "来源:数据管理 › 志愿者" in html and "1500—3000户" in html
    assert {"green", "amber", "red"} <= set(re.findall(r'data-colour="(\w+)"', html))


def test_the_layer_carries_the_standards_met_the_table_shows(client, auth):
    auth.login("center")
    shown = greens(client.get("/standards").get_data(as_text=True))
    features = client.get(LAYER).get_json()["features"]
    met = {f["properties"]["id"]: f["properties"]["met"] for f in features}
    assert met == shown and all(f["properties"]["total"] == 14 for f in features)


def test_a_click_on_the_layer_opens_the_communitys_standards(client, auth, connection):
    auth.login("center")
    html = client.get("/map").get_data(as_text=True)
    config = json.loads(re.search(r"gridmap\.init\(map_gridmap, (.*)\);", html).group(1))
    (layer,) = [d for d in config["layers"] if d["key"] == "standards"]
    assert layer["label"] == "标准达标率" and not layer["defaultOn"]
    own, _ = own_and_other(connection)
    panel = client.get(layer["panelUrl"].replace("{id}", str(own)), headers=HX)
    assert panel.status_code == 200
    assert 'data-standard="volunteers"' in panel.get_data(as_text=True)


def test_community_staff_see_their_own_community_only(client, auth, connection):
    own, other = own_and_other(connection)
    auth.login("community")
    html = client.get("/standards").get_data(as_text=True)
    assert set(greens(html)) == {own}
    assert [f["properties"]["id"] for f in client.get(LAYER).get_json()["features"]] == [own]
    response = client.get(f"/standards/community/{other}", headers=HX)
    assert response.status_code == 403
    assert "不在您负责的区域内" in response.get_data(as_text=True)
    assert client.get("/standards/community/999999").status_code == 404
    assert client.get(f"/standards/community/{own}").status_code == 200


@pytest.mark.parametrize("username", ["grid", "planner"])
def test_who_keeps_no_community_has_no_standards(client, auth, connection, username):
    own, _ = own_and_other(connection)
    auth.login(username)
    assert client.get("/standards").status_code == 403
    assert client.get(f"/standards/community/{own}").status_code == 403
    assert client.get(LAYER).get_json()["features"] == []
    assert "建设标准" not in client.get("/map").get_data(as_text=True)


def _party_org(client, community: int, **data):
    html = client.get(f"/standards/community/{community}", headers=HX).get_data(as_text=True)
    version = re.search(r'name="version" value="(\d+)"', html).group(1)
    form = {"csrf_token": csrf_token(html), "version": version, **data}
    return client.post(f"/standards/community/{community}/party-org", data=form, headers=HX)


def test_the_party_organisation_as_set_up_is_checked_and_judged(client, auth, connection):
    own, _ = own_and_other(connection)
    auth.login("community")
    required = connection.execute(
        text("SELECT party_org_type FROM community WHERE id = :c"), {"c": own}
    ).scalar_one()
    wrong = "党委" if required != "党委" else "党支部"
    bad = _party_org(client, own, party_org_set="<b>党委</b>")
    assert bad.status_code == 422 and "请选择实设党组织类型" in bad.get_data(as_text=True)
    response = _party_org(client, own, party_org_set=wrong)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert re.search(r'data-standard="party_org">.*?data-colour="red"', html, re.S)
    response = _party_org(client, own, party_org_set=required)
    assert re.search(r'data-standard="party_org">.*?data-colour="green"', response.text, re.S)
    assert count(connection, "SELECT count(*) FROM audit_log WHERE entity = 'community'") >= 2


def test_a_stale_party_organisation_save_is_refused(client, auth, connection):
    own, _ = own_and_other(connection)
    auth.login("center")
    html = client.get(f"/standards/community/{own}", headers=HX).get_data(as_text=True)
    connection.execute(text("UPDATE community SET version = version + 1 WHERE id = :c"), {"c": own})
    response = client.post(
        f"/standards/community/{own}/party-org",
        data={"csrf_token": csrf_token(html), "version": "1", "party_org_set": "党委"},
        headers=HX,
    )
    assert response.status_code == 409 and "已被他人修改" in response.get_data(as_text=True)


def test_another_communitys_party_organisation_is_not_ours_to_set(client, auth, connection):
    _, other = own_and_other(connection)
    auth.login("community")
    token = csrf_token(client.get("/manage/staff").get_data(as_text=True))
    response = client.post(
        f"/standards/community/{other}/party-org",
        data={"csrf_token": token, "version": "1", "party_org_set": "党委"},
    )
    assert response.status_code == 403


# ---- the panels of 居民小组 and 志愿者 -------------------------------------------------------


def _new_group(client, community: int, **values):
    data = form_of(client, "/manage/resident_group/new")
    data.update({"name": "第99居民小组", "community_id": str(community), "households": "150"})
    data.update(values)
    return client.post("/manage/resident_group/new", data=data, headers=HX)


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"name": ""}, "请填写名称"),
        ({"name": "<script>alert(1)</script>"}, "标记字符"),
        ({"households": "很多"}, "不是有效的整数"),
        ({"households": "-5"}, "户数应不小于 0"),
    ],
)
def test_a_bad_group_is_refused_and_nothing_written(client, auth, connection, values, message):
    own, _ = own_and_other(connection)
    auth.login("community")
    before = count(connection, "SELECT count(*) FROM resident_group")
    response = _new_group(client, own, **values)
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert count(connection, "SELECT count(*) FROM resident_group") == before


def test_a_group_is_created_edited_and_deleted_and_its_name_escaped(client, auth, connection):
    own, _ = own_and_other(connection)
    auth.login("community")
    name = '王家&"李家"组'
    assert _new_group(client, own, name=name).status_code == 200
    group = connection.execute(
        text("SELECT id FROM resident_group WHERE name = :n"), {"n": name}
    ).scalar_one()
    html = client.get(f"/manage/resident_group?community={own}&q=王家").get_data(as_text=True)
    assert "王家&amp;&#34;李家&#34;组" in html or "王家&amp;&quot;李家&quot;组" in html
    data = form_of(client, f"/manage/resident_group/{group}/edit")
    connection.execute(
        text("UPDATE resident_group SET households = 180, version = version + 1 WHERE id = :g"),
        {"g": group},
    )
    data["households"] = "120"
    stale = client.post(f"/manage/resident_group/{group}/edit", data=data, headers=HX)
    assert stale.status_code == 409
    assert count(connection, f"SELECT households FROM resident_group WHERE id = {group}") == 180
    data = form_of(client, f"/manage/resident_group/{group}/edit")
    data["households"] = "120"
    saved = client.post(f"/manage/resident_group/{group}/edit", data=data, headers=HX)
    assert saved.status_code == 200
    assert count(connection, f"SELECT households FROM resident_group WHERE id = {group}") == 120
    version = count(connection, f"SELECT version FROM resident_group WHERE id = {group}")
    deleted = client.post(
        f"/manage/resident_group/{group}/delete",
        data={"csrf_token": data["csrf_token"], "version": str(version)},
        headers=HX,
    )
    assert deleted.status_code == 200
    assert count(connection, f"SELECT count(*) FROM resident_group WHERE id = {group}") == 0


def test_community_staff_keep_no_group_of_another_community(client, auth, connection):
    _, other = own_and_other(connection)
    auth.login("community")
    before = count(connection, "SELECT count(*) FROM resident_group")
    assert _new_group(client, other).status_code == 403
    group = connection.execute(
        text("SELECT min(id) FROM resident_group WHERE community_id = :c"), {"c": other}
    ).scalar_one()
    assert client.get(f"/manage/resident_group/{group}/edit").status_code == 403
    assert count(connection, "SELECT count(*) FROM resident_group") == before


def test_grid_workers_keep_no_volunteers(client, auth):
    auth.login("grid")
    assert client.get("/manage/volunteer/new").status_code == 403


def test_a_volunteers_phone_is_stored_encrypted_and_shown_masked(client, auth, connection):
    own, _ = own_and_other(connection)
    auth.login("community")
    data = form_of(client, "/manage/volunteer/new")
    data.update(name="赵志愿", community_id=str(own), service="治安巡逻", phone="13812345678")
    assert client.post("/manage/volunteer/new", data=data, headers=HX).status_code == 200
    stored = connection.execute(
        text("SELECT phone FROM volunteer WHERE name = '赵志愿'")
    ).scalar_one()
    assert "13812345678" not in stored
    html = client.get(f"/manage/volunteer?community={own}&q=赵志愿").get_data(as_text=True)
    assert "138****5678" in html and "13812345678" not in html

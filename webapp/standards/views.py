"""社区建设标准 panels: every community × every standard (red / amber / green with its figure
and where it comes from), one community's standards with links to keep their records, and the
party organisation as set up, which only staff know."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, url_for
from flask_login import current_user, login_required
from wtforms import IntegerField, StringField
from wtforms.validators import InputRequired, ValidationError

from webapp import access, clock
from webapp.access import Action
from webapp.auditing import record_request_event
from webapp.db import get_session
from webapp.domain import standards as rules
from webapp.domain.choices import PartyOrgType, StaffRole
from webapp.forms import CheckedForm
from webapp.map.shell import map_page
from webapp.models import Community

from . import queries

bp = Blueprint("standards", __name__, url_prefix="/standards")

STALE = "该社区的信息已被他人修改,请刷新后重试。"


@bp.before_request
@login_required
def _require_login():
    """Staff only."""


def _dates():
    today = clock.today()
    return today, rules.xueliang_deadline(current_app.config["XUELIANG_DEADLINE"], today)


@bp.get("")
def overview():
    access.require(current_user, Action.READ_STANDARDS)
    today, deadline = _dates()
    rows = queries.community_standards(get_session(), current_user, today, deadline)
    return map_page(
        "standards/overview.html",
        push_url=url_for("standards.overview"),
        rows=rows,
        standards=rules.standards_on(today, deadline),
        deadline=deadline,
        colours=list(rules.Colour),
    )


def _community(community_id: int) -> Community:
    community = get_session().get(Community, community_id)
    if community is None:
        abort(404, "该社区不存在。")
    access.require(current_user, Action.READ_STANDARDS)
    if not access.may(current_user, Action.READ_STANDARDS, community_id=community.id):
        raise access.Forbidden("该社区不在您负责的区域内,不能查看其建设标准。")
    return community


def _community_page(community: Community, *, saved="", error="", status=200):
    today, deadline = _dates()
    (row,) = queries.community_standards(
        get_session(), current_user, today, deadline, community_id=community.id
    )
    return map_page(
        "standards/community.html",
        status=status,
        push_url=url_for("standards.community", community_id=community.id),
        community=community,
        row=row,
        deadline=deadline,
        party_org_types=list(PartyOrgType),
        party_worker_role=StaffRole.PARTY_WORKER.value,
        may_write=access.may(current_user, Action.WRITE_STANDARDS, community_id=community.id),
        saved=saved,
        error=error,
    )


@bp.get("/community/<int:community_id>")
def community(community_id: int):
    return _community_page(_community(community_id))


def _party_org(_form, field) -> None:
    if field.data not in {t.value for t in PartyOrgType}:
        raise ValidationError("请选择实设党组织类型:党委、党总支或党支部。")


class PartyOrgForm(CheckedForm):
    party_org_set = StringField(validators=[_party_org])
    version = IntegerField(validators=[InputRequired("表单缺少版本号,请刷新后重试。")])


@bp.post("/community/<int:community_id>/party-org")
def party_org(community_id: int):
    """The party organisation as set up (实设): a fact staff record, judged against the type
    the membership calls for."""
    c = _community(community_id)
    if not access.may(current_user, Action.WRITE_STANDARDS, community_id=c.id):
        return _community_page(c, error="只能维护本社区的党组织设置。", status=403)
    form = PartyOrgForm()
    if not form.validate():
        return _community_page(c, error=form.first_error(), status=422)
    if form.version.data != c.version:
        return _community_page(c, error=STALE, status=409)
    before = c.party_org_set or "未录入"
    c.party_org_set = form.party_org_set.data
    session = get_session()
    session.flush()
    record_request_event(
        action="update",
        entity="community",
        entity_id=c.id,
        summary=f"{c.name}实设党组织类型:{before} → {c.party_org_set}",
    )
    session.commit()
    return _community_page(c, saved=f"已保存:实设{c.party_org_set}。")

"""平安创建 panels: a feature's campaigns, one campaign's workflow and inspections, and the
campaign map with the dashboard of every community."""

from __future__ import annotations

from datetime import date

from flask import Blueprint, abort, request, url_for
from flask_login import current_user, login_required
from sqlalchemy.exc import IntegrityError

from webapp import access, clock
from webapp.access import Action
from webapp.auditing import record_request_event
from webapp.db import get_session
from webapp.domain import campaigns as rules
from webapp.forms import MARKUP
from webapp.map.shell import current_basemap, map_page
from webapp.models.campaigns import Campaign, CampaignEvent, Inspection, InspectionResult

from . import queries

bp = Blueprint("campaigns", __name__, url_prefix="/campaigns")

LAYER_LABELS = {"building": "楼栋", "compound": "小区", "place": "场所", "community": "社区"}
# One clearly different colour a state (达标 green, 命名 purple: both count as safe, but a
# named feature holds a title); gaps (未申报, eligible but not declared) are hatched grey.
STATE_COLORS = {
    "申报": "#64748b",
    "创建中": "#f59e0b",
    "验收": "#0ea5e9",
    "达标": "#16a34a",
    "未达标": "#dc2626",
    "命名": "#7c3aed",
    "摘牌": "#78350f",
    queries.GAP_STATE: "#cbd5e1",
}


@bp.before_request
@login_required
def _staff_only():
    """Staff only."""


def _refuse(status: int, message: str, back: str | None = None):
    get_session().rollback()
    return map_page(
        "entities/message.html", status=status, title="平安创建", message=message, back=back
    )


def _audit(campaign: Campaign, summary: str) -> None:
    record_request_event(
        action="update",
        entity="campaign",
        entity_id=campaign.id,
        summary=summary,
    )


# ---- a feature's campaigns ------------------------------------------------------------------


def _may_write(target) -> bool:
    """The campaign work on a feature is its area's: a grid worker's for a feature in their grid
    (never a whole community's), community staff's in their community, the center's anywhere."""
    return access.may(
        current_user,
        Action.WRITE_CAMPAIGNS,
        community_id=target.community_id,
        grid_id=target.grid_id,
    )


def may_write_campaign(campaign: Campaign) -> bool:
    """Whether the user may move, inspect and document this campaign (its feature's area)."""
    target = queries.feature(get_session(), campaign.layer, campaign.feature_id)
    return target is not None and _may_write(target)


@bp.get("/feature/<any(building, compound, place, community):layer>/<int:feature_id>")
def feature_campaigns(layer: str, feature_id: int, error: str = "", status: int = 200):
    session = get_session()
    target = queries.feature(session, layer, feature_id)
    if target is None:
        abort(404, "该要素不存在。")
    return map_page(
        "campaigns/feature.html",
        status=status,
        push_url=url_for("campaigns.feature_campaigns", layer=layer, feature_id=feature_id),
        layer=layer,
        layer_label=LAYER_LABELS[layer],
        feature_id=feature_id,
        name=target.name,
        campaigns=queries.campaigns_of(session, layer, feature_id),
        types=queries.types_for(layer, target.kind),
        year=clock.today().year,
        may_write=_may_write(target),
        error=error,
    )


@bp.post("/feature/<any(building, compound, place, community):layer>/<int:feature_id>")
def start(layer: str, feature_id: int):
    """Start a campaign (申报) for a feature: the type must suit the kind of feature."""
    session = get_session()
    target = queries.feature(session, layer, feature_id)
    if target is None:
        abort(404, "该要素不存在。")
    if not _may_write(target):
        return _refuse(403, "只能为本人负责区域内的要素发起平安创建。")
    campaign_type = request.form.get("campaign_type", "")
    year = request.form.get("year", "")
    try:
        if not (year.isdigit() and 2000 <= int(year) <= 2100):
            raise rules.CampaignError("年度应为 2000 到 2100 之间的年份。")
        rules.check_target(campaign_type, layer, target.kind)
    except rules.CampaignError as err:
        return feature_campaigns(layer, feature_id, error=err.message, status=422)
    campaign = Campaign(
        campaign_type=campaign_type,
        year=int(year),
        layer=layer,
        feature_id=feature_id,
        feature_name=target.name,
        community_id=target.community_id,
        state=rules.INITIAL.value,
        events=[
            CampaignEvent(
                to_state=rules.INITIAL.value, username=current_user.username, comment="申报"
            )
        ],
    )
    session.add(campaign)
    try:
        session.flush()
    except IntegrityError:
        session.rollback()
        return feature_campaigns(
            layer,
            feature_id,
            error=f"该要素 {year} 年已有{campaign_type}创建,不能重复申报。",
            status=409,
        )
    queries.checklist(session, campaign_type, int(year))
    _audit(campaign, f"为{target.name}申报{year}年{campaign_type}")
    session.commit()
    return _campaign_page(campaign, saved=f"已申报{year}年{campaign_type}。")


# ---- one campaign ---------------------------------------------------------------------------


def _campaign(campaign_id: int) -> Campaign:
    campaign = get_session().get(Campaign, campaign_id)
    if campaign is None:
        abort(404, "该创建记录不存在。")
    return campaign


def _campaign_page(campaign: Campaign, *, saved: str = "", error: str = "", status: int = 200):
    session = get_session()
    return map_page(
        "campaigns/campaign.html",
        status=status,
        push_url=url_for("campaigns.campaign", campaign_id=campaign.id),
        campaign=campaign,
        layer_label=LAYER_LABELS[campaign.layer],
        allowed=rules.allowed(rules.State(campaign.state)),
        checklist=queries.checklist(session, campaign.campaign_type, campaign.year),
        may_write=may_write_campaign(campaign),
        saved=saved,
        error=error,
        today=clock.today().isoformat(),
        pass_score=rules.PASS_SCORE,
        changed_layer="campaign" if saved else None,
    )


@bp.get("/<int:campaign_id>")
def campaign(campaign_id: int):
    return _campaign_page(_campaign(campaign_id))


@bp.post("/<int:campaign_id>/transition")
def move(campaign_id: int):
    """One step of the workflow; a step not offered (a forged form) is refused."""
    session = get_session()
    c = _campaign(campaign_id)
    if not may_write_campaign(c):
        return _refuse(403, "只能办理本人负责区域内的平安创建。")
    if request.form.get("version") != str(c.version):
        return _campaign_page(
            c, error="该创建记录已被他人更新,请查看最新状态后再操作。", status=409
        )
    comment = request.form.get("comment", "").strip()
    try:
        if len(comment) > 500 or MARKUP.search(comment):
            raise rules.CampaignError("说明最多 500 字,不能包含“<”或“>”。")
        target = rules.transition(c.state, request.form.get("to", ""))
        this_round = [i for i in c.inspections if i.acceptance_round == c.acceptance_round]
        rules.check_pass(target, this_round[0].passed if this_round else None)
    except rules.CampaignError as err:
        return _campaign_page(c, error=err.message, status=422)
    c.events.append(
        CampaignEvent(
            from_state=c.state,
            to_state=target.value,
            username=current_user.username,
            comment=comment,
        )
    )
    before = c.state
    c.state = target.value
    _audit(c, f"{c.feature_name} {c.year}年{c.campaign_type}:{before} → {target.value}")
    session.commit()
    return _campaign_page(c, saved=f"已转为“{target.value}”。")


@bp.post("/<int:campaign_id>/inspections")
def inspect(campaign_id: int):
    """An inspection: date, inspectors, a result and note per criterion, a score."""
    session = get_session()
    c = _campaign(campaign_id)
    if not may_write_campaign(c):
        return _refuse(403, "只能为本人负责区域内的平安创建记录检查。")
    form = request.form
    items = queries.checklist(session, c.campaign_type, c.year)
    try:
        try:
            inspected_on = date.fromisoformat(form.get("inspected_on", ""))
        except ValueError:
            raise rules.CampaignError("请填写有效的检查日期。") from None
        rules.check_inspection(c.state, c.year, inspected_on, clock.today())
        inspectors = form.get("inspectors", "").strip()
        if not inspectors or len(inspectors) > 200 or MARKUP.search(inspectors):
            raise rules.CampaignError("请填写检查人员(最多 200 字,不能包含“<”或“>”)。")
        score = rules.check_score(form.get("score", ""))
        note = form.get("note", "").strip()
        if len(note) > 2000 or MARKUP.search(note):
            raise rules.CampaignError("检查意见最多 2000 字,不能包含“<”或“>”。")
        results = [form.get(f"item_{item.id}") == "pass" for item in items]
    except rules.CampaignError as err:
        return _campaign_page(c, error=err.message, status=422)
    passed = rules.inspection_passed(score, results)
    deadline = rules.review_deadline(c.state, passed, inspected_on)
    if deadline or (passed and c.review_failed_on):
        # 复查不合格 after 达标/命名 shows beside the title until a passing inspection.
        c.review_failed_on, c.rectify_by = (inspected_on, deadline) if deadline else (None, None)
    c.inspections.insert(
        0,
        Inspection(
            acceptance_round=c.acceptance_round,
            inspected_on=inspected_on,
            inspectors=inspectors,
            score=score,
            passed=passed,
            note=note,
            username=current_user.username,
            results=[
                InspectionResult(
                    item_id=item.id,
                    passed=ok,
                    note=form.get(f"note_{item.id}", "").strip()[:200],
                )
                for item, ok in zip(items, results, strict=True)
            ],
        ),
    )
    _audit(
        c,
        f"{c.feature_name} {c.year}年{c.campaign_type}检查:{score:g} 分,"
        f"{'合格' if passed else '不合格'}",
    )
    session.commit()
    return _campaign_page(c, saved=f"已记录检查:{score:g} 分,{'合格' if passed else '不合格'}。")


# ---- the campaign map and dashboard ---------------------------------------------------------


@bp.get("")
def dashboard():
    args = request.args
    campaign_type = args.get("type", rules.CampaignType.COMPOUND.value)
    if campaign_type not in {t.value for t in rules.CampaignType}:
        campaign_type = rules.CampaignType.COMPOUND.value
    year = int(args["year"]) if args.get("year", "").isdigit() else clock.today().year
    session = get_session()
    return map_page(
        "campaigns/dashboard.html",
        push_url=request.full_path.rstrip("?"),
        types=list(rules.CampaignType),
        campaign_type=campaign_type,
        year=year,
        rows=queries.dashboard(session, campaign_type, year),
        states=queries.STATES,
        colors=STATE_COLORS,
        due=queries.inspections_due(session, campaign_type, year),
        due_days=queries.DUE_DAYS,
        overlay=current_basemap().geojson(queries.campaign_map(session, campaign_type, year)),
    )


# ---- checklists and the 台账 -----------------------------------------------------------------


def _type_and_year(args) -> tuple[str, int]:
    campaign_type = args.get("type", rules.CampaignType.COMPOUND.value)
    if campaign_type not in {t.value for t in rules.CampaignType}:
        campaign_type = rules.CampaignType.COMPOUND.value
    year = args.get("year", "")
    year = int(year) if year.isdigit() and 2000 <= int(year) <= 2100 else clock.today().year
    return campaign_type, year


@bp.route("/checklists", methods=["GET", "POST"])
def checklists():
    """The criteria of a type in a year. Center staff edit them until the year's first
    inspection uses them; earlier years keep theirs, so old results keep their meaning."""
    session = get_session()
    source = request.form if request.method == "POST" else request.args
    campaign_type, year = _type_and_year(source)
    items = queries.checklist(session, campaign_type, year)
    used = queries.checklist_in_use(session, campaign_type, year)
    error, saved, status = "", "", 200
    if request.method == "POST":
        lines = [line.strip() for line in request.form.get("items", "").splitlines()]
        lines = [line for line in lines if line]
        if not access.allowed(current_user, Action.EDIT_CHECKLISTS):
            error, status = "检查标准由综治中心维护。", 403
        elif used:
            error, status = (
                f"{year} 年的标准已被检查记录引用,不能再修改;可修改下一年度的标准。",
                409,
            )
        elif not 1 <= len(lines) <= 30 or any(len(x) > 200 or MARKUP.search(x) for x in lines):
            error, status = "请填写 1–30 条标准,每条最多 200 字,不能包含“<”或“>”。", 422
        else:
            queries.replace_checklist(session, campaign_type, year, lines)
            _audit_checklist(campaign_type, year, len(lines))
            session.commit()
            items = queries.checklist(session, campaign_type, year)
            saved = f"已保存 {year} 年{campaign_type}的 {len(lines)} 条检查标准。"
        if status != 200:
            session.rollback()  # nothing of a refused save stays; show the list as it is
            items = queries.checklist(session, campaign_type, year)
    return map_page(
        "campaigns/checklists.html",
        status=status,
        push_url=url_for("campaigns.checklists", type=campaign_type, year=year),
        types=list(rules.CampaignType),
        campaign_type=campaign_type,
        year=year,
        items=items,
        used=used,
        may_edit=access.allowed(current_user, Action.EDIT_CHECKLISTS) and not used,
        error=error,
        saved=saved,
    )


def _audit_checklist(campaign_type: str, year: int, count: int) -> None:
    record_request_event(
        action="update",
        entity="checklist",
        summary=f"修改{year}年{campaign_type}检查标准({count} 条)",
    )


LEDGER_HEADER = [
    "编号",
    "社区",
    "对象类型",
    "对象",
    "状态",
    "最近检查日期",
    "最近得分",
    "是否合格",
    "复查不合格",
    "整改期限",
]


@bp.get("/export.xlsx")
def export():
    """The 台账 of a type and year as Excel: every campaign with its place, state and last
    inspection (audited, as every export)."""
    from flask import Response

    from webapp import spreadsheet

    campaign_type, year = _type_and_year(request.args)
    session = get_session()
    rows = queries.ledger(session, campaign_type, year)
    data = spreadsheet.workbook_bytes(
        spreadsheet.Sheet(
            f"{year}年{campaign_type}",
            [spreadsheet.SheetColumn(header, 14) for header in LEDGER_HEADER],
            (
                [
                    row["id"],
                    row["community"],
                    LAYER_LABELS[row["layer"]],
                    row["feature_name"],
                    row["state"],
                    row["inspected_on"],
                    row["score"],
                    None if row["passed"] is None else ("合格" if row["passed"] else "不合格"),
                    row["review_failed_on"],
                    row["rectify_by"],
                ]
                for row in rows
            ),
        )
    )
    record_request_event(
        action="export",
        entity="campaign",
        summary=f"导出{year}年{campaign_type}台账 {len(rows)} 条",
    )
    session.commit()
    return Response(
        data,
        mimetype=spreadsheet.MIMETYPE,
        headers={"Content-Disposition": f'attachment; filename="campaigns-{year}.xlsx"'},
    )

"""The audit log page's SQL: the entries a filter selects, newest first."""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy import Select, select

from webapp.models import AuditEntry

ACTIONS = {
    "create": "新增",
    "update": "修改",
    "delete": "删除",
    "import": "导入",
    "export": "导出",
    "reveal": "查看个人信息",
    "login": "登录",
    "login_failed": "登录失败",
    "logout": "退出",
    "password_change": "修改密码",
    "password_reset": "重置密码",
    "role_change": "修改角色",
    "account_create": "新建账号",
    "unlock": "解锁",
    "deactivate": "停用账号",
    "activate": "启用账号",
    "totp_enable": "启用双因素",
    "totp_reset": "重置双因素",
    "recovery_code": "使用恢复码",
}
# Kinds of record that are not map entities; the entities' own kinds are named at app set-up.
KINDS = {
    "account": "账号",
    "api_token": "API 令牌",
    "staff": "工作人员",
    "patrol_route": "巡逻路线",
    "audit_log": "审计日志",
    "hotline_client": "热线接口账号",
    "subdistrict": "街道",  # boundary imports (webapp/boundaries)
    "community": "社区",
    "boundary_generation": "划分代次",
    "report": "报表",
    "map_print": "打印地图",
}
OUTCOMES = ("success", "failure", "denied", "locked")
PAGE_SIZE = 50
EXPORT_LIMIT = 100_000


def filtered(args: Mapping[str, str], kinds: Mapping[str, str]) -> Select:
    """The entries the filters in ``args`` (a query string) select, newest first; a filter
    with an unknown value is ignored."""
    stmt = select(AuditEntry)
    if args.get("entity") in kinds:
        stmt = stmt.where(AuditEntry.entity == args["entity"])
    if args.get("action") in ACTIONS:
        stmt = stmt.where(AuditEntry.action == args["action"])
    if args.get("outcome") in OUTCOMES:
        stmt = stmt.where(AuditEntry.outcome == args["outcome"])
    if args.get("user"):
        stmt = stmt.where(AuditEntry.username == args["user"][:50])
    if args.get("entity_id", "").isdigit():
        stmt = stmt.where(AuditEntry.entity_id == int(args["entity_id"]))
    for name, op in (("since", "__ge__"), ("until", "__le__")):
        value = args.get(name, "")
        if len(value) == 10 and value[4] == "-" and value[7] == "-":
            bound = value if name == "since" else f"{value} 23:59:59.999999"
            stmt = stmt.where(getattr(AuditEntry.at, op)(bound))
    return stmt.order_by(AuditEntry.id.desc())


def page_of(session, stmt: Select, page: int) -> tuple[list[AuditEntry], bool]:
    """One page of ``stmt``'s entries, and whether more follow."""
    entries = (
        session.execute(stmt.limit(PAGE_SIZE + 1).offset((page - 1) * PAGE_SIZE)).scalars().all()
    )
    return entries[:PAGE_SIZE], len(entries) > PAGE_SIZE


def for_export(session, stmt: Select):
    """The entries of ``stmt`` for a CSV export, streamed, at most EXPORT_LIMIT."""
    return session.execute(stmt.limit(EXPORT_LIMIT)).scalars()

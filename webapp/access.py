"""Who may read and write what: the one place that answers it, for views, queries and templates.

Every login holds one role (``UserRole``). An action is allowed to a role with a scope:

- 指挥中心 (``center``) everywhere;
- 社区 (``community``) inside their community;
- 网格员 (``grid``) inside their grid, or their grid's community for the community's shared
  work (平安创建, patrol routes);
- 巡防规划 (``planner``) plan patrols and read everything, write no map data;
- the three duty roles of 三权分立 (``admin`` 系统管理员: accounts; ``secadmin`` 安全管理员:
  roles and areas; ``auditor`` 审计管理员: the audit log) run the system and edit no business
  data; no account holds two of them.

``RULES`` is that table; everything else here reads it. Views ask ``allowed`` (may the role do
this at all) and ``may`` (here, in this community or grid) and raise ``Forbidden``; queries take
``rows``, a WHERE clause of the rows in scope; templates ask ``can``/``may``. Hiding a control is
a courtesy: the views check every request. ``matrix`` prints the table for SECURITY.md.
"""

from __future__ import annotations

from collections.abc import Iterator
from enum import StrEnum
from typing import TYPE_CHECKING

from sqlalchemy import ColumnElement, and_, false, true

from gis.errors import UserError
from webapp.domain.choices import DUTY_ROLES, UserRole

if TYPE_CHECKING:
    from flask import Flask

    from webapp.entities.registry import Entity

# The roles the security administrator may give, in the order the account page lists them.
BUSINESS_ROLES = tuple(r for r in UserRole if r not in DUTY_ROLES)


class Forbidden(UserError):
    """A refusal by role or area, answered with a 403 (webapp.errors)."""

    status = 403


class Scope(StrEnum):
    """Where a role may do an action; the value is how SECURITY.md shows it."""

    ALL = "全部"
    COMMUNITY = "本社区"
    GRID = "本网格"
    NONE = "—"


class Action(StrEnum):
    """What a user may be allowed to do; the value is the name templates use."""

    READ_MAP = "read_map"
    WRITE_AREA_DATA = "write_area_data"
    WRITE_GRIDS = "write_grids"
    WRITE_BOUNDARIES = "write_boundaries"
    WRITE_SUBDISTRICT_DATA = "write_subdistrict_data"
    EXPORT_DATA = "export_data"
    EXPORT_UNZONED_DATA = "export_unzoned_data"
    REVEAL_PERSONAL = "reveal_personal"
    EXPORT_PERSONAL = "export_personal"
    WRITE_CAMPAIGNS = "write_campaigns"
    READ_CAMPAIGN_ATTACHMENTS = "read_campaign_attachments"
    EDIT_CHECKLISTS = "edit_checklists"
    RATE_PROPERTY = "rate_property"
    PLAN_PATROL = "plan_patrol"
    READ_PATROL_ROUTES = "read_patrol_routes"
    OPEN_ACCOUNTS = "open_accounts"
    MANAGE_ACCOUNTS = "manage_accounts"
    GIVE_ROLES = "give_roles"
    READ_AUDIT_LOG = "read_audit_log"
    READ_REGISTER = "read_register"
    WRITE_REGISTER = "write_register"
    READ_SPECIAL_GROUPS = "read_special_groups"
    RECORD_VISITS = "record_visits"
    SET_VISIT_FREQUENCY = "set_visit_frequency"
    USE_API_TOKENS = "use_api_tokens"
    READ_EVENTS = "read_events"
    REPORT_EVENTS = "report_events"
    DISPATCH_EVENTS = "dispatch_events"
    HANDLE_EVENTS = "handle_events"
    VERIFY_EVENTS = "verify_events"
    CLOSE_EVENTS = "close_events"
    EDIT_EVENT_CATEGORIES = "edit_event_categories"
    MANAGE_HOTLINE_CLIENTS = "manage_hotline_clients"
    RECORD_WALKS = "record_walks"
    READ_WALKS = "read_walks"
    READ_STANDARDS = "read_standards"
    WRITE_STANDARDS = "write_standards"
    MAKE_REPORTS = "make_reports"

    @property
    def label(self) -> str:
        return ACTION_LABELS[self]


ACTION_LABELS = {
    Action.READ_MAP: "查看地图、图层、管理列表与详情",
    Action.WRITE_AREA_DATA: "新增、修改、删除、导入小区、楼栋、监控、警务室、设施、场所、工作人员",
    Action.WRITE_GRIDS: "新增、修改、删除、导入网格",
    Action.WRITE_BOUNDARIES: "导入街道、社区边界",
    Action.WRITE_SUBDISTRICT_DATA: "新增、修改、删除、导入不按区域划分的数据(道路)",
    Action.EXPORT_DATA: "导出按区域划分的数据(不含个人信息)",
    Action.EXPORT_UNZONED_DATA: "导出不按区域划分的数据(道路)",
    Action.REVEAL_PERSONAL: (
        "查看完整的个人信息(工作人员、场所联系人的电话,实有人口的姓名、证件号码、电话)"
    ),
    Action.EXPORT_PERSONAL: "导出含个人信息的数据",
    Action.WRITE_CAMPAIGNS: "平安创建:申报、流转、检查、上传附件",
    Action.READ_CAMPAIGN_ATTACHMENTS: "平安创建:查看检查附件",
    Action.EDIT_CHECKLISTS: "平安创建:维护检查标准",
    Action.RATE_PROPERTY: "红色物业:评分、整改通知",
    Action.PLAN_PATROL: "巡防:规划、保存、修改巡逻路线",
    Action.READ_PATROL_ROUTES: "巡防:查看巡逻队伍与路线",
    Action.OPEN_ACCOUNTS: "账号管理页面",
    Action.MANAGE_ACCOUNTS: "账号:新建、解锁、停用、启用、重置密码、强制下线",
    Action.GIVE_ROLES: "账号:授予业务角色与区域、重置双因素",
    Action.READ_AUDIT_LOG: "查看、导出审计日志",
    Action.READ_REGISTER: "一标三实:查看房屋、住户、实有人口(姓名、证件号码脱敏)与采集进度",
    Action.WRITE_REGISTER: "一标三实:登记、修改房屋、住户、实有人口,办理迁入迁出",
    Action.READ_SPECIAL_GROUPS: "特殊人群、重点人员与关爱对象:查看类别与走访记录(每次查看记入审计)",
    Action.RECORD_VISITS: "走访:记录走访(位置核验、照片)",
    Action.SET_VISIT_FREQUENCY: "走访:维护各类人员的走访频次",
    Action.USE_API_TOKENS: "个人 API 令牌:桌面 GIS 经 OGC API 读取图层(按本人范围)",
    Action.READ_EVENTS: "网格事件:查看事件、工作队列与统计",
    Action.REPORT_EVENTS: "网格事件:上报",
    Action.DISPATCH_EVENTS: "网格事件:受理、退回、不予受理、派遣",
    Action.HANDLE_EVENTS: "网格事件:处置、上报上级(须为当前承办方)",
    Action.VERIFY_EVENTS: "网格事件:核查、返工",
    Action.CLOSE_EVENTS: "网格事件:结案、督办",
    Action.EDIT_EVENT_CATEGORIES: "网格事件:维护分类、时限与职能部门",
    Action.MANAGE_HOTLINE_CLIENTS: "12345热线接口:新建、停用接口账号,重置令牌",
    Action.RECORD_WALKS: "巡查打卡:记录本人的巡查轨迹与打卡",
    Action.READ_WALKS: "巡查打卡:查看巡查轨迹、打卡与每日巡查时长(网格员仅本人)",
    Action.READ_STANDARDS: "社区建设标准:查看各项标准的达标情况",
    Action.WRITE_STANDARDS: "社区建设标准:维护居民小组、志愿者与实设党组织类型",
    Action.MAKE_REPORTS: "报表:生成、下载月报与季报(社区或全街道)",
}

_EVERY_ROLE = dict.fromkeys(UserRole, Scope.ALL)
_CENTER = {UserRole.CENTER: Scope.ALL}
_AREA_STAFF = {**_CENTER, UserRole.COMMUNITY: Scope.COMMUNITY, UserRole.GRID: Scope.GRID}

# Action → the roles that may do it and where; a role not named may not.
RULES: dict[Action, dict[UserRole, Scope]] = {
    Action.READ_MAP: _EVERY_ROLE,
    Action.WRITE_AREA_DATA: {
        **_CENTER,
        UserRole.COMMUNITY: Scope.COMMUNITY,
        UserRole.GRID: Scope.GRID,
    },
    Action.WRITE_GRIDS: {**_CENTER, UserRole.COMMUNITY: Scope.COMMUNITY},
    Action.WRITE_BOUNDARIES: _CENTER,
    Action.WRITE_SUBDISTRICT_DATA: _CENTER,
    # Planners read the whole subdistrict. The duty roles administer the system and take no
    # business data out of it (三权分立), personal or not.
    Action.EXPORT_DATA: {
        **_CENTER,
        UserRole.PLANNER: Scope.ALL,
        UserRole.COMMUNITY: Scope.COMMUNITY,
        UserRole.GRID: Scope.GRID,
    },
    Action.EXPORT_UNZONED_DATA: _CENTER,
    # Those who look after the people of an area, and so may call them.
    Action.REVEAL_PERSONAL: {
        **_CENTER,
        UserRole.COMMUNITY: Scope.COMMUNITY,
        UserRole.GRID: Scope.GRID,
    },
    Action.EXPORT_PERSONAL: {
        **_CENTER,
        UserRole.COMMUNITY: Scope.COMMUNITY,
        UserRole.GRID: Scope.GRID,
    },
    # Like every other write, a grid worker's 平安创建 work keeps to their grid (features in it;
    # the campaigns of a whole community are its staff's); they read their community's.
    Action.WRITE_CAMPAIGNS: {
        **_CENTER,
        UserRole.COMMUNITY: Scope.COMMUNITY,
        UserRole.GRID: Scope.GRID,
    },
    Action.READ_CAMPAIGN_ATTACHMENTS: {
        **_CENTER,
        UserRole.COMMUNITY: Scope.COMMUNITY,
        UserRole.GRID: Scope.COMMUNITY,
        UserRole.PLANNER: Scope.ALL,
    },
    Action.EDIT_CHECKLISTS: _CENTER,
    Action.RATE_PROPERTY: {**_CENTER, UserRole.COMMUNITY: Scope.COMMUNITY},
    Action.PLAN_PATROL: {
        **_CENTER,
        UserRole.PLANNER: Scope.ALL,
        UserRole.COMMUNITY: Scope.COMMUNITY,
    },
    Action.READ_PATROL_ROUTES: {
        **_EVERY_ROLE,
        UserRole.COMMUNITY: Scope.COMMUNITY,
        UserRole.GRID: Scope.COMMUNITY,
    },
    Action.OPEN_ACCOUNTS: {UserRole.ADMIN: Scope.ALL, UserRole.SECADMIN: Scope.ALL},
    Action.MANAGE_ACCOUNTS: {UserRole.ADMIN: Scope.ALL},
    Action.GIVE_ROLES: {UserRole.SECADMIN: Scope.ALL},
    Action.READ_AUDIT_LOG: {UserRole.AUDITOR: Scope.ALL},
    # 一标三实: residents' records are kept by those who look after the area; planners plan
    # patrols and need no one's household, the duty roles see none of it.
    Action.READ_REGISTER: _AREA_STAFF,
    Action.WRITE_REGISTER: _AREA_STAFF,
    # 特殊人群 records: only the roles that work with them (the grid's own worker, community
    # leadership, the center); every view is audited.
    Action.READ_SPECIAL_GROUPS: _AREA_STAFF,
    Action.RECORD_VISITS: _AREA_STAFF,
    Action.SET_VISIT_FREQUENCY: _CENTER,
    # A token reads what its owner reads, outside the browser: the duty roles take no business
    # data out of the system (三权分立).
    Action.USE_API_TOKENS: {
        **_CENTER,
        UserRole.PLANNER: Scope.ALL,
        UserRole.COMMUNITY: Scope.COMMUNITY,
        UserRole.GRID: Scope.GRID,
    },
    # 网格事件, by 属地 (the community and grid the event's point lies in). Events carry
    # parties' personal data, so planners and the duty roles see none. The community accepts
    # and dispatches its own (小事不出社区); only the center closes and supervises.
    Action.READ_EVENTS: _AREA_STAFF,
    Action.REPORT_EVENTS: _AREA_STAFF,
    Action.DISPATCH_EVENTS: {**_CENTER, UserRole.COMMUNITY: Scope.COMMUNITY},
    Action.HANDLE_EVENTS: _AREA_STAFF,
    Action.VERIFY_EVENTS: _AREA_STAFF,
    Action.CLOSE_EVENTS: _CENTER,
    Action.EDIT_EVENT_CATEGORIES: _CENTER,
    # Which outside systems may push tickets in: the center's call, like the categories.
    Action.MANAGE_HOTLINE_CLIENTS: _CENTER,
    # 巡查打卡: a grid worker walks their own grid. A track says where a person was and when,
    # so it is read by the worker (their own walks only: see ``own_rows``), their community's
    # staff and the center, and by no planner or duty role.
    Action.RECORD_WALKS: {UserRole.GRID: Scope.GRID},
    Action.READ_WALKS: {
        **_CENTER,
        UserRole.COMMUNITY: Scope.COMMUNITY,
        UserRole.GRID: Scope.GRID,
    },
    # 社区建设标准 are figures of a whole community: its staff and the center read and keep them.
    Action.READ_STANDARDS: {**_CENTER, UserRole.COMMUNITY: Scope.COMMUNITY},
    Action.WRITE_STANDARDS: {**_CENTER, UserRole.COMMUNITY: Scope.COMMUNITY},
    # 报表 sum up a community's (or the subdistrict's) events and visits: those who answer for
    # the area make them; a grid is too small a unit for a monthly report.
    Action.MAKE_REPORTS: {**_CENTER, UserRole.COMMUNITY: Scope.COMMUNITY},
}

# Actions whose grid scope is narrower still: a grid worker's own rows (their own walks), not
# every row of their grid.
OWN_ROWS_ONLY = {Action.READ_WALKS}


# ---- the questions ------------------------------------------------------------------------


def role_of(user) -> UserRole | None:
    """The user's role, None for a visitor who is not logged in."""
    role = getattr(user, "role", None)
    if role is None or not getattr(user, "is_authenticated", True):
        return None
    return UserRole(role)


def scope(user, action: Action) -> Scope:
    role = role_of(user)
    return RULES[action].get(role, Scope.NONE) if role else Scope.NONE


def allowed(user, action: Action) -> bool:
    """Whether the user may do ``action`` at all (somewhere)."""
    match scope(user, action):
        case Scope.ALL:
            return True
        case Scope.COMMUNITY:
            return user.community_id is not None
        case Scope.GRID:
            return user.grid_id is not None
    return False


def may(user, action: Action, *, community_id: int | None, grid_id: int | None = None) -> bool:
    """Whether the user may do ``action`` to something in this community (and grid)."""
    match scope(user, action):
        case Scope.ALL:
            return True
        case Scope.COMMUNITY:
            return user.community_id is not None and community_id == user.community_id
        case Scope.GRID:
            return user.grid_id is not None and grid_id == user.grid_id
    return False


def require(user, action: Action, message: str | None = None) -> None:
    """Raise Forbidden unless the user may do ``action`` somewhere."""
    if not allowed(user, action):
        raise Forbidden(message or refusal(action))


def refusal(action: Action) -> str:
    """The plain refusal of an action: who may do it (三权分立 for the duty roles' own work)."""
    roles = [role for role in UserRole if role in RULES[action]]
    text = f"此操作仅{'、'.join(role.label for role in roles)}可以执行"
    return text + ("(三权分立)。" if set(roles) <= DUTY_ROLES else "。")


def rows(user, action: Action, community_column, grid_column=None) -> ColumnElement[bool]:
    """A WHERE clause keeping the rows (by their community and grid columns) in the user's
    scope for ``action``; a column that is None matches nothing."""
    match scope(user, action):
        case Scope.ALL:
            return true()
        case Scope.COMMUNITY if community_column is not None:
            return community_column == user.community_id
        case Scope.GRID if grid_column is not None:
            return grid_column == user.grid_id
    return false()


def rows_sql(
    user, action: Action, community_column: str | None, grid_column: str | None = None
) -> tuple[str, dict]:
    """``rows`` for a query written as SQL text: the condition over the named columns and its
    parameters (``:scope_community``, ``:scope_grid``)."""
    match scope(user, action):
        case Scope.ALL:
            return "TRUE", {}
        case Scope.COMMUNITY if community_column is not None and user.community_id is not None:
            return f"{community_column} = :scope_community", {"scope_community": user.community_id}
        case Scope.GRID if grid_column is not None and user.grid_id is not None:
            return f"{grid_column} = :scope_grid", {"scope_grid": user.grid_id}
    return "FALSE", {}


def own_rows(
    user, action: Action, community_column, grid_column, owner_column
) -> ColumnElement[bool]:
    """``rows`` for an action in OWN_ROWS_ONLY: a grid-scoped role sees only the rows whose
    ``owner_column`` (a user id) is theirs."""
    where = rows(user, action, community_column, grid_column)
    if action in OWN_ROWS_ONLY and scope(user, action) is Scope.GRID:
        return and_(where, owner_column == user.id)
    return where


def may_own(
    user, action: Action, *, community_id: int | None, grid_id: int | None, owner_id: int | None
) -> bool:
    """``may`` for a row owned by a user (a walk): a grid-scoped role only for its own rows of
    an action in OWN_ROWS_ONLY."""
    if not may(user, action, community_id=community_id, grid_id=grid_id):
        return False
    if action in OWN_ROWS_ONLY and scope(user, action) is Scope.GRID:
        return owner_id == user.id
    return True


def home_area(user) -> tuple[str, int] | None:
    """The layer and id of the area the user looks after (highlighted on their map)."""
    role = role_of(user)
    if role is UserRole.GRID and user.grid_id:
        return "grid", user.grid_id
    if role is UserRole.COMMUNITY and user.community_id:
        return "community", user.community_id
    return None


def starts_in_grid(user) -> bool:
    """Whether the user's lists start filtered to their grid (not only their community)."""
    return role_of(user) is UserRole.GRID


# ---- map entities -------------------------------------------------------------------------

_WRITE_ACTIONS = {
    "area": Action.WRITE_AREA_DATA,
    "community": Action.WRITE_GRIDS,
    "center": Action.WRITE_SUBDISTRICT_DATA,
    "standards": Action.WRITE_STANDARDS,
}


def write_action(entity: Entity) -> Action:
    return _WRITE_ACTIONS[entity.write]


def _columns(entity: Entity) -> tuple:
    return tuple(getattr(entity.model, c) if c else None for c in entity.area_columns)


def may_write_kind(user, entity: Entity) -> bool:
    """Whether the user's role may write this kind of entity at all."""
    return allowed(user, write_action(entity))


def writable_rows(user, entity: Entity) -> ColumnElement[bool]:
    """A WHERE clause selecting the rows of ``entity`` this user may change."""
    if not may_write_kind(user, entity):
        return false()
    return rows(user, write_action(entity), *_columns(entity))


def check_row(user, entity: Entity, obj) -> None:
    """Refuse a row (as saved, after the flush that placed it) outside the user's area."""
    if not may_write_kind(user, entity):
        raise Forbidden(f"您的账号无权修改{entity.label}数据。")
    community_column, grid_column = entity.area_columns
    community_id = getattr(obj, community_column) if community_column else None
    grid_id = getattr(obj, grid_column) if grid_column else None
    match scope(user, write_action(entity)):
        case Scope.COMMUNITY if community_id != user.community_id:
            raise Forbidden(
                f"只能维护本社区({user.community_name})的{entity.label},该位置不在本社区内。"
            )
        case Scope.GRID if grid_id != user.grid_id:
            raise Forbidden(
                f"只能维护本网格({user.grid_name})的{entity.label},该位置不在本网格内。"
            )


def exportable_rows(user, entity: Entity) -> ColumnElement[bool]:
    """A WHERE clause keeping an export to the user's area, whatever the list filter says.

    Entities with personal data only those who may see it whole export (each for their area);
    entities that belong to no area (roads) only the center.
    """
    if not allowed(user, Action.EXPORT_DATA):
        raise Forbidden("您的账号不导出业务数据(三权分立:系统、安全、审计管理员不接触业务数据)。")
    if entity.personal_fields and not allowed(user, Action.EXPORT_PERSONAL):
        raise Forbidden(f"{entity.label}数据含个人信息,您的账号无权导出。")
    community_column, grid_column = _columns(entity)
    if community_column is None:
        if not allowed(user, Action.EXPORT_UNZONED_DATA):
            raise Forbidden(f"{entity.label}数据不按社区、网格划分,仅指挥中心可以导出。")
        return true()
    return rows(user, Action.EXPORT_DATA, community_column, grid_column)


# ---- templates and the document -----------------------------------------------------------


def init_app(app: Flask) -> None:
    """Templates ask ``can("manage_accounts")`` or ``may("rate_property", community_id)``."""
    from flask_login import current_user

    @app.template_global("can")
    def _can(action: str) -> bool:
        return allowed(current_user, Action(action))

    @app.template_global("may")
    def _may(action: str, community_id=None, grid_id=None) -> bool:
        return may(current_user, Action(action), community_id=community_id, grid_id=grid_id)


MATRIX_ROLES = (
    UserRole.CENTER,
    UserRole.COMMUNITY,
    UserRole.GRID,
    UserRole.PLANNER,
    UserRole.ADMIN,
    UserRole.SECADMIN,
    UserRole.AUDITOR,
)


def matrix() -> Iterator[tuple[Action, dict[UserRole, Scope]]]:
    """Each action with every role's scope (Scope.NONE where the role may not)."""
    for action, by_role in RULES.items():
        yield action, {role: by_role.get(role, Scope.NONE) for role in MATRIX_ROLES}


def matrix_markdown() -> str:
    """The role × action table of SECURITY.md, one row per action."""
    header = ["action", *(f"{role.label} `{role.value}`" for role in MATRIX_ROLES)]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for action, by_role in matrix():
        cells = [f"{action.label} `{action.value}`", *by_role.values()]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"

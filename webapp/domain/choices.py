"""Closed lists of values, stored as their Chinese labels (what users see and import)."""

from enum import StrEnum


class Enclosure(StrEnum):
    """住宅小区 security model by enclosure."""

    CLOSED = "封闭式"
    SEMI_CLOSED = "半封闭式"
    OPEN = "开放式"


class CameraKind(StrEnum):
    BULLET = "枪机"
    DOME = "球机"
    HALF_DOME = "半球"
    FACE_CHECKPOINT = "人脸卡口"
    VEHICLE_CHECKPOINT = "车辆卡口"
    MICRO_CHECKPOINT = "微卡口"
    OTHER = "其他"


class CameraState(StrEnum):
    ONLINE = "在线"
    OFFLINE = "离线"
    FAULTY = "故障"


class CameraOwner(StrEnum):
    COMPOUND = "小区"
    UNIT = "单位"
    PUBLIC = "公共"
    RESIDENT = "居民"


class MaintenanceKind(StrEnum):
    INSPECTION = "巡检"
    REPAIR = "维修"
    REPLACEMENT = "更换"
    RELOCATION = "移位"


class PlaceKind(StrEnum):
    """Places that 平安创建 campaigns target."""

    SCHOOL = "学校"
    CONSTRUCTION_SITE = "工地"
    MARKET = "市场商场"
    STATION = "车站"
    SCENIC_AREA = "景区"
    WORK_UNIT = "单位"


class RoadClass(StrEnum):
    EXPRESSWAY = "快速路"
    ARTERIAL = "主干路"
    SECONDARY = "次干路"
    BRANCH = "支路"
    FOOTPATH = "步行道"


class StaffRole(StrEnum):
    GRID_LEADER = "网格长"
    GRID_WORKER = "网格员"
    BUILDING_HEAD = "楼栋长"
    COMMUNITY_WORKER = "社区工作者"  # 专职社区工作者
    PARTY_WORKER = "党务工作者"  # 专职党务工作者, one of the 专职社区工作者
    COMMUNITY_SECRETARY = "社区书记"
    POLICE_OFFICER = "社区民警"
    POLICE_ASSISTANT = "警务助理"
    PROPERTY_MANAGER = "物业经理"
    PARTY_SECRETARY = "党支部书记"
    VOLUNTEER = "志愿者"


class UserRole(StrEnum):
    """Login roles; the value is the code, ``label`` the Chinese name."""

    ADMIN = "admin"  # 系统管理员: accounts and configuration
    SECADMIN = "secadmin"  # 安全管理员: roles and permissions
    AUDITOR = "auditor"  # 审计管理员: reads the audit log
    CENTER = "center"
    COMMUNITY = "community"
    GRID = "grid"
    PLANNER = "planner"

    @property
    def label(self) -> str:
        return USER_ROLE_LABELS[self]


USER_ROLE_LABELS = {
    UserRole.ADMIN: "系统管理员",
    UserRole.SECADMIN: "安全管理员",
    UserRole.AUDITOR: "审计管理员",
    UserRole.CENTER: "综治中心工作人员",
    UserRole.COMMUNITY: "社区工作人员",
    UserRole.GRID: "网格员",
    UserRole.PLANNER: "巡防规划员",
}


class PatrolMode(StrEnum):
    WALK = "步行"
    VEHICLE = "车巡"


class PatrolTeamKind(StrEnum):
    POLICE = "社区民警"
    ASSISTANT = "警务助理"
    VOLUNTEER = "义务巡逻队"
    SECURITY = "保安巡逻队"


# 三权分立: the three duty roles of 等保 2.0; no account holds two, none edits business data.
DUTY_ROLES = frozenset({UserRole.ADMIN, UserRole.SECADMIN, UserRole.AUDITOR})


class CheckinTarget(StrEnum):
    """What a grid worker may check in at on a walk (巡查打卡点位)."""

    CAMERA = "监控"
    POLICE_ROOM = "警务室"
    PLACE = "重点场所"
    COMPOUND = "小区"
    FACILITY = "服务设施"


class PartyOrgType(StrEnum):
    """社区党组织 as set up (实设), which its membership may have outgrown."""

    COMMITTEE = "党委"
    GENERAL_BRANCH = "党总支"
    BRANCH = "党支部"


class VolunteerService(StrEnum):
    """What a registered volunteer (注册志愿者) serves in, after the plans' list."""

    PATROL = "治安巡逻"
    ELDERLY = "助老助残"
    ENVIRONMENT = "环境整治"
    CULTURE = "文体活动"
    MEDIATION = "矛盾调解"
    HEALTH = "医疗保健"
    LAW = "法律服务"
    OTHER = "其他"

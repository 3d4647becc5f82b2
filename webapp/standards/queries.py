"""Each community's figures against the standards (webapp.domain.standards_sql), judged by the
rules of webapp.domain.standards, for the communities a user may read."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy import text
from sqlalchemy.orm import Session

from webapp import access
from webapp.access import Action
from webapp.domain import standards as rules
from webapp.domain.standards_sql import figures_sql


@dataclass(frozen=True)
class Cell:
    standard: rules.Standard
    value: Decimal | int | None
    colour: rules.Colour
    figure: str  # the figure as the page shows it
    short: str  # the same in a few characters


@dataclass(frozen=True)
class CommunityStandards:
    id: int
    name: str
    raw: dict
    cells: list[Cell]

    @property
    def met(self) -> int:
        return sum(cell.colour is rules.Colour.GREEN for cell in self.cells)

    @property
    def share(self) -> float:
        return rules.share_met(cell.colour for cell in self.cells)


def _pct(value) -> str:
    return f"{float(value) * 100:.1f}%"


def _m2(value) -> str:
    return "未录入面积" if value is None else f"{float(value):,.0f} m²"


def figure_text(key: str, r: dict) -> str:
    """The figure of standard ``key`` for the raw figures ``r``, in the page's words."""
    match key:
        case "scale":
            return f"{r['households']:,} 户"
        case "resident_groups":
            if not r["groups"]:
                return "未设居民小组"
            return (
                f"{r['groups']} 个小组,{r['groups_in_band']} 个在 100–200 户"
                f"(共 {r['group_households']:,} 户)"
            )
        case "building_heads":
            if not r["heads"]:
                return "无楼栋长"
            return f"{r['heads']} 名楼栋长,每名 {r['households'] / r['heads']:.1f} 户"
        case "party_org":
            set_up = r["party_org_set"] or "未录入"
            return f"党员 {r['party_members']} 名,应设{r['party_org_type']},实设{set_up}"
        case "service_station":
            need = rules.station_required_m2(r["residents"])
            if not r["stations"]:
                return f"无社区服务站(应 ≥ {need} m²)"
            return f"{_m2(r['station_m2'])}(常住 {r['residents']:,} 人,应 ≥ {need} m²)"
        case "party_center":
            if not r["centers"]:
                return "无党群服务中心"
            return _m2(r["center_m2"])
        case "workers":
            return f"{r['workers']} 名"
        case "party_worker":
            return f"{r['party_workers']} 名"
        case "worker_ratio":
            if not r["workers"]:
                return "无专职工作者"
            return f"每名 {r['households'] / r['workers']:.0f} 户"
        case "volunteers":
            if not r["residents"]:
                return f"{r['volunteers']:,} 名(未录入常住人口)"
            return f"{r['volunteers']:,} 名,占 {_pct(r['volunteers'] / r['residents'])}"
        case "social_organisations":
            return f"{r['social_organisations']} 个"
        case "police_room":
            if not r["police_rooms"]:
                return "无警务室"
            staffed = "民警、警务助理齐备" if r["police_staffed"] else "缺社区民警或警务助理"
            return f"{r['police_rooms']} 个,{staffed}"
        case "property_rooms":
            if not r["compounds_recorded"]:
                return f"{r['compounds']} 个小区均未录入面积"
            unrecorded = r["compounds"] - r["compounds_recorded"]
            tail = f",{unrecorded} 个未录入" if unrecorded else ""
            return f"{r['compounds_met']}/{r['compounds_recorded']} 个小区达标{tail}"
        case "cameras":
            if not r["cameras"]:
                return "无小区、单位探头"
            return (
                f"{r['cameras_connected']}/{r['cameras']} 已接入"
                f"({_pct(r['cameras_connected'] / r['cameras'])})"
            )
    raise KeyError(key)


def figure_short(key: str, r: dict) -> str:
    """The figure of standard ``key`` in a few characters, for the table of all communities."""
    match key:
        case "scale":
            return f"{r['households']:,} 户"
        case "resident_groups":
            return f"{r['groups_in_band']}/{r['groups']} 组" if r["groups"] else "无"
        case "building_heads":
            return f"{r['households'] / r['heads']:.1f} 户/人" if r["heads"] else "无"
        case "party_org":
            if r["party_org_set"] in (None, r["party_org_type"]):
                return r["party_org_set"] or f"应设{r['party_org_type']}"
            return f"{r['party_org_set']}→{r['party_org_type']}"
        case "service_station":
            return _m2(r["station_m2"]) if r["stations"] else "无"
        case "party_center":
            return _m2(r["center_m2"]) if r["centers"] else "无"
        case "workers" | "party_worker" | "social_organisations":
            unit = "个" if key == "social_organisations" else "名"
            return (
                f"{r[{'workers': 'workers', 'party_worker': 'party_workers'}.get(key, key)]} {unit}"
            )
        case "worker_ratio":
            return f"{r['households'] / r['workers']:.0f} 户/人" if r["workers"] else "无"
        case "volunteers":
            return _pct(r["volunteers"] / r["residents"]) if r["residents"] else "—"
        case "police_room":
            if not r["police_rooms"]:
                return "无"
            return "齐备" if r["police_staffed"] else "缺人"
        case "property_rooms":
            if not r["compounds_recorded"]:
                return "未录入"
            return f"{r['compounds_met']}/{r['compounds_recorded']}"
        case "cameras":
            return _pct(r["cameras_connected"] / r["cameras"]) if r["cameras"] else "无"
    raise KeyError(key)


def community_standards(
    session: Session, user, today: date, deadline: date, community_id: int | None = None
) -> list[CommunityStandards]:
    """The communities ``user`` may read (or the one asked for, if they may), by code."""
    where, params = access.rows_sql(user, Action.READ_STANDARDS, "c.id")
    if community_id is not None:
        where += " AND c.id = :community_id"
        params["community_id"] = community_id
    standards = rules.standards_on(today, deadline)
    result = []
    for row in session.execute(text(figures_sql(where)), params).mappings():
        raw = {k: v for k, v in row.items() if not k.startswith("v_")}
        cells = [
            Cell(
                s,
                row[f"v_{s.key}"],
                s.band.colour(row[f"v_{s.key}"]),
                figure_text(s.key, raw),
                figure_short(s.key, raw),
            )
            for s in standards
        ]
        result.append(CommunityStandards(row["id"], row["name"], raw, cells))
    return result

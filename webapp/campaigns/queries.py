"""Campaign data: checklists per type and year, a feature's campaigns, the campaign map, and
the dashboard's counts (plain SQL, so a test can compare them with direct counts)."""

from __future__ import annotations

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from webapp.domain.campaigns import DEFAULT_CHECKLISTS, TARGETS, CampaignType, State
from webapp.models.campaigns import Campaign, ChecklistItem

FEATURE_SQL = {
    "building": "SELECT name, community_id, grid_id, NULL::text AS kind FROM building"
    " WHERE id = :id",
    "compound": "SELECT name, community_id, grid_id, NULL::text AS kind FROM compound"
    " WHERE id = :id",
    "place": "SELECT name, community_id, grid_id, kind FROM place WHERE id = :id",
    "community": (
        "SELECT name, id AS community_id, NULL::int AS grid_id, NULL::text AS kind"
        " FROM community WHERE id = :id"
    ),
}


def feature(session: Session, layer: str, feature_id: int):
    """(name, community_id, grid_id, place kind) of a campaign target, or None; a community
    lies in no grid."""
    if layer not in FEATURE_SQL:
        return None
    return session.execute(text(FEATURE_SQL[layer]), {"id": feature_id}).one_or_none()


def types_for(layer: str, place_kind: str | None) -> list[CampaignType]:
    """The campaign types that apply to a feature of this kind."""
    return [t for t, (lyr, kind) in TARGETS.items() if lyr == layer and kind in (None, place_kind)]


def checklist(session: Session, campaign_type: str, year: int) -> list[ChecklistItem]:
    """The criteria of a type in a year; the first use of a year copies the latest earlier
    year's list (or the defaults), so editing this year's list leaves last year's alone."""
    items = _items(session, campaign_type, year)
    if items:
        return items
    earlier = session.execute(
        select(func.max(ChecklistItem.year)).where(
            ChecklistItem.campaign_type == campaign_type, ChecklistItem.year < year
        )
    ).scalar()
    texts = (
        [i.text for i in _items(session, campaign_type, earlier)]
        if earlier
        else list(DEFAULT_CHECKLISTS[CampaignType(campaign_type)])
    )
    for seq, body in enumerate(texts, start=1):
        session.add(ChecklistItem(campaign_type=campaign_type, year=year, seq=seq, text=body))
    session.flush()
    return _items(session, campaign_type, year)


def _items(session: Session, campaign_type: str, year: int | None) -> list[ChecklistItem]:
    return (
        session.execute(
            select(ChecklistItem)
            .where(ChecklistItem.campaign_type == campaign_type, ChecklistItem.year == year)
            .order_by(ChecklistItem.seq)
        )
        .scalars()
        .all()
    )


def campaigns_of(session: Session, layer: str, feature_id: int) -> list[Campaign]:
    return (
        session.execute(
            select(Campaign)
            .where(Campaign.layer == layer, Campaign.feature_id == feature_id)
            .order_by(Campaign.year.desc(), Campaign.campaign_type)
        )
        .scalars()
        .all()
    )


# The features a campaign type applies to (TARGETS), as (id, community_id, name, geom).
_ELIGIBLE = {
    "building": "SELECT id, community_id, name, geom FROM building",
    "compound": "SELECT id, community_id, name, geom FROM compound",
    "place": "SELECT id, community_id, name, geom FROM place WHERE kind = :place_kind",
    "community": "SELECT id, id AS community_id, name, geom FROM community",
}
GAP_STATE = "未申报"


def _eligible(campaign_type: str) -> tuple[str, str, dict]:
    """The layer, the SQL of the features a type applies to, and its parameters."""
    layer, place_kind = TARGETS[CampaignType(campaign_type)]
    return layer, _ELIGIBLE[layer], {"place_kind": place_kind.value if place_kind else None}


# The campaign map: each campaign's feature drawn with its state, and every eligible feature
# with no campaign of that type and year drawn as a gap (未申报).
MAP_SQL = """
SELECT json_build_object('type', 'FeatureCollection', 'features', coalesce(json_agg(
    json_build_object('type', 'Feature', 'id', q.id,
        'geometry', ST_AsGeoJSON(q.geom, 6)::json,
        'properties', json_build_object('kind', q.kind, 'state', q.state,
            'name', q.name, 'campaign_id', q.campaign_id))), '[]'))::text
FROM (
    SELECT c.id, 'campaign' AS kind, c.state, c.feature_name AS name, c.id AS campaign_id, g.geom
    FROM campaign c
    JOIN LATERAL (
        SELECT geom FROM building WHERE c.layer = 'building' AND id = c.feature_id
        UNION ALL SELECT geom FROM compound WHERE c.layer = 'compound' AND id = c.feature_id
        UNION ALL SELECT geom FROM place WHERE c.layer = 'place' AND id = c.feature_id
        UNION ALL SELECT geom FROM community WHERE c.layer = 'community' AND id = c.feature_id
    ) g ON true
    WHERE c.campaign_type = :type AND c.year = :year
    UNION ALL
    SELECT NULL, 'gap', :gap, e.name, NULL, e.geom FROM ({eligible}) e
    WHERE NOT EXISTS (SELECT FROM campaign c WHERE c.campaign_type = :type AND c.year = :year
                      AND c.layer = :layer AND c.feature_id = e.id)
) q
"""


def campaign_map(session: Session, campaign_type: str, year: int) -> str:
    layer, eligible, params = _eligible(campaign_type)
    return session.execute(
        text(MAP_SQL.format(eligible=eligible)),
        {"type": campaign_type, "year": year, "layer": layer, "gap": GAP_STATE, **params},
    ).scalar_one()


# Communities × states for one type and year, against every eligible feature: 申报率 =
# declared / eligible, 达标率 = (达标 + 命名) / eligible (one declared and passed compound out of
# twenty is 5 %, not 100 %).
DASHBOARD_SQL = """
SELECT cm.id, cm.name,
       (SELECT count(*) FROM ({eligible}) e WHERE e.community_id = cm.id) AS eligible,
       count(c.id) AS total,
       {states},
       count(c.id) FILTER (WHERE c.state IN ('达标', '命名')) AS passed
FROM community cm
LEFT JOIN campaign c ON c.community_id = cm.id AND c.campaign_type = :type AND c.year = :year
GROUP BY cm.id, cm.name ORDER BY cm.id
"""

STATES = [s.value for s in State]


def dashboard(session: Session, campaign_type: str, year: int) -> list[dict]:
    states = ", ".join(
        f"count(c.id) FILTER (WHERE c.state = '{s}') AS s{i}" for i, s in enumerate(STATES)
    )
    _layer, eligible, params = _eligible(campaign_type)
    rows = session.execute(
        text(DASHBOARD_SQL.format(states=states, eligible=eligible)),
        {"type": campaign_type, "year": year, **params},
    ).mappings()
    return [
        {
            "id": r["id"],
            "name": r["name"],
            "eligible": r["eligible"],
            "total": r["total"],
            "states": [r[f"s{i}"] for i in range(len(STATES))],
            "passed": r["passed"],
            "declared_rate": r["total"] / r["eligible"] if r["eligible"] else None,
            "rate": r["passed"] / r["eligible"] if r["eligible"] else None,
        }
        for r in rows
    ]


# Inspections due: campaigns being built or awaiting acceptance whose last inspection (or whose
# start) is older than DUE_DAYS; overdue past twice that.
DUE_DAYS = 90
DUE_SQL = """
SELECT c.id, c.campaign_type, c.year, c.feature_name, c.state,
       coalesce(max(i.inspected_on), min(e.at)::date) AS since,
       current_date - coalesce(max(i.inspected_on), min(e.at)::date) AS days
FROM campaign c
LEFT JOIN campaign_inspection i ON i.campaign_id = c.id
LEFT JOIN campaign_event e ON e.campaign_id = c.id
WHERE c.state IN ('创建中', '验收') AND c.campaign_type = :type AND c.year = :year
GROUP BY c.id
HAVING coalesce(max(i.inspected_on), min(e.at)::date) < current_date - :due
ORDER BY since
LIMIT 200
"""


def inspections_due(session: Session, campaign_type: str, year: int) -> list[dict]:
    """Campaigns of a type and year due an inspection, longest waiting first; ``overdue``
    past twice DUE_DAYS."""
    rows = (
        session.execute(text(DUE_SQL), {"due": DUE_DAYS, "type": campaign_type, "year": year})
        .mappings()
        .all()
    )
    return [{**r, "overdue": r["days"] > 2 * DUE_DAYS} for r in rows]


def checklist_in_use(session: Session, campaign_type: str, year: int) -> bool:
    return bool(
        session.execute(
            text(
                "SELECT EXISTS (SELECT 1 FROM campaign_inspection_result r"
                " JOIN campaign_checklist_item i ON i.id = r.item_id"
                " WHERE i.campaign_type = :type AND i.year = :year)"
            ),
            {"type": campaign_type, "year": year},
        ).scalar()
    )


def replace_checklist(session: Session, campaign_type: str, year: int, texts: list[str]) -> None:
    """A year's new list of criteria (only while no inspection uses the old one)."""
    session.execute(
        text("DELETE FROM campaign_checklist_item WHERE campaign_type = :type AND year = :year"),
        {"type": campaign_type, "year": year},
    )
    for seq, body in enumerate(texts, start=1):
        session.add(ChecklistItem(campaign_type=campaign_type, year=year, seq=seq, text=body))
    session.flush()


LEDGER_SQL = """
SELECT c.id, cm.name AS community, c.layer, c.feature_name, c.state,
       i.inspected_on, i.score, i.passed, c.review_failed_on, c.rectify_by
FROM campaign c JOIN community cm ON cm.id = c.community_id
LEFT JOIN LATERAL (SELECT inspected_on, score, passed FROM campaign_inspection
                   WHERE campaign_id = c.id ORDER BY inspected_on DESC, id DESC LIMIT 1) i ON true
WHERE c.campaign_type = :type AND c.year = :year
ORDER BY cm.id, c.feature_name
"""


def ledger(session: Session, campaign_type: str, year: int) -> list[dict]:
    rows = session.execute(text(LEDGER_SQL), {"type": campaign_type, "year": year}).mappings()
    return [dict(r) for r in rows]

"""The community standards' figures in SQL: one row per community (alias ``c``), with the raw
figures, each standard's value (``v_<key>``) and the number of standards met.

The rules (thresholds, bands) are webapp.domain.standards'; the SQL here counts what they judge.
The standards page runs ``FIGURES_SQL`` for the communities a user may read, the map's 标准达标率
choropleth joins ``MET_LATERAL`` to each community on screen.
"""

from __future__ import annotations

from webapp.domain import standards as rules
from webapp.domain.choices import CameraOwner, StaffRole
from webapp.domain.register import UnitKind

WORKER_ROLES = f"('{StaffRole.COMMUNITY_WORKER.value}', '{StaffRole.PARTY_WORKER.value}')"
OWNED_CAMERAS = f"('{CameraOwner.COMPOUND.value}', '{CameraOwner.UNIT.value}')"

# Raw figures per community, over ``community c`` (each from its own table, by community_id).
RAW_SQL = f"""
SELECT c.id, c.name, c.code, c.households, c.residents, c.party_members, c.party_org_type,
  c.party_org_set, g.groups, g.groups_in_band, g.group_households, b.heads, w.workers,
  w.party_workers, v.volunteers, o.social_organisations, p.police_rooms, p.police_staffed,
  f.stations, f.station_m2, f.centers, f.center_m2, k.compounds, k.compounds_recorded,
  k.compounds_met, m.cameras, m.cameras_connected
FROM community c
CROSS JOIN LATERAL (SELECT count(*) AS groups,
    count(*) FILTER (WHERE r.households BETWEEN {rules.GROUP_MIN_HOUSEHOLDS}
                                             AND {rules.GROUP_MAX_HOUSEHOLDS}) AS groups_in_band,
    coalesce(sum(r.households), 0) AS group_households
  FROM resident_group r WHERE r.community_id = c.id) g
CROSS JOIN LATERAL (SELECT count(DISTINCT bu.head_id) AS heads
  FROM building bu WHERE bu.community_id = c.id) b
CROSS JOIN LATERAL (SELECT count(*) AS workers,
    count(*) FILTER (WHERE s.role = '{StaffRole.PARTY_WORKER.value}') AS party_workers
  FROM staff_person s WHERE s.community_id = c.id AND s.role IN {WORKER_ROLES}) w
CROSS JOIN LATERAL (SELECT count(*) AS volunteers
  FROM volunteer vo WHERE vo.community_id = c.id) v
CROSS JOIN LATERAL (SELECT count(*) AS social_organisations FROM org_unit u
  WHERE u.community_id = c.id AND u.kind = '{UnitKind.SOCIAL_ORGANISATION.value}') o
CROSS JOIN LATERAL (SELECT count(*) AS police_rooms, count(*) FILTER (WHERE
    EXISTS (SELECT FROM staff_person s WHERE s.id = pr.officer_id
            AND s.role = '{StaffRole.POLICE_OFFICER.value}')
    AND EXISTS (SELECT FROM staff_person s WHERE s.id = pr.assistant_id
            AND s.role = '{StaffRole.POLICE_ASSISTANT.value}')) AS police_staffed
  FROM police_room pr WHERE pr.community_id = c.id) p
CROSS JOIN LATERAL (SELECT
    count(*) FILTER (WHERE ft.code = 'service_station') AS stations,
    sum(fa.floor_area_m2) FILTER (WHERE ft.code = 'service_station') AS station_m2,
    count(*) FILTER (WHERE ft.code = 'party_center') AS centers,
    sum(fa.floor_area_m2) FILTER (WHERE ft.code = 'party_center') AS center_m2
  FROM facility fa JOIN facility_type ft ON ft.id = fa.type_id
  WHERE fa.community_id = c.id AND ft.code IN ('service_station', 'party_center')) f
CROSS JOIN LATERAL (SELECT count(*) AS compounds,
    count(*) FILTER (WHERE cp.total_floor_area_m2 IS NOT NULL) AS compounds_recorded,
    count(*) FILTER (WHERE cp.total_floor_area_m2 IS NOT NULL
      AND coalesce(cp.property_room_area_m2, 0)
      >= greatest(cp.total_floor_area_m2 * {rules.ROOM_RATIO}, {rules.ROOM_FLOOR_M2})
    ) AS compounds_met
  FROM compound cp WHERE cp.community_id = c.id) k
CROSS JOIN LATERAL (SELECT count(*) AS cameras,
    count(*) FILTER (WHERE ca.connected) AS cameras_connected
  FROM camera ca WHERE ca.community_id = c.id AND ca.owner_type IN {OWNED_CAMERAS}) m
"""

STATION_REQUIRED = (
    f"(CASE WHEN residents < {rules.STATION_RESIDENTS} THEN {rules.STATION_SMALL_M2}"
    f" ELSE {rules.STATION_LARGE_M2} END)"
)

# Each standard's value over the raw figures (NULL: cannot be judged, its band's ``missing``).
VALUES_SQL: dict[str, str] = {
    "scale": "households",
    "resident_groups": "CASE WHEN groups > 0 THEN groups_in_band::numeric / groups END",
    "building_heads": "CASE WHEN heads > 0 THEN households::numeric / heads END",
    "party_org": (
        "CASE WHEN party_org_set IS NULL THEN NULL"
        " WHEN party_org_set = party_org_type THEN 1 ELSE 0 END"
    ),
    "service_station": (f"CASE WHEN stations = 0 THEN 0 ELSE station_m2 / {STATION_REQUIRED} END"),
    "party_center": f"CASE WHEN centers = 0 THEN 0 ELSE center_m2 / {rules.PARTY_CENTER_M2} END",
    "workers": "workers",
    "party_worker": "party_workers",
    "worker_ratio": "CASE WHEN workers > 0 THEN households::numeric / workers END",
    "volunteers": "CASE WHEN residents > 0 THEN volunteers::numeric / residents END",
    "social_organisations": "social_organisations",
    "police_room": "CASE WHEN police_staffed > 0 THEN 2 WHEN police_rooms > 0 THEN 1 ELSE 0 END",
    "property_rooms": (
        "CASE WHEN compounds_recorded > 0 THEN compounds_met::numeric / compounds_recorded END"
    ),
    "cameras": "CASE WHEN cameras > 0 THEN cameras_connected::numeric / cameras END",
}
assert VALUES_SQL.keys() == rules.BY_KEY.keys()

_VALUES = ", ".join(f"{sql} AS v_{key}" for key, sql in VALUES_SQL.items())


def figures_sql(where: str = "TRUE") -> str:
    """Raw figures and values of the communities (alias ``c``) that ``where`` keeps, by code."""
    return f"SELECT raw.*, {_VALUES} FROM ({RAW_SQL} WHERE {where}) raw ORDER BY raw.code"


MET_SQL = " + ".join(
    f"({standard.band.green_sql(f'v_{standard.key}')})::int" for standard in rules.STANDARDS
)

# For the map: standards met (``s.met``) and judged (``s.total``) of the community ``t``.
MET_LATERAL = (
    f"CROSS JOIN LATERAL (SELECT {MET_SQL} AS met, {len(rules.STANDARDS)} AS total"
    f" FROM (SELECT {_VALUES} FROM ({RAW_SQL} WHERE c.id = t.id) raw) judged) s"
)

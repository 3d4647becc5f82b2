"""The demo's tables and their columns, in an order that respects foreign keys.

Each column's kind (tables.ID, TEXT, PERSON …) says how it changes from the base copy to
replica k. Grid and staff point at each other: grids are copied without their 网格长/网格员 and
given them once the staff are in (see load.py).
"""

from __future__ import annotations

from .tables import (
    ADMIN_CODE,
    DEVICE_CODE,
    GEOM,
    ID,
    PERSON,
    PHONE,
    PLAIN,
    TEXT,
    Columns,
    ref,
)

# The columns that place a feature: its community, its grid and its geometry.
IN_GRID: Columns = (
    ("community_id", ref("community")),
    ("grid_id", ref("grid")),
    ("geom", GEOM),
)

TABLE_COLUMNS: dict[str, Columns] = {
    "subdistrict": (("id", ID), ("name", TEXT), ("code", ADMIN_CODE), ("geom", GEOM)),
    "community": (
        ("id", ID),
        ("subdistrict_id", ref("subdistrict")),
        ("name", TEXT),
        ("code", ADMIN_CODE),
        ("households", PLAIN),
        ("residents", PLAIN),
        ("party_members", PLAIN),
        ("address", TEXT),
        ("phone", PLAIN),
        ("geom", GEOM),
    ),
    "grid": (
        ("id", ID),
        ("community_id", ref("community")),
        ("code", ADMIN_CODE),
        ("name", TEXT),
        ("households", PLAIN),
        ("leader_id", ref("staff_person")),  # given by the staff layer
        ("worker_id", ref("staff_person")),
        ("geom", GEOM),
    ),
    "staff_person": (
        ("id", ID),
        ("name", PERSON),
        ("phone", PHONE),
        ("public_phone", PHONE),
        ("role", PLAIN),
        ("community_id", ref("community")),
        ("grid_id", ref("grid")),
        ("note", TEXT),
    ),
    "compound": (
        ("id", ID),
        ("name", TEXT),
        ("address", TEXT),
        ("enclosure", PLAIN),
        ("property_company", PLAIN),
        ("property_manager_id", ref("staff_person")),
        ("party_secretary_id", ref("staff_person")),
        ("total_floor_area_m2", PLAIN),
        ("property_room_area_m2", PLAIN),
        ("guards", PLAIN),
        ("cleaners", PLAIN),
        ("electricians", PLAIN),
        ("accountants", PLAIN),
        *IN_GRID,
    ),
    "building": (
        ("id", ID),
        ("compound_id", ref("compound")),
        ("name", PLAIN),
        ("address", TEXT),
        ("floors", PLAIN),
        ("units", PLAIN),
        ("households", PLAIN),
        ("head_id", ref("staff_person")),
        *IN_GRID,
    ),
    "road_node": (("id", ID), ("geom", GEOM)),
    "road_segment": (
        ("id", ID),
        ("name", TEXT),
        ("road_class", PLAIN),
        ("walkable", PLAIN),
        ("oneway", PLAIN),
        ("source", ref("road_node")),
        ("target", ref("road_node")),
        ("geom", GEOM),
    ),
    "police_room": (
        ("id", ID),
        ("name", TEXT),
        ("address", TEXT),
        ("phone", PLAIN),
        ("hours", PLAIN),
        ("officer_id", ref("staff_person")),
        ("assistant_id", ref("staff_person")),
        *IN_GRID,
    ),
    "facility": (
        ("id", ID),
        ("type_code", PLAIN),  # facility_type.code; the loader turns it into type_id
        ("name", TEXT),
        ("address", TEXT),
        ("floor_area_m2", PLAIN),
        ("hours", PLAIN),
        ("phone", PLAIN),
        *IN_GRID,
    ),
    "place": (
        ("id", ID),
        ("name", TEXT),
        ("kind", PLAIN),
        ("address", TEXT),
        ("contact", PERSON),
        ("phone", PHONE),
        *IN_GRID,
    ),
    "camera": (
        ("id", ID),
        ("device_code", DEVICE_CODE),
        ("name", TEXT),
        ("kind", PLAIN),
        ("owner_type", PLAIN),
        ("owner_name", TEXT),
        ("compound_id", ref("compound")),
        ("connected", PLAIN),
        ("connected_on", PLAIN),
        ("state", PLAIN),
        ("azimuth_deg", PLAIN),
        ("field_angle_deg", PLAIN),
        ("range_m", PLAIN),
        ("installed_on", PLAIN),
        *IN_GRID,
    ),
    "camera_maintenance": (
        ("id", ID),
        ("community_id", ref("community")),
        ("camera_id", ref("camera")),
        ("performed_on", PLAIN),
        ("kind", PLAIN),
        ("description", PLAIN),
        ("performed_by", PLAIN),
        ("state_after", PLAIN),
    ),
}

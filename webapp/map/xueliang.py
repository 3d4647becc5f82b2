"""雪亮工程 panel: cameras networked and working per community against the programme's targets,
with the cameras that drag each figure down.

Targets (2015 national opinion on public-security video, DOMAIN.md): key public areas 100 %
covered and 100 % networked; working rate ≥ 98 % in key public areas. Key public areas here are
the places that safety campaigns target (schools, markets, stations, sites, scenic areas, units).

Coverage is measured by area: the share of a place's outline inside the view sectors
(gis/sectors.py) of working cameras (a place drawn as a point: inside a sector or not). A place
counts as covered when at least ``COVERED_SHARE`` of it is watched; a sector that merely
touches a corner does not cover it.
The working-rate target is reported twice: over all cameras, and over the cameras of key
public areas (within ``NEAR_PLACE_DEG`` of a place), where the programme sets it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from shapely import wkb
from sqlalchemy import text
from sqlalchemy.orm import Session

from gis.sectors import Camera, ViewError, watched_area

CONNECTED_TARGET = 1.0
COVERED_TARGET = 1.0
WORKING_TARGET = 0.98
NEAR_PLACE_DEG = 0.002  # cameras this close to a place (≈ 200 m) may see it
COVERED_SHARE = 0.9  # share of a place's area watched for the place to count as covered


@dataclass
class CommunityFigures:
    id: int
    name: str
    cameras: int
    online: int
    connected: int
    places: int
    places_covered: int
    laggards: list[dict] = field(default_factory=list)
    key_cameras: int = 0  # cameras of key public areas (near a place)
    key_online: int = 0
    watched_share: float | None = None  # mean share of the places' outlines watched

    @staticmethod
    def _rate(part: int, whole: int) -> float | None:
        return part / whole if whole else None

    @property
    def online_rate(self) -> float | None:
        return self._rate(self.online, self.cameras)

    @property
    def connected_rate(self) -> float | None:
        return self._rate(self.connected, self.cameras)

    @property
    def covered_rate(self) -> float | None:
        return self._rate(self.places_covered, self.places)

    @property
    def key_online_rate(self) -> float | None:
        return self._rate(self.key_online, self.key_cameras)


COUNTS_SQL = text(
    "SELECT c.id, c.name, count(k.id) AS cameras,"
    " count(k.id) FILTER (WHERE k.state = '在线') AS online,"
    " count(k.id) FILTER (WHERE k.connected) AS connected"
    " FROM community c LEFT JOIN camera k ON k.community_id = c.id"
    " WHERE c.subdistrict_id = :subdistrict_id GROUP BY c.id, c.name ORDER BY c.code"
)

# Cameras of key public areas: near any place of the community (each camera counted once).
KEY_CAMERAS_SQL = text(
    "SELECT count(*) AS cameras, count(*) FILTER (WHERE k.state = '在线') AS online"
    " FROM camera k WHERE k.community_id = :community_id AND EXISTS (SELECT FROM place p"
    "  WHERE p.community_id = :community_id AND ST_DWithin(k.geom, p.geom, :near))"
)

LAGGARDS_SQL = text(
    "SELECT id, name, state, connected FROM camera WHERE community_id = :community_id"
    " AND (state <> '在线' OR NOT connected) ORDER BY state = '在线', connected, name LIMIT 30"
)

PLACES_SQL = text(
    "SELECT p.id, ST_AsBinary(p.geom) AS geom,"
    " (SELECT array_agg(ARRAY[ST_X(k.geom), ST_Y(k.geom), coalesce(k.azimuth_deg, -1),"
    "   coalesce(k.field_angle_deg, -1), coalesce(k.range_m, -1)]::float8[])"
    "  FROM camera k WHERE k.state = '在线'"
    "  AND k.geom && ST_Expand(p.geom, :near)) AS cams,"
    " (SELECT array_agg(k.kind) FROM camera k WHERE k.state = '在线'"
    "  AND k.geom && ST_Expand(p.geom, :near)) AS kinds"
    " FROM place p WHERE p.community_id = :community_id"
)


def watched_share(place_wkb: bytes, cams, kinds) -> float:
    """The share (0–1) of a place's outline inside working cameras' view sectors; a place
    drawn as a point is watched (1) or not (0)."""
    place = wkb.loads(bytes(place_wkb))
    if not cams:
        return 0.0
    cameras = []
    for (lon, lat, azimuth, angle, range_m), kind in zip(cams, kinds, strict=True):
        cameras.append(
            Camera(
                lon,
                lat,
                kind,
                "在线",
                None if azimuth < 0 else azimuth,
                None if angle < 0 else angle,
                None if range_m < 0 else range_m,
            )
        )
    try:
        watched = watched_area(cameras)
    except ViewError:
        return 0.0
    if place.area == 0:
        return 1.0 if watched.covers(place) else 0.0
    # Degrees in both numerator and denominator: the ratio is the same as in square metres
    # over a place a few hundred metres across.
    return min(1.0, watched.intersection(place).area / place.area)


def figures(session: Session, subdistrict_id: int) -> list[CommunityFigures]:
    rows = session.execute(COUNTS_SQL, {"subdistrict_id": subdistrict_id}).mappings().all()
    result = []
    for row in rows:
        places = session.execute(
            PLACES_SQL, {"community_id": row["id"], "near": NEAR_PLACE_DEG}
        ).all()
        shares = [watched_share(p.geom, p.cams, p.kinds) for p in places]
        covered = sum(share >= COVERED_SHARE for share in shares)
        key = session.execute(
            KEY_CAMERAS_SQL, {"community_id": row["id"], "near": NEAR_PLACE_DEG}
        ).one()
        laggards = [
            dict(r) for r in session.execute(LAGGARDS_SQL, {"community_id": row["id"]}).mappings()
        ]
        result.append(
            CommunityFigures(
                row["id"],
                row["name"],
                row["cameras"],
                row["online"],
                row["connected"],
                len(places),
                covered,
                laggards,
                key.cameras,
                key.online,
                sum(shares) / len(shares) if shares else None,
            )
        )
    return result

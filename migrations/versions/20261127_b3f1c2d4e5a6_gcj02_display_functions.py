"""GCJ-02 display functions: shift features onto 高德/腾讯 tiles inside PostGIS

The vector tiles are cut in the database, so the shift must happen there. The formula is the
published GCJ-02 forward transform, the same as gis/coords.py (tests compare the two).

Revision ID: b3f1c2d4e5a6
Revises: add7f6b2fc16
Create Date: 2026-11-27 10:40:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "b3f1c2d4e5a6"
down_revision: str | None = "add7f6b2fc16"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

DELTA = """
CREATE OR REPLACE FUNCTION gm_gcj02_delta(
    lon double precision, lat double precision,
    OUT dlon double precision, OUT dlat double precision)
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $$
DECLARE
    a CONSTANT double precision := 6378245.0;
    ee CONSTANT double precision := 0.00669342162296594323;
    x double precision := lon - 105.0;
    y double precision := lat - 35.0;
    rad_lat double precision := lat / 180.0 * pi();
    magic double precision;
    sqrt_magic double precision;
BEGIN
    IF lon < 73.4 OR lon > 135.1 OR lat < 3.8 OR lat > 53.6 THEN
        dlon := 0; dlat := 0; RETURN;
    END IF;
    dlat := -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * sqrt(abs(x))
        + (20.0 * sin(6.0 * x * pi()) + 20.0 * sin(2.0 * x * pi())) * 2.0 / 3.0
        + (20.0 * sin(y * pi()) + 40.0 * sin(y / 3.0 * pi())) * 2.0 / 3.0
        + (160.0 * sin(y / 12.0 * pi()) + 320 * sin(y * pi() / 30.0)) * 2.0 / 3.0;
    dlon := 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * sqrt(abs(x))
        + (20.0 * sin(6.0 * x * pi()) + 20.0 * sin(2.0 * x * pi())) * 2.0 / 3.0
        + (20.0 * sin(x * pi()) + 40.0 * sin(x / 3.0 * pi())) * 2.0 / 3.0
        + (150.0 * sin(x / 12.0 * pi()) + 300.0 * sin(x / 30.0 * pi())) * 2.0 / 3.0;
    magic := 1 - ee * sin(rad_lat) ^ 2;
    sqrt_magic := sqrt(magic);
    dlat := (dlat * 180.0) / ((a * (1 - ee)) / (magic * sqrt_magic) * pi());
    dlon := (dlon * 180.0) / (a / sqrt_magic * cos(rad_lat) * pi());
END $$
"""

# Small features (buildings, points) move by the offset at their own centre: the offset changes by
# a few metres per kilometre, so a building is placed to within centimetres.
TO_GCJ02 = """
CREATE OR REPLACE FUNCTION gm_to_gcj02(g geometry) RETURNS geometry
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT ST_Translate(g, d.dlon, d.dlat)
    FROM gm_gcj02_delta(ST_X(ST_PointOnSurface(g)), ST_Y(ST_PointOnSurface(g))) AS d
$$
"""


def upgrade() -> None:
    op.execute(DELTA)
    op.execute(TO_GCJ02)


def downgrade() -> None:
    op.execute("DROP FUNCTION IF EXISTS gm_to_gcj02(geometry)")
    op.execute("DROP FUNCTION IF EXISTS gm_gcj02_delta(double precision, double precision)")

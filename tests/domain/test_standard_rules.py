"""The community standards' rules: each band's boundaries, missing figures and the deadline."""

from datetime import date
from decimal import Decimal

import pytest

from webapp.domain import standards as rules
from webapp.domain.standards import BY_KEY, Colour

G, A, R = Colour.GREEN, Colour.AMBER, Colour.RED


@pytest.mark.parametrize(
    ("key", "cases"),
    [
        (
            "scale",
            [
                *[(1349, R), (1350, A), (1499, A), (1500, G)],
                *[(3000, G), (3001, A), (3300, A), (3301, R)],
            ],
        ),
        ("resident_groups", [(None, R), (0, R), (Decimal("0.89"), R), (Decimal("0.9"), A), (1, G)]),
        ("building_heads", [(None, R), (12, G), (30, G), (Decimal("30.01"), A), (33, A), (34, R)]),
        ("party_org", [(None, A), (0, R), (1, G)]),
        (
            "service_station",
            [(None, A), (0, R), (Decimal("0.899"), R), (Decimal("0.9"), A), (1, G)],
        ),
        ("party_center", [(None, A), (Decimal("0.9"), A), (Decimal("0.9999"), A), (1, G), (2, G)]),
        ("workers", [(3, R), (4, A), (5, G), (9, G), (10, A), (11, R)]),
        ("party_worker", [(0, R), (1, G), (3, G)]),
        ("worker_ratio", [(None, R), (300, G), (400, G), (401, A), (440, A), (441, R)]),
        (
            "volunteers",
            [(None, A), (0.0899, R), (0.09, A), (0.0999, A), (0.1, G), (Decimal("0.10"), G)],
        ),
        ("social_organisations", [(4, R), (5, A), (6, G), (20, G)]),
        ("police_room", [(0, R), (1, A), (2, G)]),
        ("property_rooms", [(None, A), (Decimal("0.8"), R), (Decimal("0.9"), A), (1, G)]),
        ("cameras", [(None, A), (Decimal("0.89"), R), (Decimal("0.9"), A), (1, G)]),
    ],
)
def test_each_standards_colour_boundaries(key, cases):
    band = BY_KEY[key].band
    assert [(value, band.colour(value)) for value, _ in cases] == cases


def test_the_standards_are_the_plans_list_each_with_its_source():
    assert len(rules.STANDARDS) == 14
    for standard in rules.STANDARDS:
        assert standard.source.startswith("「") and standard.origin and standard.amber


def test_the_service_station_needs_800_m2_from_6000_residents():
    assert rules.station_required_m2(5999) == 600
    assert rules.station_required_m2(6000) == 800


def test_cameras_short_of_full_are_amber_until_the_deadline_and_red_after():
    deadline = rules.xueliang_deadline(None, date(2026, 2, 1))
    assert deadline == date(2026, 3, 31)
    assert rules.xueliang_deadline("2026-06-30", date(2026, 2, 1)) == date(2026, 6, 30)

    def colour(today, value):
        (cameras,) = [s for s in rules.standards_on(today, deadline) if s.key == "cameras"]
        return cameras.band.colour(value)

    assert colour(date(2026, 3, 31), Decimal("0.5")) is A
    assert colour(date(2026, 4, 1), Decimal("0.5")) is R
    assert colour(date(2026, 4, 1), 1) is G and colour(date(2026, 3, 1), 1) is G
    # Only the cameras' band moves with the date.
    before, after = rules.standards_on(date(2026, 1, 1), deadline), rules.STANDARDS
    assert [s for s in before if s.key != "cameras"] == [s for s in after if s.key != "cameras"]


def test_the_share_met_counts_greens_only():
    assert rules.share_met([G, A, R, G]) == 0.5
    assert rules.share_met([]) == 0.0


def test_the_sql_of_a_band_says_the_same_as_its_python():
    band = BY_KEY["scale"].band
    assert band.green_sql("v") == "coalesce(v >= 1500 AND v <= 3000, false)"
    sql = BY_KEY["volunteers"].band.colour_sql("v")
    assert "WHEN v IS NULL THEN 'amber'" in sql and "v >= 0.10" in sql and "v >= 0.090" in sql

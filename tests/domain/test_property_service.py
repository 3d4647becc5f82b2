from datetime import date

import pytest

from webapp.domain.property_service import (
    Consequence,
    PropertyServiceError,
    Rating,
    company_history,
    consequence,
    failing_streak,
    label,
    parse_period,
    period_of,
    previous_period,
    service_room_check,
    service_room_required_m2,
)

FAIL, PASS, GOOD = "不合格", "合格", "良好"


def test_the_ratings_and_consequences_carry_their_chinese_names():
    assert [r.value for r in Rating] == ["优秀", "良好", "合格", "不合格"]
    assert [c.value for c in Consequence] == ["无", "约谈", "张贴不受欢迎物业"]


@pytest.mark.parametrize(
    ("period", "parsed"), [("2026Q3", (2026, 3)), ("2026Q1", (2026, 1)), ("1999Q4", (1999, 4))]
)
def test_a_period_parses(period, parsed):
    assert parse_period(period) == parsed


@pytest.mark.parametrize(
    "period",
    ["2026Q5", "2026Q0", "2026-Q3", "26Q3", "2026q3", "2026H1", "2026", "", " 2026Q3", "0000Q1"],
)
def test_a_bad_period_is_refused(period):
    with pytest.raises(PropertyServiceError, match="应形如“2026Q3”"):
        parse_period(period)


def test_a_period_that_is_not_a_string_is_refused():
    with pytest.raises(ValueError):
        parse_period(None)
    with pytest.raises(ValueError):
        parse_period(20263)


@pytest.mark.parametrize(
    ("period", "before"), [("2026Q1", "2025Q4"), ("2026Q3", "2026Q2"), ("2026Q4", "2026Q3")]
)
def test_the_previous_period_crosses_the_year(period, before):
    assert previous_period(period) == before


def test_a_period_has_a_chinese_label():
    assert label("2026Q3") == "2026年第3季度"
    with pytest.raises(PropertyServiceError):
        label("2026Q9")


@pytest.mark.parametrize(
    ("day", "period"),
    [(date(2026, 1, 1), "2026Q1"), (date(2026, 3, 31), "2026Q1"), (date(2026, 12, 31), "2026Q4")],
)
def test_a_day_falls_in_its_quarter(day, period):
    assert period_of(day) == period


@pytest.mark.parametrize(
    ("history", "expected"),
    [
        ([], "无"),
        ([("2026Q1", FAIL)], "无"),
        ([("2025Q4", PASS), ("2026Q1", FAIL)], "无"),
        # the second consecutive 不合格 summons the company
        ([("2025Q4", PASS), ("2026Q1", FAIL), ("2026Q2", FAIL)], "约谈"),
        ([("2025Q4", FAIL), ("2026Q1", FAIL)], "约谈"),  # across the turn of the year
        # a missing quarter between two 不合格 breaks the run
        ([("2025Q4", FAIL), ("2026Q2", FAIL)], "无"),
        # so does a passing rating
        ([("2026Q1", FAIL), ("2026Q2", PASS), ("2026Q3", FAIL)], "无"),
        # the third: still not fixed after the summons
        ([("2026Q1", FAIL), ("2026Q2", FAIL), ("2026Q3", FAIL)], "张贴不受欢迎物业"),
        (
            [("2025Q4", FAIL), ("2026Q1", FAIL), ("2026Q2", FAIL), ("2026Q3", FAIL)],
            "张贴不受欢迎物业",
        ),
        # a gap before the latest two leaves only the summons
        ([("2025Q3", FAIL), ("2026Q1", FAIL), ("2026Q2", FAIL)], "约谈"),
        # a better latest rating clears it
        ([("2026Q1", FAIL), ("2026Q2", FAIL), ("2026Q3", FAIL), ("2026Q4", GOOD)], "无"),
        ([("2026Q1", FAIL), ("2026Q2", FAIL), ("2026Q3", "合格")], "无"),
    ],
)
def test_the_consequence_of_the_latest_ratings(history, expected):
    assert consequence(history) == expected
    assert consequence(list(reversed(history))) == expected  # any order


def test_the_latest_rated_quarter_decides_even_when_it_is_not_the_current_one():
    # Two failing quarters long ago, nothing rated since: still the latest record.
    assert consequence([("2024Q1", FAIL), ("2024Q2", FAIL)]) == Consequence.SUMMONS


def test_the_failing_streak_counts_back_from_the_latest_quarter():
    history = [("2026Q2", FAIL), ("2025Q4", FAIL), ("2026Q1", FAIL), ("2025Q2", FAIL)]
    assert failing_streak(history) == 3
    assert failing_streak([("2026Q2", Rating.FAILING), ("2026Q1", Rating.EXCELLENT)]) == 1
    assert failing_streak([]) == 0


def test_a_bad_history_is_refused():
    with pytest.raises(PropertyServiceError, match="“差”无效"):
        consequence([("2026Q1", "差")])
    with pytest.raises(PropertyServiceError, match="2026年第1季度有两条考核记录"):
        consequence([("2026Q1", FAIL), ("2026Q1", PASS)])
    with pytest.raises(PropertyServiceError, match="应形如"):
        consequence([("2026-1", FAIL)])


@pytest.mark.parametrize(
    ("area", "required"),
    [
        (0, (100.0, 100.0)),
        (10_000, (100.0, 100.0)),
        (20_000, (100.0, 100.0)),
        (30_000, (100.0, 150.0)),
        (50_000, (150.0, 250.0)),
        (60_000, (180.0, 300.0)),
        ("60000", (180.0, 300.0)),
        (33_333.3, (100.0, 166.6665)),
    ],
)
def test_the_required_room_is_three_to_five_per_mille_but_at_least_100(area, required):
    assert service_room_required_m2(area) == required


@pytest.mark.parametrize(
    ("area", "room", "ok", "shortfall"),
    [
        (10_000, 99, False, 1.0),
        (10_000, 100, True, 0.0),
        (10_000, 100.0, True, 0.0),
        (10_000, 0, False, 100.0),
        (50_000, 150, True, 0.0),
        (50_000, 149.9, False, 0.1),
        (60_000, 180, True, 0.0),
        (60_000, 179.9, False, 0.1),
        (60_000, 300, True, 0.0),
        (60_000, 400, True, 0.0),  # above 5‰ is fine
    ],
)
def test_the_service_room_at_the_edges_of_the_standard(area, room, ok, shortfall):
    check = service_room_check(area, room)
    assert check.ok is ok
    assert check.shortfall_m2 == shortfall
    assert (check.required_min_m2, check.required_max_m2) == service_room_required_m2(area)


def test_the_service_room_messages():
    assert service_room_check(10_000, 99).message == (
        "物业服务用房 99 m²,低于最低标准 100 m²,差 1 m²,应下达整改通知。"
    )
    assert service_room_check(60_000, 179.9).message == (
        "物业服务用房 179.9 m²,低于最低标准 180 m²,差 0.1 m²,应下达整改通知。"
    )
    assert service_room_check(60_000, 200).message == "物业服务用房 200 m²,达标(标准 180–300 m²)。"
    assert service_room_check(60_000, 400).message == (
        "物业服务用房 400 m²,达标(高于参考上限 300 m²)。"
    )
    assert service_room_check(10_000, 120).message == "物业服务用房 120 m²,达标(不低于 100 m²)。"


def test_a_near_miss_never_reads_as_meeting_the_standard():
    # 3‰ of 50,001 m² is 150.003 m²: a 150 m² room falls short by a fraction.
    check = service_room_check(50_001, 150)
    assert not check.ok
    assert check.message == "物业服务用房 150 m²,低于最低标准 150.01 m²,差 0.01 m²,应下达整改通知。"


@pytest.mark.parametrize(
    ("area", "room", "words"),
    [
        (None, 100, "请填写总建筑面积"),
        (-1, 100, "总建筑面积不能为负数"),
        (10_000, None, "请填写物业服务用房面积"),
        (10_000, -0.5, "物业服务用房面积不能为负数"),
        ("abc", 100, "总建筑面积应为数字"),
        (float("nan"), 100, "有限"),
        (10_000, float("inf"), "有限"),
        (True, 100, "应为数字"),
    ],
)
def test_bad_areas_are_refused(area, room, words):
    with pytest.raises(ValueError, match=words) as err:
        service_room_check(area, room)
    assert isinstance(err.value, PropertyServiceError)


def test_a_bad_total_area_is_refused_by_the_requirement_too():
    with pytest.raises(ValueError, match="请填写总建筑面积"):
        service_room_required_m2(None)
    with pytest.raises(ValueError, match="不能为负数"):
        service_room_required_m2(-10)


def test_a_companys_quarter_fails_when_any_of_its_compounds_fails():
    ratings = [
        ("2026Q1", GOOD),
        ("2026Q1", FAIL),  # one compound of two failed: the company failed
        ("2026Q2", PASS),
        ("2026Q2", FAIL),
        ("2026Q3", FAIL),
        ("2026Q3", GOOD),
        ("2026Q3", "优秀"),
    ]
    history = company_history(ratings)
    assert history == [("2026Q1", FAIL), ("2026Q2", FAIL), ("2026Q3", FAIL)]
    assert failing_streak(history) == 3 and consequence(history) is Consequence.UNWELCOME
    # Failures moving between compounds still run; a quarter nobody was rated in ends the run.
    assert company_history([("2026Q1", GOOD), ("2026Q1", PASS)]) == [("2026Q1", PASS)]
    gap = company_history([("2025Q4", FAIL), ("2026Q2", FAIL), ("2026Q3", FAIL)])
    assert consequence(gap) is Consequence.SUMMONS
    with pytest.raises(PropertyServiceError, match="等次"):
        company_history([("2026Q1", "差")])

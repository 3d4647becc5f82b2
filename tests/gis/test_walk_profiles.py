"""Walking profiles and budgets of the 8- and 15-minute circles (GB 50180: 15 min ≈ 1,000 m)."""

import dataclasses

import pytest

from gis.circles import (
    CIRCLE_MINUTES,
    PROFILES,
    WalkProfile,
    budget_m,
    configured_profiles,
    get_profile,
)


@pytest.fixture(autouse=True)
def default_speeds(monkeypatch):
    """The budgets below are the defaults: no speed settings from the caller's shell."""
    monkeypatch.delenv("WALK_SPEED_M_PER_MIN", raising=False)
    monkeypatch.delenv("ELDERLY_WALK_SPEED_M_PER_MIN", raising=False)


def test_fifteen_standard_minutes_are_a_kilometre():
    assert budget_m(15, "standard") == pytest.approx(1000)
    assert budget_m(8, "standard") == pytest.approx(8000 / 15)
    assert budget_m(15) == pytest.approx(1000)  # standard is the default


def test_the_elderly_walk_less_in_the_same_time():
    for minutes in CIRCLE_MINUTES:
        assert budget_m(minutes, "elderly") < budget_m(minutes, "standard")
    assert budget_m(15, "elderly") == pytest.approx(800)


def test_profiles_by_code_with_chinese_labels():
    assert set(PROFILES) == {"standard", "elderly"}
    assert get_profile("standard").label == "标准"
    assert get_profile("elderly").label == "老年人"
    profile = PROFILES["elderly"]
    assert get_profile(profile) is profile


def test_an_unknown_profile_is_refused():
    with pytest.raises(ValueError, match="unknown walking profile 'runner'"):
        get_profile("runner")


def test_profiles_are_frozen():
    with pytest.raises(dataclasses.FrozenInstanceError):
        PROFILES["standard"].walk_speed_m_per_min = 100


def test_speeds_come_from_the_environment(monkeypatch):
    profiles = configured_profiles({"WALK_SPEED_M_PER_MIN": "80"})
    assert profiles["standard"].budget_m(15) == pytest.approx(1200)
    assert profiles["elderly"].budget_m(15) == pytest.approx(800)
    monkeypatch.setenv("ELDERLY_WALK_SPEED_M_PER_MIN", "40")
    assert budget_m(15, "elderly") == pytest.approx(600)
    assert budget_m(15, "standard") == pytest.approx(1000)


@pytest.mark.parametrize("raw", ["fast", "0", "-5", "nan", "inf"])
def test_a_bad_speed_setting_is_refused(raw):
    with pytest.raises(ValueError, match="ELDERLY_WALK_SPEED_M_PER_MIN"):
        configured_profiles({"ELDERLY_WALK_SPEED_M_PER_MIN": raw})


def test_minutes_round_up_without_float_noise():
    standard = WalkProfile("standard", "标准", 1000 / 15)
    assert standard.minutes_for(1000) == 15
    assert standard.minutes_for(1000.5) == 16
    assert standard.minutes_for(0.1) == 1
    assert standard.minutes_for(0) == 0


def test_a_budget_needs_positive_minutes():
    with pytest.raises(ValueError):
        budget_m(0, "standard")

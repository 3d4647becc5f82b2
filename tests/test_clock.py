"""The injectable clock: shifts add up, a frozen clock stands still, dates are China's."""

from datetime import UTC, datetime, timedelta

import pytest

from webapp import clock


def test_shift_moves_now_and_today():
    before = clock.now()
    clock.shift(timedelta(days=3))
    clock.shift(timedelta(hours=1))
    moved = clock.now() - before
    assert timedelta(days=3, hours=1) <= moved < timedelta(days=3, hours=1, seconds=5)


def test_frozen_clock_and_local_date():
    # 17:00 UTC is already the next day in Beijing.
    with clock.frozen(datetime(2026, 12, 7, 17, 0, tzinfo=UTC)):
        assert clock.now() == datetime(2026, 12, 7, 17, 0, tzinfo=UTC)
        assert clock.today().isoformat() == "2026-12-08"
        clock.shift(timedelta(hours=-10))
        assert clock.today().isoformat() == "2026-12-07"


def test_frozen_needs_an_aware_time():
    with pytest.raises(ValueError), clock.frozen(datetime(2026, 1, 1)):
        pass

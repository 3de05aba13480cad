"""bot.telegram.flood: a token bucket per user with a fake clock."""

from __future__ import annotations

import pytest

from bot.telegram.flood import FloodGate


@pytest.fixture
def gate():
    return FloodGate(limit=12, window=10.0)


def test_twelve_questions_pass_at_once(gate):
    assert [gate.admit(1, now=0.0) for _ in range(12)] == [(0.0, False)] * 12


def test_thirteenth_waits_with_a_notice(gate):
    for _ in range(12):
        gate.admit(1, now=0.0)
    wait, notice = gate.admit(1, now=0.0)
    assert wait == pytest.approx(10.0 / 12)
    assert notice is True


def test_waits_queue_up(gate):
    waits = [gate.admit(1, now=0.0)[0] for _ in range(15)]
    assert waits[12:] == pytest.approx([10 / 12, 20 / 12, 30 / 12])


def test_exactly_one_notice_per_burst(gate):
    notices = [gate.admit(1, now=0.0)[1] for _ in range(30)]
    assert notices.count(True) == 1
    assert notices.index(True) == 12


def test_no_new_notice_while_the_burst_goes_on(gate):
    for _ in range(13):
        gate.admit(1, now=0.0)
    # Partly refilled, still over the limit: no second notice.
    notices = [gate.admit(1, now=t)[1] for t in (1.0, 1.0, 1.0, 2.0, 2.0, 2.0)]
    assert True not in notices


def test_other_users_are_unaffected(gate):
    for _ in range(20):
        gate.admit(1, now=0.0)
    assert gate.admit(2, now=0.0) == (0.0, False)


def test_quiet_period_resets_the_burst(gate):
    for _ in range(14):
        gate.admit(1, now=0.0)
    later = 60.0
    assert [gate.admit(1, now=later) for _ in range(12)] == [(0.0, False)] * 12
    wait, notice = gate.admit(1, now=later)
    assert wait > 0
    assert notice is True


def test_tokens_refill_at_the_rate(gate):
    for _ in range(12):
        gate.admit(1, now=0.0)
    assert gate.admit(1, now=10.0 / 12 + 1e-9) == (0.0, False)
    assert gate.admit(1, now=10.0 / 12 + 1e-9)[0] > 0


def test_slow_asker_never_waits(gate):
    assert all(gate.admit(1, now=t * 1.0) == (0.0, False) for t in range(100))


@pytest.mark.parametrize(("limit", "window"), [(0, 10.0), (-5, 10.0), (1, 0.0)])
def test_degenerate_settings_still_admit(limit, window):
    gate = FloodGate(limit=limit, window=window)
    assert gate.admit(1, now=0.0) == (0.0, False)


def test_real_clock_is_used_without_now():
    gate = FloodGate(limit=1, window=1000.0)
    assert gate.admit(1) == (0.0, False)
    wait, notice = gate.admit(1)
    assert 0 < wait <= 1000.0
    assert notice

"""Choosing between two equivalent runs by their recent speed: the faster one gets the calls, the other is
still tried now and then, and a change of which is faster is followed."""
import pytest

from kinact.core.faster_of import FasterOf


class FakeClock:
    """A clock the fake runs advance by their own cost, so the test needs no real timing."""

    def __init__(self):
        self.t = 0.0

    def __call__(self):
        return self.t


def _runs(clock, costs):
    def make(name):
        def run(arrays):
            clock.t += costs[name]
            return name
        return run
    return make("a"), make("b")


def test_the_faster_way_gets_the_calls_and_the_other_is_still_tried():
    clock = FakeClock()
    costs = {"a": 0.002, "b": 0.003}
    a, b = _runs(clock, costs)
    run = FasterOf(a, b, explore_every=10, clock=clock)
    outs = [run(()) for _ in range(100)]
    assert outs.count("b") == pytest.approx(11, abs=2)  # tried first, then once in every 10 calls
    assert run.calls == [outs.count("a"), outs.count("b")]
    assert run.average_s == pytest.approx([0.002, 0.003])


def test_a_change_of_which_is_faster_is_followed():
    clock = FakeClock()
    costs = {"a": 0.002, "b": 0.003}
    a, b = _runs(clock, costs)
    run = FasterOf(a, b, explore_every=4, alpha=0.5, clock=clock)
    for _ in range(40):
        run(())
    costs["a"] = 0.010  # a got slow (say, the cores now idle between calls)
    late = [run(()) for _ in range(60)][-20:]
    assert late.count("b") >= 15


def test_the_first_slow_call_of_a_way_does_not_condemn_it():
    clock = FakeClock()
    costs = {"a": 0.050, "b": 0.003}  # a's first call plans and allocates
    a, b = _runs(clock, costs)
    run = FasterOf(a, b, explore_every=4, clock=clock)
    run(())
    costs["a"] = 0.001
    outs = [run(()) for _ in range(20)]
    assert outs[-10:].count("a") >= 7


def test_bad_settings_are_refused():
    with pytest.raises(ValueError):
        FasterOf(lambda x: x, lambda x: x, explore_every=1)
    with pytest.raises(ValueError):
        FasterOf(lambda x: x, lambda x: x, alpha=0)

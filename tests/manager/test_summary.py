"""summarize: rates from two Manager.stats() snapshots, on each group's own time stamps."""
import pytest

from acqflow.manager.summary import summarize


def _stats(manager_time, group_time, samples, cpu_s, pid=11):
    node = {"state": "running", "cpu_s": cpu_s,
            "inputs": {"in": {"samples": samples, "gaps": 0, "dropped": 0, "sample_rate": 1000.0,
                              "source": ["dev", "signals"]}}}
    return {"time": manager_time,
            "groups": {"rec": {"state": "running", "pid": pid, "time": group_time,
                               "nodes": {"rec": node}}}}


def test_rates_use_the_time_the_group_read_its_counters():
    """The Manager stamps a snapshot before asking the groups one after the other: a group
    that answered 0.2 s late the first time and at once the second time read its counters
    0.1 s apart, not 0.25 s (on a loaded machine, a rate off by a factor 2.5)."""
    before = _stats(100.0, 100.2, samples=10_000, cpu_s=1.0)
    after = _stats(100.25, 100.3, samples=10_100, cpu_s=1.01)
    summary = summarize(after, before)
    (stream,) = summary["streams"]
    assert stream["rate"] == pytest.approx(1000.0)            # 1000 samples/s, as sent
    assert summary["nodes"]["rec"]["cpu"] == pytest.approx(10.0)        # % of one core
    assert summary["interval"] == 0.25                           # the snapshots' own interval


def test_without_group_stamps_or_across_a_restart_the_snapshot_interval_is_used():
    before, after = _stats(100.0, None, 10_000, 1.0), _stats(100.5, None, 10_500, 1.5)
    assert summarize(after, before)["streams"][0]["rate"] == pytest.approx(1000.0)
    before, after = _stats(100.0, 100.2, 10_000, 1.0), _stats(100.5, 100.3, 500, 0.5, pid=12)
    assert summarize(after, before)["streams"][0]["rate"] == pytest.approx((500 - 10_000) / 0.5)
    assert summarize(after)["streams"][0]["rate"] is None        # one snapshot: no rate yet

"""A Recorder whose group is SIGKILLed and rebuilt by the restart policy continues its
recording: every sample sealed before each kill stays, the downtime reads back as a gap,
the end is committed; in mode create and overwrite alike (overwrite is decided once)."""
import os
import random
import signal

import numpy as np
import pytest

from acqflow.dataflow.graph import GraphSpec
from acqflow.manager.build import build_graph
from acqflow.manager.manager import Manager
from acqflow.rpc.proxy import get_value
from acqflow.storage import RecordingWriter, open_recording
from acqflow.testing import wait_for

KILLS = 10
RATE = 1000


def graph(path, mode: str, src_group: str = "acq") -> GraphSpec:
    return GraphSpec.from_dict({
        "imports": ["tests.manager.testnodes"],
        "groups": {"acq": {}, "rec": {"restart": True}},
        "nodes": {
            "src": {"type": "Ramp", "group": src_group, "params": {"rate": RATE, "chunk": 10}},
            "recorder": {"type": "Recorder", "group": "rec",
                         "params": {"streams": ["sig"], "dirname": str(path), "mode": mode,
                                    "block_s": 0.02}},
        },
        "connections": [{"from": "src.signals", "to": "recorder.sig"}],
    }, source="restart.yaml")


def sealed(path) -> np.ndarray:
    """Every sample index readable in the recording now (sealed blocks only)."""
    sig = open_recording(path).streams["sig"]
    parts = [np.arange(s, s + len(d)) for s, d in sig.chunks()]
    return np.concatenate(parts) if parts else np.zeros(0, np.int64)


def sealed_stop(path) -> int:
    done = sealed(path)
    return int(done[-1]) + 1 if len(done) else 0


def check_values(sig) -> None:
    for s, data in sig.chunks():
        idx = np.arange(s, s + len(data), dtype="float32")
        np.testing.assert_array_equal(data, np.stack([idx, -idx], axis=1))


@pytest.mark.parametrize("mode", ["create", "overwrite"])
def test_killed_recorder_continues_its_recording(tmp_path, mode):
    path = tmp_path / "rec"
    if mode == "overwrite":            # an earlier recording: replaced once, at the first build
        with RecordingWriter(path) as w:
            w.add_stream("old", dtype="int16", shape=(-1, 1), sample_rate=10.0)
            w.write("old", np.ones((5, 1), "int16"))
    seed = random.randrange(1 << 30)
    rng = random.Random(seed)
    with Manager(heartbeat=0.2) as manager:
        build_graph(graph(path, mode), manager)
        manager.start_all()
        group = manager.groups["rec"]
        src_out = manager.node("src").outputs["signals"]
        kills = []          # (sealed indexes before, source index at kill, at restart)
        for k in range(KILLS):
            goal = (kills[-1][2] if kills else 0) + rng.choice([0, 50, 200, 400])
            wait_for(lambda: sealed_stop(path) > goal, timeout=20,
                     message=f"the recording to pass index {goal} (seed {seed})")
            before = sealed(path)
            os.kill(group.pid, signal.SIGKILL)
            at_kill = get_value(src_out.index)      # at least what the recorder had got
            wait_for(lambda: group.restarts == k + 1 and group.state == "running"
                     and get_value(manager.node("recorder").state) == "running", timeout=20,
                     message=f"restart {k + 1} of the recorder group (seed {seed})")
            kills.append((before, at_kill, get_value(src_out.index)))
        last = kills[-1][2]
        wait_for(lambda: sealed_stop(path) > last + 100, timeout=20,
                 message="data after the last restart")
    rec = open_recording(path)
    assert rec.committed
    assert list(rec.streams) == ["sig"]        # the old recording was replaced, once
    sig = rec.streams["sig"]
    check_values(sig)
    final = set(sealed(path).tolist())
    gaps = sig.gaps
    assert len(gaps) == KILLS, (gaps, seed)
    for (before, at_kill, at_restart), (g0, g1) in zip(kills, gaps):
        assert final.issuperset(before.tolist()), seed        # nothing sealed was lost
        # the hole spans the downtime: from what was sealed before the kill to no later
        # than shortly after the restart (a subscription takes a moment to start)
        assert before[-1] < g0 <= at_kill <= g1, (before[-1], g0, at_kill, g1, seed)
        assert g1 <= at_restart + RATE // 2, (g1, at_restart, seed)


def test_source_rebuilt_with_its_recorder_resends_nothing_twice(tmp_path):
    """Source and Recorder in one group: the rebuilt source resumes from its last snapshot
    (behind what was recorded); the Recorder keeps what it had and carries on."""
    path = tmp_path / "rec"
    with Manager(heartbeat=0.2) as manager:
        build_graph(graph(path, "create", src_group="rec"), manager)
        manager.start_all()
        group = manager.groups["rec"]
        befores = []
        for k in range(3):
            goal = sealed_stop(path) + 300
            wait_for(lambda: sealed_stop(path) > goal, timeout=20, message=f"index {goal}")
            befores.append(sealed(path))
            os.kill(group.pid, signal.SIGKILL)
            wait_for(lambda: group.restarts == k + 1 and group.state == "running", timeout=20,
                     message=f"restart {k + 1}")
        goal = sealed_stop(path) + 300
        wait_for(lambda: sealed_stop(path) > goal, timeout=20, message="data after the restarts")
        assert get_value(manager.node("recorder").state) == "running"
    rec = open_recording(path)
    assert rec.committed
    check_values(rec.streams["sig"])
    final = set(sealed(path).tolist())
    for before in befores:
        assert final.issuperset(before.tolist())

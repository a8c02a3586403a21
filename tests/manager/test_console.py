"""LiveView: plain appended lines off a terminal, an in-place redraw (rich.live) on one."""
from __future__ import annotations

import io
import os
import pty

from acqflow.manager.console import LiveView


def test_off_a_terminal_each_block_is_appended_as_plain_lines():
    out = io.StringIO()
    with LiveView(out, end="\n\n") as view:
        view.show("frame one\nrow")
        view.show("frame two\nrow")
    assert out.getvalue() == "frame one\nrow\n\nframe two\nrow\n\n"


def test_on_a_terminal_the_block_is_redrawn_in_place():
    master, slave = pty.openpty()
    try:
        with os.fdopen(slave, "w", closefd=False) as out:
            with LiveView(out) as view:
                view.show("frame one\nrow")
                view.show("frame two\nrow")
            out.flush()
        chunks = []
        while True:
            data = os.read(master, 65536)
            chunks.append(data)
            if b"frame two" in b"".join(chunks) and len(data) < 65536:
                break
        text = b"".join(chunks).decode()
    finally:
        os.close(slave)
        os.close(master)
    first, second = text.index("frame one"), text.index("frame two")
    # between the two frames: cursor up and erase line (the old block is replaced, not scrolled)
    assert "\x1b[1A" in text[first:second] and "\x1b[2K" in text[first:second], repr(text)
    assert text.count("frame one") == 1


def _stats(clock_a, clock_b):
    node = {"state": "running", "cpu_s": 1.0, "inputs": {}}
    return {"time": 100.0, "groups": {
        "acq": {"state": "running", "pid": 11, "clock": clock_a, "nodes": {"dev": node}},
        "main": {"state": "running", "pid": 12, "clock": clock_b, "nodes": {"rec": node}}}}


def test_the_clock_column_shows_only_when_a_group_is_on_another_clock():
    """On one host every group reads the manager's clock: a column of 0s told nothing."""
    from acqflow.manager.console import StatsTable
    same = {"clock_id": "here", "offset": 0.0, "uncertainty": 0.0, "drift": 0.0, "probes": 0}
    lines = StatsTable().update(_stats(same, None))
    assert "clock ms" not in "\n".join(lines)
    assert lines[-2].split() == ["dev", "acq", "11", "-", "running"]
    remote = dict(same, clock_id="rig", offset=0.25001, uncertainty=0.00008)
    lines = StatsTable().update(_stats(remote, same))
    assert "clock ms" in lines[-3]
    assert lines[-2].split() == ["dev", "acq", "11", "-", "+250.010±0.080", "running"]
    assert lines[-1].split() == ["rec", "main", "12", "-", "0", "running"]

"""Recorder and Player driven over RPC in a spawned process (pyacq-style), fed over tcp."""
import numpy as np
import pytest

from acqflow import InputStream
from acqflow.rpc import ProcessSpawner
from acqflow.storage import open_recording
from acqflow.testing import wait_for
from tests.recording.common import check_recorded, make_outputs, send_chunks


@pytest.fixture(scope="module")
def proc():
    p = ProcessSpawner(name="recording-host")
    yield p
    p.stop()


def test_recorder_and_player_in_another_process(proc, tmp_path):
    path = str(tmp_path / "rec")
    recorder_mod = proc.client._import("acqflow.nodes.recorder")
    rec = recorder_mod.Recorder(name="rec")
    sig, ev = make_outputs()
    rec.configure(streams={"sig": sig.params, "ev": ev.params}, dirname=path, block_s=0.05)
    rec.initialize()
    rec.start()
    stop, ev_stop = send_chunks(sig, ev, 0, 50)
    wait_for(lambda: rec.writer.stream_stop("sig") == stop and
             rec.writer.stream_stop("ev") == ev_stop, message="recorded in the other process")
    rec.close()
    r = open_recording(path)
    assert r.committed and r["sig"].stop_index == stop
    check_recorded(r["sig"], r["ev"])

    player_mod = proc.client._import("acqflow.devices.player")
    player = player_mod.Player(name="player")
    player.configure(url=path, streams=["sig"], rate=float("inf"))
    player.outputs["sig"].configure(protocol="tcp", backpressure="block")
    player.initialize()
    inp = InputStream()
    inp.connect(player.outputs["sig"].params._get_value())
    player.start()
    got = []
    while not got or got[-1][0] < stop:
        index, data = inp.recv(timeout=10000)
        got.append((index, data.copy()))
    wait_for(lambda: player.state._get_value() == "stopped", message="end of replay")
    for index, data in got:
        np.testing.assert_array_equal(data, r["sig"][index - len(data):index])
    assert [g[:2] for g in inp.gap_log] == r["sig"].gaps
    inp.close()
    player.close()
    sig.close()
    ev.close()

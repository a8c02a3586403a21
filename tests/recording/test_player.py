"""Player device: original indexes and gaps, pacing by rate, pause/seek/resume, loop, end."""
import numpy as np
import pytest

from acqflow import InputStream
from acqflow.dataflow import get_node_type
from acqflow.devices.player import Player
from acqflow.storage import NotARecordingError, open_recording
from acqflow.testing import wait_for
from tests.recording.common import Sink
from tests.storage.source import make_recording


@pytest.fixture(scope="module")
def recording(tmp_path_factory):
    path = tmp_path_factory.mktemp("player") / "rec"
    make_recording(path, 60, block_s=0.001, block_bytes=20000)
    return path


def play(url, protocol="inproc", **kw):
    """A configured, initialized Player with a Sink on every output."""
    player = Player()
    player.configure(url=url, **kw)
    for out in player.outputs.values():
        out.configure(protocol=protocol, backpressure="block")
    player.initialize()
    return player, {n: Sink(o) for n, o in player.outputs.items()}


def finish(player, sinks):
    for s in sinks.values():
        s.close()
    player.close()


def received(sink):
    """(start, stop, data) of every chunk a sink got."""
    return [(i - len(d), i, d) for i, d, _ in sink.chunks]


def test_replays_every_chunk_with_original_indexes_and_gaps(recording):
    assert get_node_type("Player") is Player
    rec = open_recording(recording)
    player, sinks = play(recording, rate=float("inf"))
    assert set(player.outputs) == {"sig", "ev"}
    assert player.outputs["sig"].params["channel_info"] == rec["sig"].channel_info
    assert player.outputs["sig"].params["sample_rate"] == 1000.0
    ends = []
    player.end_of_recording.connect(lambda: ends.append(True))
    player.start()
    assert player.wait_end(20)
    wait_for(lambda: player.state == "stopped")
    for name, sink in sinks.items():
        stream = rec[name]
        wait_for(lambda: sink.index == stream.stop_index, message=f"{name} replayed")
        got = received(sink)
        assert [(a, b) for a, b, _ in got] == [stream.record_bounds(k)[:2]
                                               for k in range(stream.n_records)]
        for a, b, data in got:
            np.testing.assert_array_equal(data, stream[a:b])
        assert [(a, b) for a, b, cause in sink.input.gap_log] == stream.gaps
        assert all(cause == "source" for *_, cause in sink.input.gap_log)
        # each chunk carries its recorded time, not the replay's
        assert sink.input.last_sample_time == stream.record_bounds(stream.n_records - 1)[2]
    assert ends == [True] and player.stats()["ended"]
    player.stop()                                     # already stopped at the end: a no-op
    finish(player, sinks)


def test_pacing_follows_stored_timestamps_scaled_by_rate(recording):
    rec = open_recording(recording)
    sig = rec["sig"]
    k1 = 40                                           # about 2 s of recording
    t_end = sig.record_bounds(k1)[2]
    player, sinks = play(recording, rate=2.0, streams=["sig"])
    player.start()
    sink = sinks["sig"]
    wait_for(lambda: sink.index >= sig.record_bounds(k1)[1], message="2 s replayed")
    player.stop()
    stored = np.array([sig.record_bounds(k)[2] for k in range(k1 + 1)])
    got = np.array([t for _, _, t in sink.chunks[:k1 + 1]])
    span = stored[-1] - stored[0]
    assert span > 1.5 and t_end == stored[-1]
    # Replay time is stored time / rate: ~1 s for ~2 s recorded (loosely).
    assert abs((got[-1] - got[0]) - span / 2) < 0.3 * span / 2
    lag = (got - got[0]) - (stored - stored[0]) / 2
    assert np.abs(lag).max() < 0.3
    st = player.stats()
    assert st["lateness_p50"] < 0.05
    finish(player, sinks)


def test_pause_seek_resume_and_offsets(recording):
    rec = open_recording(recording)
    sig = rec["sig"]
    player, sinks = play(recording, rate=20.0)
    sink = sinks["sig"]
    player.start()
    wait_for(lambda: sink.index >= 1000, message="some replay")
    player.pause()
    assert player.paused and player.state == "running"
    sent = player.stats()["sent"]["sig"]["samples"]
    wait_for(lambda: sum(len(d) for _, d, _ in sink.chunks) == sent, message="sink caught up")
    pos = player.position
    assert player.position == pos and player.stats()["sent"]["sig"]["samples"] == sent
    n_before, head = len(sink.chunks), sink.index
    # Backward seek (by index): indexes are shifted to keep increasing, no gap appears.
    target = sig.record_bounds(3)[0] + 5
    player.seek(index=target, stream="sig")
    player.resume()
    wait_for(lambda: len(sink.chunks) > n_before + 3, message="replay after seek")
    offset = player.index_offsets["sig"]
    assert offset == head - target
    a, b, data = received(sink)[n_before]
    assert a == head and b - offset == sig.record_bounds(3)[1]
    np.testing.assert_array_equal(data, sig[target:b - offset])
    # Forward seek (by time): skipped samples show as one gap, the offset is kept.
    player.pause()
    sent = player.stats()["sent"]["sig"]["samples"]
    wait_for(lambda: sum(len(d) for _, d, _ in sink.chunks) == sent, message="sink caught up")
    gaps_before = sink.input.gaps       # read once paused: replay crosses recorded gaps
    n_mid = len(sink.chunks)
    t = sig.time_at(sig.record_bounds(50)[0])
    player.seek(t)
    player.resume()
    wait_for(lambda: len(sink.chunks) > n_mid + 1, message="replay after forward seek")
    player.pause()
    sent = player.stats()["sent"]["sig"]["samples"]
    wait_for(lambda: sum(len(d) for _, d, _ in sink.chunks) == sent, message="sink caught up")
    i = [k for k in range(n_mid, len(sink.chunks)) if sink.chunks[k][0] - offset >
         sig.record_bounds(49)[1]][0]
    a, b, data = received(sink)[i]
    assert player.index_offsets["sig"] == offset
    assert a - offset == sig.record_bounds(50)[0]
    assert sink.input.gaps == gaps_before + 1 + sum(1 for g in sig.gaps if g[0] >= a - offset
                                                    and g[1] <= sink.index - offset)
    np.testing.assert_array_equal(data, sig[a - offset:b - offset])
    player.stop()
    finish(player, sinks)


def test_loop_restart_and_end_of_stream(recording):
    rec = open_recording(recording)
    n = rec["sig"].stop_index
    player, sinks = play(recording, rate=float("inf"), loop=True, streams=["sig"])
    sink = sinks["sig"]
    player.start()
    wait_for(lambda: sink.index > 2 * n + 100, message="two loops")
    player.stop()
    chunks = received(sink)
    k = next(j for j, (a, _, _) in enumerate(chunks) if a >= n)
    assert chunks[k][0] == n                          # the second pass follows the first
    np.testing.assert_array_equal(chunks[k][2], chunks[0][2])
    assert not player.ended.is_set()
    finish(player, sinks)

    # end_of_stream closes the outputs at the end; start() after the end replays again.
    player, sinks = play(recording, rate=float("inf"), streams=["ev"], end_of_stream=False)
    player.start()
    assert player.wait_end(20)
    wait_for(lambda: sinks["ev"].index == rec["ev"].stop_index)
    player.start()
    assert player.wait_end(20)
    wait_for(lambda: sinks["ev"].index == 2 * rec["ev"].stop_index, message="second replay")
    finish(player, sinks)
    player, sinks = play(recording, rate=float("inf"), streams=["ev"], end_of_stream=True)
    out = player.outputs["ev"]
    seen = []                                 # the node's state as its output closes
    close = out.close
    out.close = lambda *a, **k: (seen.append((player.state, player.ended.is_set())),
                                 close(*a, **k))[1]
    player.start()
    wait_for(lambda: sinks["ev"].closed, message="end of stream downstream")
    # Whoever sees the end downstream sees the node stopped (CI once caught 'running').
    assert seen[0] == ("stopped", False)
    assert player.state == "stopped" and sinks["ev"].index == rec["ev"].stop_index
    assert player.wait_end(5)
    finish(player, sinks)


def test_start_time_subset_and_errors(recording, tmp_path):
    rec = open_recording(recording)
    sig = rec["sig"]
    t = sig.time_at(2000)
    player, sinks = play(recording, rate=float("inf"), streams=["sig"], start=t)
    player.start()
    assert player.wait_end(20)
    wait_for(lambda: sinks["sig"].index == sig.stop_index)
    first = received(sinks["sig"])[0]
    assert first[0] == 2000 and list(player.outputs) == ["sig"]
    finish(player, sinks)
    with pytest.raises(NotARecordingError):
        Player().configure(url=tmp_path)
    with pytest.raises(ValueError, match="no stream"):
        Player().configure(url=recording, streams=["nope"])
    with pytest.raises(ValueError, match="rate"):
        Player().configure(url=recording, rate=0)


def test_close_does_not_hang_on_a_stalled_blocking_reader(recording):
    """A 'block' output whose reader stopped reading holds the replay thread in send();
    close() still returns (closing the outputs releases it) and the thread ends."""
    player = Player()
    player.configure(url=recording, rate=float("inf"), streams=["sig"])
    player.outputs["sig"].configure(protocol="inproc", backpressure="block", hwm=1)
    player.initialize()
    stalled = InputStream()
    stalled.connect(player.outputs["sig"])
    player.start()
    wait_for(lambda: player.stats()["sent"].get("sig", {}).get("chunks", 0) >= 1)
    thread = player._thread
    player.close()
    assert player.state == "closed" and not thread.is_alive()
    stalled.close()


def test_the_run_table_shows_a_normal_end_as_ended_not_an_error(recording):
    """The table of `acqflow run` (StatsTable over a NodeGroup's stats) says 'ended' once a
    Player reached the end of its recording: never 'error', nor a bare 'stopped'."""
    from acqflow.dataflow import NodeGroup
    from acqflow.manager.console import StatsTable

    group = NodeGroup("replay")
    player = group.create_node("Player", "pl")
    player.configure(url=recording, rate=float("inf"), streams=["ev"])
    player.outputs["ev"].configure(protocol="inproc")
    player.initialize()

    def row():
        stats = {"time": 0.0, "groups": {"replay": {"state": "running", "pid": 1, **group.stats()}}}
        return [line for line in StatsTable().update(stats) if line.startswith("pl ")][0]

    assert row().endswith("initialized")
    player.start()
    assert player.wait_end(20)
    wait_for(lambda: player.state == "stopped")
    assert row().endswith("  ended") and "error" not in row()
    player.stop()                     # a no-op after the end: still a normal end
    assert row().endswith("  ended")
    player.start()                    # replays again: no longer 'ended' while it runs
    assert player.wait_end(20)
    group.close()


def test_pause_returns_once_nothing_more_is_sent(recording):
    """After pause() returns, stats() counts every chunk sent: none is still in flight."""
    player, sinks = play(recording, rate=float("inf"))
    sink = sinks["sig"]
    player.start()
    for _ in range(20):
        wait_for(lambda: sink.chunks, message="replay under way")
        player.pause()
        sent = player.stats()["sent"]["sig"]["samples"]
        wait_for(lambda: sum(len(d) for _, d, _ in sink.chunks) >= sent, message="sink caught up")
        assert player.stats()["sent"]["sig"]["samples"] == sent
        if player.ended.is_set():
            break
        player.resume()
    player.stop()
    finish(player, sinks)

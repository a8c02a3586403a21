"""Player and CLI on a recording in a real S3 server (moto on 127.0.0.1), through the LocalCache."""
import numpy as np
import pytest

from acqflow.devices.player import Player
from acqflow.storage import LocalCache, open_recording
from acqflow.testing import wait_for
from tests.recording.common import Sink
from tests.storage.source import make_remote_recording

pytest.importorskip("s3fs")


@pytest.fixture(scope="module")
def remote(s3, tmp_path_factory):
    local = tmp_path_factory.mktemp("s3rec") / "rec"
    url, options = make_remote_recording(s3, local, "player-sessions/rec", 60, block_s=0.001,
                                         block_bytes=8000, segment_bytes=40000)
    return url, options, local


def replay_all(url, options, cache):
    player = Player()
    player.configure(url=url, rate=float("inf"), storage_options=options, cache=cache)
    for out in player.outputs.values():
        out.configure(protocol="inproc", backpressure="block")
    player.initialize()
    sinks = {n: Sink(o) for n, o in player.outputs.items()}
    player.start()
    assert player.wait_end(30)
    return player, sinks


def test_player_replays_s3_recording_through_local_cache(remote, tmp_path):
    url, options, local = remote
    ref = open_recording(local)
    cache_dir = tmp_path / "cache"
    player, sinks = replay_all(url, options, {"cache_dir": str(cache_dir), "max_bytes": 64 << 20})
    for name, sink in sinks.items():
        wait_for(lambda: sink.index == ref[name].stop_index, message=f"{name} replayed")
        for i, data, _ in sink.chunks:
            np.testing.assert_array_equal(data, ref[name][i - len(data):i])
        assert [g[:2] for g in sink.input.gap_log] == ref[name].gaps
        sink.close()
    stats = player.recording.backend.cache.stats()
    assert stats["misses"] > 0 and stats["hits"] == 0
    player.close()
    # A second replay is served from the disk cache.
    cache = LocalCache(cache_dir, max_bytes=64 << 20)
    player, sinks = replay_all(url, options, cache)
    wait_for(lambda: sinks["sig"].index == ref["sig"].stop_index)
    assert cache.stats()["hits"] > 0 and cache.stats()["misses"] == 0
    for sink in sinks.values():
        sink.close()
    player.close()

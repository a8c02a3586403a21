"""Every stats() returns a frozen dataclass (a Stats), readable as a mapping, sent as its plain dict."""
from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest

from acqflow.dataflow import InputStream, OutputStream
from acqflow.dataflow.stats import InputStats, Stats
from acqflow.rpc import JsonSerializer, MsgpackSerializer
from acqflow.storage import RecordingWriter
from acqflow.storage.stats import StreamStats, WriterStats


def test_input_stats_is_frozen_typed_and_reads_as_a_mapping():
    out = OutputStream()
    out.configure(dtype="float32", shape=(-1, 2))
    inp = InputStream()
    inp.connect(out)
    out.send(np.zeros((5, 2), "float32"))
    inp.recv(timeout=5000)
    st = inp.stats()
    assert isinstance(st, InputStats) and st.samples == st["samples"] == 5 and st.chunks == 1
    with pytest.raises(dataclasses.FrozenInstanceError):
        st.samples = 0
    assert set(st) == {f.name for f in dataclasses.fields(InputStats)} and len(st) == 10
    assert st.get("nope") is None and "latency_p50" in st
    assert json.loads(json.dumps(st.as_dict())) == dict(st)
    inp.close()
    out.close()


def test_writer_stats_nest_and_go_to_plain_dicts(tmp_path):
    with RecordingWriter(tmp_path / "rec") as w:
        w.add_stream("sig", {"dtype": "float32", "shape": (-1, 2), "sample_rate": 100.0})
        w.write("sig", np.zeros((10, 2), "float32"), 10)
    st = w.stats()
    assert isinstance(st, WriterStats) and isinstance(st.streams["sig"], StreamStats)
    assert st.streams["sig"].samples == st["streams"]["sig"]["samples"] == 10
    plain = st.as_dict()
    assert type(plain["streams"]["sig"]) is dict and json.loads(json.dumps(plain)) == plain


@pytest.mark.parametrize("serializer", [MsgpackSerializer, JsonSerializer])
def test_stats_travel_over_rpc_as_their_plain_dict(serializer):
    """A remote stats() arrives as the dict: the same reads work on both sides."""
    st = InputStats(chunks=1, samples=5, dropped=0, gaps=0, index=5, malformed=0, stale=0,
                    stream_changes=0, latency_p50=0.001, latency_p99=None)
    ser = serializer()
    frames = ser.dumps({"reply": st})
    back = ser.loads(frames[0], frames[1:])["reply"]
    assert back == st.as_dict() and back["samples"] == st["samples"]


def test_every_stats_method_returns_a_stats():
    from acqflow.dataflow.nodegroup import NodeGroup
    from acqflow.devices.player import Player
    from acqflow.manager.manager import Manager
    from acqflow.nodes.recorder import Recorder
    from acqflow.storage.cache import LocalCache
    from acqflow.storage.writer import RecordingWriter
    for cls in (InputStream, NodeGroup, Manager, Recorder, LocalCache, Player, RecordingWriter):
        assert callable(cls.stats), cls                         # a method, not a property
        ret = cls.stats.__annotations__["return"]
        assert ret.endswith("Stats"), (cls, ret)
    assert issubclass(InputStats, Stats)

"""Processing nodes in a graph file's node groups: built by the manager, across processes."""
import numpy as np
import pytest

from acqflow import InputStream
from acqflow.dataflow.graph.graphspec import GraphSpec
from acqflow.manager import Manager
from acqflow.manager.build import build_graph

pytestmark = pytest.mark.timeout(120)

GRAPH = {
    "imports": ["acqflow.nodes"],
    "groups": {"acq": {}, "proc": {}},
    "nodes": {
        "src": {"type": "SyntheticSignal", "group": "acq",
                "params": {"channels": 3, "sample_rate": 2000.0, "chunksize": 50,
                           "waveform": "sine", "frequencies": [5.0, 300.0, 5.0]}},
        "filt": {"type": "SosFilter", "group": "proc",
                 "params": {"btype": "lowpass", "freq": 40.0, "init": "steady"}},
        "split": {"type": "ChannelSplitter", "group": "proc",
                  "params": {"output_channels": {"slow": [0, 2], "fast": [1]}}},
        "dec": {"type": "Decimate", "group": "proc", "params": {"factor": 10}},
    },
    "connections": [
        {"from": "src.signals", "to": "filt.input"},
        {"from": "filt.output", "to": "split.input", "params": {"transfermode": "sharedmem"},
         "spin": 0.5},
        {"from": "split.slow", "to": "dec.input"},
    ],
}


def test_graph_of_processing_nodes_runs_across_processes():
    spec = GraphSpec.from_dict(GRAPH)
    with Manager(heartbeat=0.5) as manager:
        build_graph(spec, manager)
        assert manager.node("split").inputs["input"].spin == 0.5     # the connection's spin:
        assert manager.node("dec").inputs["input"].spin == 0.0
        sink = InputStream(name="sink")
        sink.connect(manager.node("dec").outputs["output"])
        assert sink.params["sample_rate"] == 200.0 and sink.params["shape"] == (-1, 2)
        manager.start_all()
        chunks, index = [], 0
        while index < 200:                          # one second at 200 Hz
            index, data = sink.recv(timeout=10000)
            chunks.append(np.array(data))
        out = np.concatenate(chunks)
        assert out.shape[1] == 2 and (sink.gaps, sink.dropped) == (0, 0)
        np.testing.assert_allclose(out[:, 0], out[:, 1], atol=1e-6)     # channels 0 and 2
        assert np.abs(out[50:, 0]).max() > 0.5                           # 5 Hz passes
        manager.stop_all()
        sink.close()

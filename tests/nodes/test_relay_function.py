"""Relay nodes (StreamConverter, ChannelSplitter, ChunkResizer) and Function / Expression nodes."""
import numpy as np
import pytest

import acqflow
from acqflow.nodes import (ChannelSplitterNode, ChunkResizerNode, Expression, Function,
                           StreamConverterNode)
from acqflow.testing import wait_for
from tests.nodes.util import Pipeline, Sink, source


def ramp(start, n, ch=3):
    return (np.arange(start, start + n)[:, None] * 10 + np.arange(ch)).astype("float32")


def test_registered_under_the_helper_names():
    assert acqflow.get_node_type("ChannelSplitter") is ChannelSplitterNode
    assert acqflow.get_node_type("StreamConverter") is StreamConverterNode
    assert acqflow.get_node_type("ChunkResizer") is ChunkResizerNode


def test_channel_splitter_node():
    src = source(dtype="float32", shape=(-1, 3), sample_rate=100.0,
                 channel_info=[{"name": n} for n in "xyz"])
    node = ChannelSplitterNode(name="split")
    node.configure(output_channels={"left": [0], "right": [2, 1]}, protocol="inproc")
    node.input.connect(src)
    assert set(node.outputs) == {"left", "right"}
    node.initialize()                           # configures the outputs from their spec
    assert node.outputs["right"].params["channel_info"] == [{"name": "z"}, {"name": "y"}]
    assert node.outputs["left"].params["protocol"] == "inproc"
    left, right = Sink(node.outputs["left"]), Sink(node.outputs["right"])
    node.start()
    src.send(ramp(0, 5))
    src.send(ramp(8, 4), index=12)                 # a gap passes through
    right.wait_index(12)
    left.wait_index(12)
    assert [i for i, _ in right.chunks] == [5, 12] and right.input.gaps == 1
    np.testing.assert_array_equal(right.data(), np.concatenate([ramp(0, 5), ramp(8, 4)])[:, [2, 1]])
    np.testing.assert_array_equal(left.data()[:, 0], np.r_[0:50:10, 80:120:10])
    for obj in (node, src, left, right):
        obj.close()


def test_channel_splitter_refuses_bad_channels_at_connect():
    src = source(dtype="float32", shape=(-1, 3))
    node = ChannelSplitterNode(name="split")
    node.configure(output_channels={"a": [0, 7]})
    with pytest.raises(ValueError, match=r"node 'split': output 'a' channels \[7\]"):
        node.input.connect(src)
    assert not node.input.connected
    video = source(streamtype="video", shape=(-1, 2, 2, 3))
    with pytest.raises(ValueError, match=r"node 'split' input 'input': shape \(-1, 2, 2, 3\)"):
        node.input.connect(video)
    for obj in (node, src, video):
        obj.close()


def test_stream_converter_and_chunk_resizer_nodes_in_a_chain():
    src = source(dtype="float32", shape=(-1, 3), sample_rate=100.0)
    conv = StreamConverterNode(name="conv")
    conv.input.connect(src)                     # connect first, configure after: both orders work
    conv.configure(dtype="float64", transfermode="sharedmem", buffer_size=1000)
    conv.output.configure(protocol="inproc")    # as a graph file's output params do
    assert conv.output.params["dtype"] == "<f8" and conv.output.params["transfermode"] == "sharedmem"
    conv.initialize()
    rs = ChunkResizerNode(name="rs")
    rs.configure(chunksize=4, protocol="inproc")
    rs.input.connect(conv.output)
    rs.initialize()
    sink = Sink(rs.output)
    rs.start()
    conv.start()
    for k in range(0, 10, 3):
        src.send(ramp(k, min(3, 10 - k)))
    sink.wait_index(8)
    assert [i for i, _ in sink.chunks] == [4, 8]
    np.testing.assert_array_equal(sink.data(), ramp(0, 8).astype("float64"))
    for obj in (rs, conv, src, sink):
        obj.close()
    assert rs.state == conv.state == "closed"


def test_function_node_derives_output_params():
    p = Pipeline(Function(name="fn"), dict(dtype="int16", shape=(-1, 4), sample_rate=10.0),
                 func=lambda x: x[:, :2].astype("float64") * 0.5)
    params = p.node.output.params
    assert params["dtype"] == "<f8" and params["shape"] == (-1, 2) and params["sample_rate"] == 10.0
    x = np.arange(40, dtype="int16").reshape(10, 4)
    p.send(x[:3])
    p.send(x[3:])
    p.sink.wait_index(10)
    np.testing.assert_array_equal(p.sink.data(), x[:, :2] * 0.5)
    p.close()


def test_expression_node_and_errors():
    p = Pipeline(Expression(name="ex"), dict(dtype="float32", shape=(-1, 2)),
                 expr="np.abs(x) * 2")
    p.send(np.array([[-1, 2], [3, -4]], "float32"))
    p.sink.wait_index(2)
    np.testing.assert_array_equal(p.sink.data(), [[2, 4], [6, 8]])
    p.close()
    with pytest.raises(ValueError, match="not a valid expression"):
        Expression().configure(expr="x +")
    with pytest.raises(TypeError, match="func must be a callable"):
        Function().configure(func=3)
    node = Function(name="sum")
    node.configure(func=lambda x: x.sum(axis=0, keepdims=True))
    src = source(dtype="float32", shape=(-1, 2))
    with pytest.raises(ValueError, match=r"node 'sum': func must keep the number of samples"):
        node.input.connect(src)
    node.configure(func=lambda x: undefined)  # noqa: F821
    with pytest.raises(ValueError, match=r"node 'sum': func raised NameError"):
        node.input.connect(src)
    src.close()
    node.close()


def test_function_that_changes_length_at_run_time_puts_the_node_in_error():
    def func(x):
        return x if len(x) == 2 else x[:1]       # fine on the 2-sample probe only
    p = Pipeline(Function(name="bad"), dict(dtype="float32", shape=(-1, 1)), func=func)
    p.send(np.zeros((3, 1), "float32"))
    wait_for(lambda: p.node.state == "error")
    assert "func returned 1 samples for a chunk of 3" in p.node.error_reason
    p.close()

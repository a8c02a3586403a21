"""Node life-cycle, state errors, restart with absolute indexes, registry, ProcessingNode."""
import sys

import numpy as np
import pytest

import acqflow
from acqflow import InputStream, Node, NodeStateError, OutputStream, ProcessingNode
from acqflow.dataflow.graph import registry


class Gain(ProcessingNode):
    """The docs' example: a whole filter node in a few lines."""

    def _configure(self, gain=2.0):
        self.gain = gain

    def process(self, index, data):
        return data * self.gain


def source():
    out = OutputStream(name="src")
    out.configure(dtype="float32", shape=(-1, 2), sample_rate=100.0, channel_info=["a", "b"])
    return out


def test_processing_node_end_to_end_and_restart_keeps_indexes():
    src = source()
    node = Gain(name="gain")
    node.configure(gain=3.0)
    node.input.connect(src)
    node.output.configure(protocol="inproc")           # the rest comes from the input
    assert node.output.params["channel_info"] == ["a", "b"]
    assert node.output.params["sample_rate"] == 100.0
    node.initialize()
    sink = InputStream()
    sink.connect(node.output)
    node.start()
    src.send(np.ones((4, 2), "float32"))
    index, data = sink.recv(timeout=5000)
    assert index == 4 and data.tolist() == [[3.0, 3.0]] * 4
    node.stop()
    node.start()                                        # restart: indexes continue
    src.send(np.ones((2, 2), "float32"))
    assert sink.recv(timeout=5000)[0] == 6
    assert (sink.gaps, sink.dropped) == (0, 0)
    node.close()
    src.close()
    sink.close()
    assert node.state == "closed"


def test_wrong_state_errors_name_the_state():
    node = Gain(name="g")
    with pytest.raises(NodeStateError, match=r"cannot start\(\) node 'g' in state 'new'"):
        node.start()
    node.configure(gain=1.0)
    with pytest.raises(NodeStateError, match=r"input\(s\) input not connected"):
        node.initialize()
    with pytest.raises(NodeStateError, match=r"cannot stop\(\) node 'g' in state 'configured'"):
        node.stop()
    node.close()
    with pytest.raises(NodeStateError, match="state 'closed'"):
        node.configure()


def test_bad_parameter_keeps_state_and_worker_error_moves_to_error():
    class Broken(ProcessingNode):
        def process(self, index, data):
            raise RuntimeError("boom")

    with pytest.raises(TypeError, match="takes no parameter 'gain'"):
        Broken().configure(gain=2)
    src = source()
    node = Broken(name="broken")
    node.configure()
    assert node.state == "configured"
    node.input.connect(src)
    node.initialize()
    node.start()
    src.send(np.ones((1, 2), "float32"))
    node._poller.join(10)
    assert node.state == "error" and "boom" in node.error_reason
    with pytest.raises(NodeStateError, match="state 'error'.*boom"):
        node.start()
    node.close()
    src.close()


def test_input_output_shortcuts():
    class TwoOut(Node):
        _output_specs = {"a": {}, "b": {}}
    with pytest.raises(AttributeError, match=r"has 2 outputs \(a, b\); use .outputs\[name\]"):
        TwoOut().output
    with pytest.raises(AttributeError, match="has 0 inputs"):
        TwoOut().input


def test_registry():
    acqflow.register_node_type(Gain)
    assert acqflow.get_node_type("Gain") is Gain
    assert "Gain" in acqflow.node_types()
    with pytest.raises(KeyError, match="unknown node type 'Nope'; known types: .*Gain"):
        acqflow.get_node_type("Nope")
    with pytest.raises(TypeError, match="not a Node subclass"):
        acqflow.register_node_type(int)

    class Other(Node):
        pass
    with pytest.raises(ValueError, match="already registered"):
        acqflow.register_node_type(Other, "Gain")
    registry._types.pop("Gain")


def test_entry_point_node_types(tmp_path, monkeypatch):
    """Another package adds a node type through the acqflow.nodes entry point group."""
    (tmp_path / "thirdparty_nodes.py").write_text(
        "import acqflow\nclass Thermometer(acqflow.Node):\n    _output_specs = {'temp': {}}\n")
    dist = tmp_path / "thirdparty_nodes-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: thirdparty-nodes\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text(
        "[acqflow.nodes]\nThermometer = thirdparty_nodes:Thermometer\n"
        "Broken = thirdparty_missing_module:Broken\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(registry, "_entry_points", None)
    assert "Broken" in acqflow.node_type_names()
    assert "thirdparty_nodes" not in sys.modules   # names are known without importing
    cls = acqflow.get_node_type("Thermometer")
    assert cls.__module__ == "thirdparty_nodes" and "temp" in cls().outputs
    with pytest.raises(ImportError, match="'Broken' .*thirdparty_missing_module.*extra"):
        acqflow.get_node_type("Broken")
    assert "Broken" not in acqflow.node_types()   # logged and left out, the rest still load
    registry._types.pop("Thermometer")


def test_output_params_name_their_own_node_not_the_upstream_one():
    """Regression: a filter's output inherited 'node' from its input's params."""
    src = source()
    node = Gain(name="gain")
    node.configure()
    node.input.connect(src)
    node.initialize()
    assert (node.output.params["node"], node.output.params["name"]) == ("gain", "output")
    node.close()
    src.close()


def test_refused_connection_leaves_the_input_unconnected():
    """Regression: when after_input_connect refused the stream the input stayed connected."""
    class Picky(ProcessingNode):
        def after_input_connect(self, inputname):
            if self.inputs[inputname].params["sample_rate"] != 1000.0:
                raise ValueError(f"{self.name}: needs 1000 Hz")

        def process(self, index, data):
            return data
    node = Picky(name="picky")
    node.configure()
    src = source()   # 100 Hz
    with pytest.raises(ValueError, match="needs 1000 Hz"):
        node.input.connect(src)
    assert not node.input.connected
    good = OutputStream(name="good")
    good.configure(dtype="float32", shape=(-1, 2), sample_rate=1000.0)
    node.input.connect(good)      # connecting again works
    assert node.input.connected
    node.close()
    src.close()
    good.close()


def test_an_input_reports_its_connection_only_to_its_on_connect():
    """Connecting is one-way: an input never calls up into the node it names; the node's
    ports hand it the callback, and a refusal leaves it to the input to close itself."""
    class Owner:
        name = "owner"

        def after_input_connect(self, inputname):
            raise AssertionError("the input called up into its node")
    src = source()
    inp = InputStream(node=Owner(), name="x")
    seen = []
    inp.on_connect = seen.append
    inp.connect(src)
    assert seen == [inp] and inp.connected
    inp.close()
    node = Gain(name="gain")
    node.inputs["extra"] = InputStream(node=node, name="other")   # wired by the ports
    calls = []
    node.after_input_connect = calls.append
    node.inputs["extra"].connect(src)
    assert calls == ["extra"]
    node.close()
    src.close()


def test_spec_mismatch_names_the_node_and_port():
    class Analog(ProcessingNode):
        _input_specs = {"input": {"streamtype": "analogsignal"}}

        def process(self, index, data):
            return data
    node = Analog(name="filt")
    node.configure()
    cam = OutputStream(name="frames")
    cam.configure(streamtype="video", shape=(-1, 4, 4, 3))
    with pytest.raises(ValueError, match="input filt.input") as err:
        node.input.connect(cam)
    assert "output frames" in str(err.value)
    node.close()
    cam.close()


CTRL_C_IN_CLOSE = r"""
import os, signal, threading
import numpy as np
from acqflow import InputStream, OutputStream, ProcessingNode

class Slow(ProcessingNode):
    def process(self, index, data):
        return data

    def _stop(self):                      # Ctrl-C arrives while close() stops the worker
        os.kill(os.getpid(), signal.SIGINT)
        super()._stop()

src = OutputStream(name="src")
src.configure(protocol="inproc", dtype="float32", shape=(-1, 2))
node = Slow(name="slow")
node.configure()
node.input.connect(src)
node.output.configure(protocol="inproc")
node.initialize()
sink = InputStream()
sink.connect(node.output)
node.start()
src.send(np.zeros((5, 2), "float32"))
sink.recv(timeout=5000)
try:
    node.close()
except KeyboardInterrupt:
    workers = [t.name for t in threading.enumerate() if t.name.endswith("worker")]
    print("interrupted after close:", node.state, workers, flush=True)
src.close()
sink.close()
"""


def test_ctrl_c_during_close_is_raised_after_the_close():
    """Regression: a KeyboardInterrupt inside close() (before the worker was joined) left
    the worker polling an input close() then closed: libzmq aborted the process."""
    import subprocess
    result = subprocess.run([sys.executable, "-c", CTRL_C_IN_CLOSE], capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.strip() == "interrupted after close: closed []", result.stderr[-3000:]


def test_a_node_group_warms_only_modules_not_imported_yet(tmp_path, monkeypatch):
    """NodeGroup.create_node imports a node's warm_imports in a thread, once: not again for
    modules already imported (under `acqflow run` the group's process preloads them)."""
    import threading

    from acqflow.dataflow.graph.nodegroup import NodeGroup
    from acqflow.testing import wait_for
    (tmp_path / "warm_probe_mod.py").write_text("import threading\nBY = threading.current_thread().name\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "warm_probe_mod", raising=False)

    class Warm(Node):
        warm_imports = ("warm_probe_mod",)
    acqflow.register_node_type(Warm)
    started: list[str] = []

    def tracer(*args):         # threading sets it first thing in every thread it starts
        sys.settrace(None)
        started.append(threading.current_thread().name)
    threading.settrace(tracer)
    try:
        group = NodeGroup("warm")
        group.create_node("Warm", "w1")
        module = wait_for(lambda: getattr(sys.modules.get("warm_probe_mod"), "BY", None) and
                          sys.modules["warm_probe_mod"], message="the warm import")  # in sys.modules before BY is set
        assert module.BY == "acqflow-warm-imports"
        assert started.count("acqflow-warm-imports") == 1
        group.create_node("Warm", "w2")           # imported already: no thread
        assert started.count("acqflow-warm-imports") == 1
    finally:
        threading.settrace(None)
        registry._types.pop("Warm")

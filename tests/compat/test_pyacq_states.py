"""State flags: attributes on acqflow's nodes (as on its streams), pyacq's methods on every
pyacq-named node (``node.running()``), so pyacq code runs unchanged."""
import importlib

import numpy as np

import acqflow
from acqflow.dataflow.graph.registry import node_types

FLAGS = ("configured", "initialized", "running", "closed")


def all_types():
    """Every registered node type and every node class the pyacq modules export."""
    types = {}
    for name in ("pyacq.core", "pyacq.devices", "pyacq.dsp", "pyacq.rec", "pyacq.viewers",
                 "pyacq.dsp.sosfilter", "pyacq.dsp.overlapfiltfilt", "pyacq.dsp.trigger",
                 "acqflow.nodes", "acqflow.devices", "acqflow.viewers"):
        module = importlib.import_module(name)
        for attr in getattr(module, "__all__", []):
            value = getattr(module, attr)
            if isinstance(value, type) and issubclass(value, acqflow.Node):
                types[f"{value.__module__}.{value.__name__}"] = value
    types.update(node_types())
    return types


def is_pyacq(cls):
    return cls.__module__.startswith("acqflow.compat.pyacq")


def test_pyacq_named_nodes_keep_pyacqs_methods_and_acqflows_have_attributes():
    import pyqtgraph as pg
    pg.mkQApp()                          # WidgetNode is a QWidget
    types = all_types()
    pyacq_types = [c for c in types.values() if is_pyacq(c)]
    assert len(pyacq_types) >= 10
    for cls in types.values():
        node = cls()
        for flag in FLAGS:
            value = getattr(node, flag)
            if is_pyacq(cls):
                assert callable(value) and value() in (False, True), (cls, flag)
            else:
                assert value in (False, True), (cls, flag)
        node.close()


def test_acqflow_node_flags_follow_the_life_cycle():
    src = acqflow.OutputStream()
    src.configure(protocol="inproc", dtype="float32", shape=(-1, 2), sample_rate=100.0)
    node = node_types()["SosFilter"](name="f")
    seen = [tuple(getattr(node, f) for f in FLAGS)]
    node.configure(btype="lowpass", freq=10.0)
    node.input.connect(src)
    node.output.configure(protocol="inproc")
    seen.append(tuple(getattr(node, f) for f in FLAGS))
    node.initialize()
    seen.append(tuple(getattr(node, f) for f in FLAGS))
    node.start()
    seen.append(tuple(getattr(node, f) for f in FLAGS))
    node.close()
    seen.append(tuple(getattr(node, f) for f in FLAGS))
    src.close()
    assert seen == [(False, False, False, False), (True, False, False, False),
                    (True, True, False, False), (True, True, True, False),
                    (False, False, False, True)]
    assert src.configured is False and node.output.configured is False     # streams alike


def test_a_pyacq_dsp_node_answers_pyacqs_calls_through_its_life_cycle():
    import pyacq
    from pyacq.dsp.sosfilter import SosFilter
    dev = pyacq.NumpyDeviceBuffer()
    dev.configure(nb_channel=2, sample_interval=0.001, chunksize=10,
                  buffer=np.zeros((100, 2), "float32"))
    dev.output.configure(protocol="inproc", transfermode="plaindata")
    dev.initialize()
    filt = SosFilter()
    filt.configure(coefficients=np.array([[1, 0, 0, 1, 0, 0]], "float64"))
    filt.input.connect(dev.output)
    filt.output.configure(protocol="inproc", transfermode="plaindata")
    filt.initialize()
    assert (filt.configured(), filt.initialized(), filt.running(), filt.closed()) == \
        (True, True, False, False)
    filt.start()
    assert filt.running()
    filt.stop()
    filt.close()
    dev.close()
    assert filt.closed() and dev.closed() and not dev.running()

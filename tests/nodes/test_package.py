"""Package rules: registration, a light import, graph checks."""
import pytest

import acqflow
import acqflow.nodes
from acqflow.testing import loaded_after_import

TYPES = {"SosFilter", "OverlapFiltfilt", "Decimate", "Resample", "AnalogTrigger", "DigitalTrigger",
         "Epocher", "TimeFrequency", "ChannelSplitter", "StreamConverter", "ChunkResizer", "Function",
         "Expression", "ColorConvert", "Resize", "Crop", "Blur", "FrameDiff", "MotionEnergy"}


def test_every_node_type_is_registered_and_exported():
    types = acqflow.node_types()
    assert TYPES <= set(types)
    for name in TYPES:
        cls = types[name]
        # the relays are dataflow's processing nodes, registered by their entry points
        assert cls.__module__.startswith(("acqflow.nodes.", "acqflow.dataflow.graph.relays"))
        assert getattr(acqflow.nodes, cls.__name__) is cls
        assert cls.__doc__ and cls.__doc__.strip()


def test_import_is_light():
    """Importing the nodes loads no OpenCV, Qt or viewers (layering itself: tests/test_lint.py)."""
    assert loaded_after_import("acqflow.nodes", ["cv2", "PyQt5", "pyqtgraph", "acqflow.viewers"]) == []


def test_graph_files_check_node_ports_and_stream_types():
    from acqflow.dataflow.graph.graphspec import GraphError, GraphSpec
    good = {"nodes": {"src": {"type": "SyntheticSignal"},
                      "filt": {"type": "SosFilter", "params": {"btype": "lowpass", "freq": 40}},
                      "trig": {"type": "AnalogTrigger", "params": {"threshold": 0.5}},
                      "epo": {"type": "Epocher"}},
            "connections": [{"from": "src.signals", "to": "filt.input"},
                            {"from": "filt.output", "to": "trig.input"},
                            {"from": "filt.output", "to": "epo.signal"},
                            {"from": "trig.output", "to": "epo.events"}]}
    assert GraphSpec.from_dict(good).order()[-1] == "epo"
    bad = {"nodes": {"src": {"type": "SyntheticSignal"},
                     "trig": {"type": "AnalogTrigger"}, "filt": {"type": "SosFilter"}},
           "connections": [{"from": "src.signals", "to": "trig.input"},
                           {"from": "trig.output", "to": "filt.input"}]}
    with pytest.raises(GraphError, match=r"input filt.input requires 'analogsignal', output trig.output "
                                         r"gives 'event'"):
        GraphSpec.from_dict(bad)

"""Every registered node type's configure() has real keyword parameters (help(), IDEs),
and a node's configure keeps taking keywords through an RPC proxy."""
import importlib
import inspect
import os
import pydoc

import pytest

from acqflow.dataflow.graph.registry import node_types

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

# node types whose configure() truly forwards arbitrary keywords, and why
OPEN_ENDED = {
    "StreamConverter": "its keywords are the output's stream params (protocol, dtype, ... and free metadata)",
    "ChannelSplitter": "output_channels, then the outputs' stream params",
    "ChunkResizer": "chunksize, then the output's stream params",
    "BrainFlowBoard": "BrainFlowInputParams fields (serial_port, ip_address, ...): the set the "
                      "installed BrainFlow defines, checked against it",
}
MODULES = ["acqflow.nodes", "acqflow.devices", "acqflow.viewers", "acqflow.lsl",
           "acqflow.bench.soaknodes"]
PYACQ = ["pyacq", "pyacq.devices", "pyacq.dsp", "pyacq.rec", "pyacq.viewers"]


def all_node_types() -> dict[str, type]:
    for name in MODULES:
        importlib.import_module(name)
    from acqflow.compat import pyacq
    pyacq.install()
    for name in PYACQ:
        importlib.import_module(name)
    return node_types()


TYPES = all_node_types()


def test_the_registry_holds_every_family():
    for name in ("SosFilter", "SyntheticSignal", "Oscilloscope", "Recorder", "QOscilloscope",
                 "NumpyDeviceBuffer", "RawRecorder", "StreamConverter"):
        assert name in TYPES


@pytest.mark.parametrize("name", sorted(TYPES))
def test_configure_has_real_parameters(name):
    cls = TYPES[name]
    sig = inspect.signature(cls.configure)
    kinds = [p.kind for p in sig.parameters.values()]
    assert (inspect.Parameter.VAR_KEYWORD in kinds) == (name in OPEN_ENDED), sig
    text = pydoc.render_doc(cls.configure, renderer=pydoc.plaintext)
    for pname in list(sig.parameters)[1:]:
        assert pname in text
    if len(sig.parameters) == 1:                 # takes nothing: still documented
        assert "parameters" in text.lower()


def test_unknown_keyword_names_it_for_every_closed_node_type():
    for name, cls in TYPES.items():
        if name in OPEN_ENDED:
            continue
        with pytest.raises(TypeError, match=r"'no_such_param'.*\(parameters: ") as info:
            cls().configure(no_such_param=1)
        assert "\n" not in str(info.value)


@pytest.mark.timeout(60)
def test_configure_through_an_rpc_proxy_takes_keywords():
    from acqflow.rpc import ProcessSpawner, RemoteCallError
    proc = ProcessSpawner(name="configure-signature")
    try:
        filters = proc.client._import("acqflow.nodes.filters")
        node = filters.SosFilter(name="remote")
        node.configure(btype="lowpass", freq=10.0, order=2)
        assert node.config._get_value() == {"btype": "lowpass", "freq": 10.0, "order": 2}
        with pytest.raises(RemoteCallError, match="SosFilter.configure\\(\\) takes no parameter 'frq'"):
            node.configure(frq=10.0)
        assert node.state._get_value() == "configured"
        node.close()
    finally:
        proc.stop()

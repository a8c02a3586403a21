"""A misspelt stream param is an error with "did you mean"; other free metadata names pass."""
import pytest

from acqflow import OutputStream
from acqflow.dataflow.graph.graphspec import GraphError, GraphSpec

GRAPH = {"nodes": {"gen": {"type": "SyntheticSignal"},
                   "twice": {"type": "Expression", "params": {"expr": "x * 2"}}},
         "connections": [{"from": "gen.signals", "to": "twice.input"}]}


@pytest.mark.parametrize("key, meant", [("transfermod", "transfermode"), ("samplerate", "sample_rate"),
                                        ("protocl", "protocol"), ("backpresure", "backpressure")])
def test_output_configure_refuses_a_misspelt_param(key, meant):
    out = OutputStream()
    with pytest.raises(ValueError, match=f"unknown stream param '{key}' \\(did you mean '{meant}'\\?\\)"):
        out.configure(protocol="inproc", **{key: "x"})
    assert not out.configured


def test_free_metadata_not_close_to_a_param_travels():
    out = OutputStream()
    out.configure(protocol="inproc", subject="S01", source_id="amp-1", electrode_layout="10-20",
                  type="EEG", transfertmode="plaindata")     # pyacq's examples pass transfertmode
    try:
        assert out.params["subject"] == "S01" and out.params["source_id"] == "amp-1"
    finally:
        out.close()


@pytest.mark.parametrize("where", ["connection", "output"])
def test_graph_files_refuse_a_misspelt_stream_param(where):
    data = {**GRAPH, "connections": [dict(GRAPH["connections"][0])],
            "nodes": {k: dict(v) for k, v in GRAPH["nodes"].items()}}
    params = {"transfermod": "sharedmem", "experimenter": "me"}
    if where == "connection":
        data["connections"][0]["params"] = params
    else:
        data["nodes"]["gen"]["outputs"] = {"signals": params}
    with pytest.raises(GraphError) as info:
        GraphSpec.from_dict(data)
    text = str(info.value)
    assert "unknown stream param 'transfermod' (did you mean 'transfermode'?)" in text
    assert "experimenter" not in text

"""`acqflow run --check` configures each node by its own code (nothing opened) and checks
recorder inputs and what depends on upstream rates."""
import pytest

from acqflow.dataflow.graph import GraphError, GraphSpec
from acqflow.manager.check import check_graph

GEN = {"type": "SyntheticSignal", "params": {"channels": 2, "sample_rate": 1000.0}}


def problems(data: dict) -> list[str]:
    return check_graph(GraphSpec.from_dict(data, run_imports=False))


def test_a_connection_to_an_input_the_recorder_does_not_make(tmp_path):
    data = {"nodes": {"gen": GEN, "rec": {"type": "Recorder", "params": {
                "streams": ["raw"], "dirname": str(tmp_path / "rec")}}},
            "connections": [{"from": "gen.signals", "to": "rec.filtered"}]}
    found = problems(data)
    assert "connections[0].to: Recorder node 'rec' has no input 'filtered' (inputs: raw)" in found
    assert "nodes.rec: input 'raw' is not connected" in found
    data["connections"][0]["to"] = "rec.raws"
    assert "did you mean 'raw'?" in "\n".join(problems(data))
    data["connections"][0]["to"] = "rec.raw"
    assert problems(data) == []
    assert not (tmp_path / "rec").exists()          # checked, not created


def test_a_value_outside_the_allowed_ones_names_node_param_and_value():
    gen = {"type": "SyntheticSignal", "params": {"waveform": "sinus"}}
    assert problems({"nodes": {"gen": gen}}) == [
        "nodes.gen: unknown waveform 'sinus' (did you mean 'sine'?); available: sine, square, noise, buffer"]
    filt = {"type": "SosFilter", "params": {"btype": "lowpas", "freq": 10}}
    found = problems({"nodes": {"gen": GEN, "filt": filt},
                      "connections": [{"from": "gen.signals", "to": "filt.input"}]})
    assert found == ["nodes.filt: btype='lowpas' is not one of lowpass, highpass, bandpass, bandstop, "
                     "notch (did you mean 'lowpass'?)"]


@pytest.mark.parametrize("freq, ok", [(600, False), (499, True), ([10, 700], False)])
def test_a_filter_frequency_above_the_nyquist_frequency_of_the_upstream_rate(freq, ok):
    data = {"nodes": {"gen": GEN, "twice": {"type": "Expression", "params": {"expr": "x * 2"}},
                      "filt": {"type": "SosFilter", "params": {
                          "btype": "lowpass" if not isinstance(freq, list) else "bandpass", "freq": freq}}},
            "connections": [{"from": "gen.signals", "to": "twice.input"},
                            {"from": "twice.output", "to": "filt.input"}]}
    found = problems(data)
    if ok:
        assert found == []
    else:
        assert len(found) == 1 and found[0].startswith("nodes.filt: freq must be increasing") \
            and "(0, 500) Hz" in found[0] and "from twice.output at 1000 Hz" in found[0], found


def test_the_rate_follows_the_nodes_that_change_it():
    data = {"nodes": {"gen": GEN, "dec": {"type": "Decimate", "params": {"factor": 4}},
                      "filt": {"type": "SosFilter", "params": {"btype": "lowpass", "freq": 200}}},
            "connections": [{"from": "gen.signals", "to": "dec.input"},
                            {"from": "dec.output", "to": "filt.input"}]}
    found = problems(data)
    assert len(found) == 1 and "(0, 125) Hz" in found[0] and "from dec.output at 250 Hz" in found[0]


def test_devices_are_not_opened_and_what_they_feed_is_not_guessed():
    data = {"nodes": {"cam": {"type": "Camera", "params": {"device": 57}},
                      "filt": {"type": "SosFilter", "params": {"btype": "lowpass", "freq": 1e9}}},
            "connections": [{"from": "cam.timestamps", "to": "filt.input"}]}
    assert problems(data) == []      # no camera 57: only a run can tell


def test_node_type_names_get_did_you_mean():
    with pytest.raises(GraphError, match=r"unknown node type 'SynteticSignal' \(did you mean 'SyntheticSignal'\?\)"):
        GraphSpec.from_dict({"nodes": {"gen": {"type": "SynteticSignal"}}})


def test_create_node_says_did_you_mean():
    from acqflow.dataflow.nodegroup import NodeGroup
    with pytest.raises(KeyError, match="did you mean 'SosFilter'"):
        NodeGroup("g").create_node("SOSFilter", "f")


@pytest.mark.parametrize("rate, ok", [(float("inf"), True), (2.0, True), (0, False),
                                      (float("nan"), False)])
def test_a_player_rate_may_be_infinite_but_other_rates_may_not(rate, ok):
    """A Player's ``rate`` is a speed factor (inf: no pacing); a signal's stays finite."""
    found = problems({"groups": {"a": {}},
                      "nodes": {"p": {"type": "Player", "group": "a",
                                      "params": {"url": "/nowhere", "rate": rate}}}})
    assert (not any("params.rate" in p for p in found)) == ok, found
    synth = problems({"groups": {"a": {}},
                      "nodes": {"s": {"type": "SyntheticSignal", "group": "a",
                                      "params": {"sample_rate": float("inf")}}}})
    assert any("sample_rate" in p and "finite" in p for p in synth), synth

"""LSL markers epoch an LSL EEG stream at the sample whose true time they carry: the graph
file below, as written, run by `acqflow run`, against real pylsl outlets in another process
(EEG stamps jittered by 1 ms, markers stamped with a sample's true time)."""
import json
import os
import subprocess
import sys
import uuid

import numpy as np
import pytest
import yaml

from acqflow.dataflow.graph.graphspec import GraphError, GraphSpec
from acqflow.manager.check import check_graph

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
GRAPH = """
groups: {acq: {}, proc: {}, rec: {}}
nodes:
  eeg: {type: LSLInlet, group: acq, params: {name: EEG}}
  mk:  {type: LSLInlet, group: acq, params: {name: Markers}}
  ep:  {type: Epocher, group: proc, params: {pre: 0.1, post: 0.2}}
  rec: {type: Recorder, group: rec, params: {dirname: erp, streams: [epochs]}}
connections:
  - {from: eeg.signals, to: ep.signal}
  - {from: mk.signals, to: ep.events}
  - {from: ep.output, to: rec.epochs}
"""


def test_the_erp_graph_passes_the_check():
    GraphSpec.from_dict(yaml.safe_load(GRAPH))          # mk.signals' type: known once resolved


def test_a_declared_streamtype_is_checked_before_anything_runs():
    data = yaml.safe_load(GRAPH)
    data["nodes"]["mk"]["params"]["streamtype"] = "event"
    GraphSpec.from_dict(data)
    data["nodes"]["eeg"]["params"]["streamtype"] = "event"
    with pytest.raises(GraphError) as err:
        GraphSpec.from_dict(data)
    assert err.value.problems == [
        "connections[0]: cannot connect output eeg.signals (streamtype='event') to input ep.signal: "
        "streamtype: input ep.signal requires 'analogsignal', output eeg.signals gives 'event'"]
    data["nodes"]["eeg"]["params"]["streamtype"] = "evnt"           # a node param: checked too
    assert check_graph(GraphSpec.from_dict(data)) == [
        "nodes.eeg.params.streamtype: 'evnt' is not one of 'analogsignal', 'event' or null"]


@pytest.mark.timeout(300)     # a hang guard: two processes and a 10 s run, slow on a loaded machine
def test_lsl_markers_epoch_at_their_sample(tmp_path):
    pytest.importorskip("pylsl")
    tag = uuid.uuid4().hex[:8]
    eeg, markers = f"EEG-{tag}", f"Markers-{tag}"
    peer = subprocess.Popen([sys.executable, "-m", "tests.nodes.lsl_erp_peer",
                             json.dumps(dict(eeg=eeg, markers=markers, rate=1000.0, jitter=0.001,
                                             every=40, chunk=10))],
                            cwd=ROOT, env=dict(os.environ, PYTHONPATH=ROOT), text=True,
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        assert json.loads(peer.stdout.readline()) == {"ready": True}, peer.stderr.read()
        graph = tmp_path / "erp.yaml"
        graph.write_text(GRAPH.replace("name: EEG", f"name: {eeg}").replace("name: Markers",
                                                                           f"name: {markers}"))
        run = subprocess.run([sys.executable, "-m", "acqflow.commands", "run", str(graph), "--duration", "10"],
                             cwd=tmp_path, env=dict(os.environ, PYTHONPATH=ROOT), capture_output=True,
                             text=True, timeout=240)
        assert run.returncode == 0, (run.stdout + run.stderr)[-3000:]
    finally:
        if peer.poll() is None:
            peer.stdin.write("stop\n")
            peer.stdin.flush()
        peer.wait(30)
    from acqflow.storage import open_recording
    epochs = open_recording(tmp_path / "erp")["epochs"].read()
    assert len(epochs) >= 100
    n_pre = 100                                   # 0.1 s at 1 kHz; channel 0 holds the true index
    true_start = np.array([int(label) for label in epochs["label"]]) - n_pre
    err = epochs["epoch"][:, 0, 0].astype(np.int64) - true_start
    assert np.mean(np.abs(err) <= 1) >= 0.99, np.unique(err, return_counts=True)
    # each epoch is the signal's window: consecutive samples from the one it starts on
    np.testing.assert_array_equal(epochs["epoch"][:, :, 0] - epochs["epoch"][:, :1, 0],
                                  np.broadcast_to(np.arange(300), (len(epochs), 300)))

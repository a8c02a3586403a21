"""Online epochs equal the epochs cut offline from the recording (acqflow.storage.cut_epochs):
the same events on the same samples with the same values, for markers that carry a time
(some arriving before the signal covers them) and for events that carry an index."""
import numpy as np

from acqflow.dataflow import clock
from acqflow.devices.events import EventSource
from acqflow.devices.synthetic import SyntheticSignal
from acqflow.nodes import Epocher
from acqflow.nodes.recorder import Recorder
from acqflow.storage import cut_epochs, open_recording
from acqflow.testing import wait_for

PRE, POST = 0.05, 0.1


def test_online_epochs_equal_offline_epochs(tmp_path):
    src = SyntheticSignal(name="src")
    src.configure(channels=2, sample_rate=1000.0, chunksize=10, waveform="noise")
    src.outputs["signals"].configure(protocol="inproc")
    mk = EventSource(name="mk")
    mk.configure()
    mk.outputs["events"].configure(protocol="inproc")
    ep = Epocher(name="ep")
    ep.configure(pre=PRE, post=POST)
    ep.inputs["signal"].connect(src.outputs["signals"])
    ep.inputs["events"].connect(mk.outputs["events"])
    ep.outputs["output"].configure(protocol="inproc")
    rec = Recorder(name="rec")
    rec.configure(dirname=tmp_path / "rec", streams=["sig", "ev", "epochs"])
    rec.inputs["sig"].connect(src.outputs["signals"])
    rec.inputs["ev"].connect(mk.outputs["events"])
    rec.inputs["epochs"].connect(ep.outputs["output"])
    nodes = (rec, ep, src, mk)
    for node in nodes:
        node.initialize()
    for node in nodes:
        node.start()
    sig_index = src.outputs["signals"]
    try:
        for k in range(40):
            wait_for(lambda: sig_index.index >= 300 + 40 * k, message="the signal going on")
            if k % 4 == 3:
                mk.push_event("indexed", index=sig_index.index - 100)
            else:                       # now, or ahead of the signal (it waits for it)
                mk.push_event(f"m{k}", time=clock.now() + (0.2 if k % 4 == 1 else 0.0))
        wait_for(lambda: ep.n_epochs + ep.rejected == 40, message="every event epoched")
        wait_for(lambda: rec.writer.stream_stop("epochs") == ep.n_epochs, message="epochs recorded")
    finally:
        for node in nodes:
            node.stop()
        for node in nodes:
            node.close()
    recording = open_recording(tmp_path / "rec")
    online = recording["epochs"].read()
    offline = cut_epochs(recording["sig"], recording["ev"], PRE, POST)
    assert len(online) >= 38 and ep.rejected <= 2
    by_event = {(int(i), bytes(label)): epoch for i, label, epoch in offline}
    for i, label, epoch in online:
        np.testing.assert_array_equal(by_event[(int(i), bytes(label))], epoch)
    assert offline.dtype == online.dtype
    assert {lab for lab in online["label"]} >= {b"indexed", b"m0", b"m1"}

"""The Recorder's data path: file writes only on the writer thread, no copy after the wire."""
import threading

import numpy as np
import pytest

from acqflow import OutputStream
from acqflow.nodes import recorder as recorder_mod
from acqflow.nodes.recorder import Recorder
from acqflow.storage import open_recording, segments, target
from acqflow.storage.format import Chunk
from acqflow.testing import wait_for


def _recorder(tmp_path, out: OutputStream, **kw) -> Recorder:
    rec = Recorder(name="rec")
    rec.configure(streams=["sig"], dirname=tmp_path / "rec", **kw)
    rec.inputs["sig"].connect(out)
    rec.initialize()
    return rec


def test_manifest_updates_are_written_by_the_writer_thread_never_the_input_thread(
        tmp_path, monkeypatch):
    """Regression: the Recorder's input thread wrote and fsynced the manifest (clock
    updates every CLOCK_UPDATE_S), so a slow disk stalled the inputs."""
    writers: list[str] = []
    real = target.write_atomic

    def recording_write(path, data):
        writers.append(threading.current_thread().name)
        return real(path, data)
    monkeypatch.setattr(target, "write_atomic", recording_write)
    monkeypatch.setattr(recorder_mod, "CLOCK_UPDATE_S", 0.01)
    out = OutputStream(name="sig")
    out.configure(protocol="inproc", dtype="float32", shape=(-1, 4), sample_rate=1000.0)
    rec = _recorder(tmp_path, out, block_s=0.05)
    rec.start()
    first, k = len(writers), 0
    while len(writers) < first + 5:           # clock updates while data flows
        out.send(np.full((10, 4), k, np.float32))
        k += 1
        wait_for(lambda: rec.stats()["inputs"]["sig"]["samples"] == 10 * k)
        assert k < 2000, "no manifest update while recording"
    rec.stop()
    rec.close()
    out.close()
    during = writers[first:-1]                # (the commit is close()'s, in this thread)
    assert during and all(name.startswith("acqflow-writer:") for name in during), during
    assert open_recording(tmp_path / "rec")["sig"].n_samples == 10 * k


@pytest.mark.parametrize("mode", ["plaindata", "sharedmem"])
def test_a_received_chunk_reaches_the_segment_without_another_copy(tmp_path, monkeypatch, mode):
    """Copies from device to disk: plaindata inproc none (the sender's memory is written),
    sharedmem one (the checked read out of the ring, which recv() returns)."""
    blocks: list[list[Chunk]] = []
    real = segments.build_block

    def keep(seq, items):
        blocks.append(list(items))
        return real(seq, items)
    monkeypatch.setattr(segments, "build_block", keep)
    out = OutputStream(name="sig")
    out.configure(protocol="inproc", transfermode=mode, dtype="float32", shape=(-1, 64),
                  sample_rate=30000.0, buffer_size=8192)
    rec = _recorder(tmp_path, out, block_s=3600)
    inp, received = rec.inputs["sig"], []
    real_recv = inp.recv

    def recv(*args, **kw):
        index, data = real_recv(*args, **kw)
        received.append(data)
        return index, data
    inp.recv = recv                           # the Recorder's poller reads through this
    rec.start()
    sent = [np.random.default_rng(k).standard_normal((1024, 64)).astype(np.float32)
            for k in range(3)]                # 256 KiB each: sent without a copy
    for chunk in sent:
        out.send(chunk)
    wait_for(lambda: rec.stats()["inputs"]["sig"]["samples"] == 3 * 1024)
    rec.flush()
    payloads = [c.payload for block in blocks for c in block]
    assert len(payloads) == 3 and all(isinstance(c, Chunk) for block in blocks for c in block)
    for chunk, got, payload in zip(sent, received, payloads):
        assert np.shares_memory(payload, got)                  # the writer made no copy
        assert np.shares_memory(payload, chunk) == (mode == "plaindata")
    rec.stop()
    rec.close()
    out.close()
    stored = open_recording(tmp_path / "rec")["sig"]
    np.testing.assert_array_equal(stored[0:3 * 1024], np.concatenate(sent))

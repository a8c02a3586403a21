"""PreviewTap on a real OutputStream in this process: a few channels kept, decimated,
gaps shown as holes, inproc and event streams refused with a reason."""
import numpy as np
import pytest

from acqflow import OutputStream
from acqflow.web.preview import PreviewError, PreviewTap
from acqflow.testing import wait_for


def _output(**kw):
    out = OutputStream()
    out.configure(**dict(dict(protocol="tcp", interface="127.0.0.1", port="*", dtype="float32",
                              shape=(-1, 64), sample_rate=1000.0), **kw))
    return out


def test_signal_preview_keeps_few_channels_decimates_and_shows_gaps():
    out = _output()
    tap = PreviewTap("dev.sig", out.params, seconds=2.0, channels=4, points=100)
    try:
        assert tap.ring.shape == (2000, 4)                 # 4 of 64 channels, 2 s at 1 kHz
        chunk = np.tile(np.arange(64, dtype="float32"), (100, 1))
        wait_for(lambda: out.send(chunk) or tap.ring.index() > 0, timeout=30, interval=0.05,
                 message="the tap receiving")
        for _ in range(20):                                 # fills the 2 s ring
            out.send(chunk)
        out.send(chunk, index=out.index + 500)             # the source skipped 400 samples
        out.send(chunk)
        wait_for(lambda: tap.ring.index() == out.index, timeout=30)
        shown = tap.read()
        assert shown["kind"] == "signal" and shown["channels"] == 64 and len(shown["data"]) == 4
        assert shown["step"] == 2000 // 100 and all(len(ch) <= 101 for ch in shown["data"])
        assert [ch[-1] for ch in shown["data"]] == [0.0, 1.0, 2.0, 3.0]
        assert None in shown["data"][0]                     # the gap is a hole, not a line
    finally:
        tap.close()
        out.close()


def test_refused_streams_say_why():
    inproc = _output(protocol="inproc")
    events = _output(dtype=[("time", "float64"), ("code", "int32")], shape=(-1,), streamtype="event")
    try:
        with pytest.raises(PreviewError, match="uses protocol 'inproc'"):
            PreviewTap("a.b", inproc.params)
        with pytest.raises(PreviewError, match="structured samples"):
            PreviewTap("a.ev", events.params)
    finally:
        inproc.close()
        events.close()


def test_reader_is_a_threadpollinput_and_a_closed_output_is_shown():
    from acqflow.dataflow.streams.threadpoll import ThreadPollInput
    out = _output(shape=(-1, 2))
    tap = PreviewTap("dev.sig", out.params, seconds=1.0)
    try:
        assert isinstance(tap._thread, ThreadPollInput)
        wait_for(lambda: out.send(np.zeros((10, 2), "float32")) or tap.ring.index() > 0, timeout=30,
                 interval=0.05, message="the tap receiving")
        out.close()
        wait_for(lambda: tap.read()["kind"] == "error", timeout=30, message="the closed output shown")
        assert tap.read() == {"kind": "error", "error": "dev.sig was closed"}
    finally:
        tap.close()
        out.close()


def test_a_failing_chunk_is_shown_not_raised():
    out = _output(shape=(-1, 2))
    tap = PreviewTap("dev.sig", out.params, seconds=1.0)
    try:
        tap.ring = object()                                 # the next chunk fails in the reader
        out.send(np.zeros((10, 2), "float32"))
        wait_for(lambda: tap.error is not None, timeout=30, message="the reader's error kept")
        assert tap.read()["error"].startswith("AttributeError: ")
        wait_for(lambda: not tap._thread.is_alive(), timeout=30, message="the reader ending")
    finally:
        tap.close()
        out.close()

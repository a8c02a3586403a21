"""ThreadPollInput, StreamConverter, ChannelSplitter, ChunkResizer."""
import threading

import numpy as np
import pytest

from acqflow import (ChannelSplitter, ChunkResizer, InputStream, OutputStream, StreamConverter,
                     ThreadPollInput)


def source(**params):
    out = OutputStream(name="src")
    out.configure(**{"dtype": "float32", "shape": (-1, 4), "sample_rate": 500.0, **params})
    return out


def ramp(start, n, ch=4, dtype="float32"):
    return (np.arange(start, start + n)[:, None] * 10 + np.arange(ch)).astype(dtype)


def collect(stream, n_chunks, **kw):
    inp = InputStream()
    inp.connect(stream)
    got = []
    done = threading.Event()

    def on_data(index, data):
        got.append((index, np.array(data)))
        if len(got) == n_chunks:
            done.set()
    poller = ThreadPollInput(inp, return_data=True, **kw)
    poller.new_data.connect(on_data)
    poller.start()
    return inp, poller, got, done


def test_thread_poll_input_delivers_every_chunk_and_ends_on_close():
    out = source()
    inp, poller, got, done = collect(out, 5)
    for k in range(5):
        out.send(ramp(k * 10, 10))
    assert done.wait(10)
    assert [i for i, _ in got] == [10, 20, 30, 40, 50]
    out.close()
    poller.join(10)
    assert poller.closed and not poller.is_alive() and poller.error is None
    inp.close()


def test_thread_poll_input_keeps_callback_errors(monkeypatch):
    hooked = []                           # without on_error, the error goes to threading.excepthook
    monkeypatch.setattr(threading, "excepthook", lambda args: hooked.append(args.exc_type))
    out = source()
    inp = InputStream()
    inp.connect(out)
    poller = ThreadPollInput(inp)
    poller.new_data.connect(lambda i, d: 1 / 0)
    poller.start()
    out.send(ramp(0, 3))
    poller.join(10)
    assert isinstance(poller.error, ZeroDivisionError) and hooked == [ZeroDivisionError]
    inp.close()
    out.close()


@pytest.mark.parametrize("to_mode", ["sharedmem", "plaindata"])
def test_stream_converter_changes_transfer_and_dtype(to_mode):
    out = source(channel_info=[{"name": f"ch{i}"} for i in range(4)])
    conv = StreamConverter()
    conv.input.connect(out)
    conv.configure(transfermode=to_mode, dtype="float64", protocol="inproc", buffer_size=1000)
    conv.initialize()                     # makes the output's socket (and ring) once
    assert conv.output.params["channel_info"][2] == {"name": "ch2"}
    assert conv.output.params["sample_rate"] == 500.0
    conv.start()
    inp, poller, got, done = collect(conv.output, 3)
    out.send(ramp(0, 10))
    out.send(ramp(30, 5), index=35)       # a gap passes through as a gap
    out.send(ramp(35, 5))
    assert done.wait(10)
    assert [i for i, _ in got] == [10, 35, 40]
    assert got[1][1].dtype == np.float64 and got[1][1].tolist() == ramp(30, 5).tolist()
    assert inp.gaps == 1 and inp.dropped == 0
    poller.stop()
    poller.join()
    inp.close()
    conv.close()
    out.close()


def test_channel_splitter():
    out = source(channel_info=["a", "b", "c", "d"])
    split = ChannelSplitter()
    split.input.connect(out)
    with pytest.raises(ValueError, match=r"channels \[7\]"):
        split.configure(output_channels={"bad": [1, 7]})
    split.configure(output_channels={"left": [0], "right": [3, 1]})
    split.initialize()
    assert split.outputs["right"].params["shape"] == (-1, 2)
    assert split.outputs["right"].params["channel_info"] == ["d", "b"]
    split.start()
    li, lp, lgot, ldone = collect(split.outputs["left"], 1)
    ri, rp, rgot, rdone = collect(split.outputs["right"], 1)
    out.send(ramp(0, 6))
    assert ldone.wait(10) and rdone.wait(10)
    assert lgot[0][1].tolist() == ramp(0, 6)[:, [0]].tolist()
    assert rgot[0][1].tolist() == ramp(0, 6)[:, [3, 1]].tolist()
    for p, i in ((lp, li), (rp, ri)):
        p.stop()
        p.join()
        i.close()
    split.close()
    out.close()


def test_chunk_resizer_exact_chunks_and_gap():
    out = source()
    rs = ChunkResizer()
    rs.input.connect(out)
    rs.configure(chunksize=16)
    rs.initialize()
    rs.start()
    inp, poller, got, done = collect(rs.output, 5)
    for n in (5, 20, 9, 30):               # 64 samples -> 4 chunks of 16
        out.send(ramp(out.index, n))
    out.send(ramp(100, 3), index=103)      # gap: nothing held, 3 held after it
    out.send(ramp(103, 13))                # -> one chunk [100:116]
    assert done.wait(10)
    assert [i for i, _ in got] == [16, 32, 48, 64, 116]
    assert all(len(d) == 16 for _, d in got)
    assert got[4][1].tolist() == ramp(100, 16).tolist()
    poller.stop()
    poller.join()
    inp.close()
    rs.close()
    out.close()


def test_relay_needs_its_input_before_initialize():
    conv = StreamConverter(name="conv")
    conv.configure()                      # either order: configure, then connect
    with pytest.raises(Exception, match="input.* not connected"):
        conv.initialize()
    conv.close()


def test_relays_are_the_registered_node_types():
    import acqflow.nodes  # noqa: F401  (registers the node types)
    for cls in (StreamConverter, ChannelSplitter, ChunkResizer):
        assert acqflow.get_node_type(cls.__name__) is cls
        assert issubclass(cls, acqflow.ProcessingNode)


def test_thread_poll_input_callbacks_on_data_and_on_end():
    out = source()
    inp = InputStream()
    inp.connect(out)
    got, ended = [], threading.Event()
    poller = ThreadPollInput(inp, return_data=True, on_data=lambda i, d: got.append(i),
                             on_end=ended.set)
    poller.start()
    out.send(ramp(0, 4))
    out.send(ramp(4, 4))
    out.close()
    assert ended.wait(10) and poller.wait(10)
    assert got == [4, 8] and poller.closed and poller.error is None
    inp.close()


def test_thread_poll_input_reports_an_on_end_error_to_on_error():
    out = source()
    inp = InputStream()
    inp.connect(out)
    errors = []
    poller = ThreadPollInput(inp, on_end=lambda: 1 / 0, on_error=errors.append)
    poller.start()
    out.close()
    assert poller.wait(10)
    assert errors == ["ZeroDivisionError: division by zero"]
    assert isinstance(poller.error, ZeroDivisionError)
    inp.close()

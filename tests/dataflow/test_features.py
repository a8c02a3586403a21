"""Zero-copy sends, chunking, filters, restart, errors."""
import logging
import os

import numpy as np
import pytest

from acqflow import InputStream, OutputStream, StreamClosed, StreamError
from acqflow.testing import wait_for


def pair(**params):
    out = OutputStream(name="out")
    out.configure(**params)
    inp = InputStream(name="in")
    inp.connect(out)
    return out, inp


def test_inproc_large_send_is_zero_copy():
    out, inp = pair(protocol="inproc", dtype="float32", shape=(-1, 16))
    data = np.random.default_rng(0).normal(size=(65536, 16)).astype("float32")   # 4 MiB
    out.send(data)
    index, got = inp.recv(timeout=5000)
    assert got.__array_interface__["data"][0] == data.__array_interface__["data"][0]
    assert not got.flags.writeable
    np.testing.assert_array_equal(got, data)
    inp.close()
    out.close()


@pytest.mark.parametrize("protocol", ["tcp", "inproc"])
def test_non_contiguous_array_arrives_equal(protocol):
    out, inp = pair(protocol=protocol, dtype="float64", shape=(-1, 3))
    base = np.arange(300, dtype="float64").reshape(3, 100)
    out.send(base.T)              # a transposed view
    out.send(base.T[::2])         # and a strided one
    np.testing.assert_array_equal(inp.recv(timeout=5000)[1], base.T)
    index, got = inp.recv(timeout=5000)
    assert index == 150
    np.testing.assert_array_equal(got, base.T[::2])
    inp.close()
    out.close()


def test_chunking_accumulates_until_chunksize():
    out, inp = pair(dtype="int32", shape=(-1, 1), chunksize=100)
    for k in range(10):
        out.send(np.arange(k * 30, (k + 1) * 30, dtype="int32")[:, None])
    got = [inp.recv(timeout=5000) for _ in range(2)]
    assert [i for i, _ in got] == [120, 240]
    assert all(len(d) >= 100 for _, d in got)
    out.send(np.zeros((5, 1), "int32"), index=400)   # gap: what was held goes first
    index, data = inp.recv(timeout=5000)
    assert index == 300 and data[:, 0].tolist() == list(range(240, 300))
    out.flush()
    index, data = inp.recv(timeout=5000)
    assert index == 400 and len(data) == 5
    assert list(inp.gap_log) == [(300, 395, "source")]
    inp.close()
    out.close()


def test_filters_apply_in_order_on_both_sides():
    out, inp = pair(dtype="float64", shape=(-1, 1), filters=[lambda a: a * 2, lambda a: a + 1])
    inp.set_filters([lambda a: a * 10, lambda a: a - 3])
    out.send(np.array([[1.0], [2.0]]))
    assert inp.recv(timeout=5000)[1][:, 0].tolist() == [27.0, 47.0]
    with pytest.raises(TypeError, match="filters"):
        inp.set_filters([1])
    inp.close()
    out.close()


def test_restart_keeps_absolute_index():
    out, inp = pair(dtype="float32", shape=(-1, 2))
    out.send(np.zeros((10, 2), "float32"))
    assert inp.recv(timeout=5000)[0] == 10
    out.close()
    with pytest.raises(StreamClosed):
        inp.recv(timeout=5000)
    inp.close()
    out.configure(dtype="float32", shape=(-1, 2), transfermode="sharedmem", buffer_size=64)
    inp.connect(out)
    out.send(np.ones((4, 2), "float32"))
    index, data = inp.recv(timeout=5000, return_data=True)
    assert index == 14 and data.tolist() == [[1, 1]] * 4
    np.testing.assert_array_equal(inp.get_array_slice(14, 4), data)
    inp.close()
    out.close()


def test_set_buffer_keeps_history_for_plaindata():
    out, inp = pair(dtype="float32", shape=(-1, 1))
    inp.set_buffer(50)
    for k in range(5):
        out.send(np.full((20, 1), k, "float32"))
        inp.recv(timeout=5000)
    assert inp.get_data(60, 100)[:, 0].tolist() == [3.0] * 20 + [4.0] * 20
    with pytest.raises(IndexError, match="readable window"):
        inp.get_data(10, 20)
    inp.close()
    out.close()


@pytest.mark.parametrize("params, message", [
    (dict(protocol="udp"), "protocol='udp' is not one of"),
    (dict(transfermode="mmap"), "transfermode='mmap'"),
    (dict(streamtype="audio"), "streamtype='audio'"),
    (dict(backpressure="wait"), "backpressure='wait'"),
    (dict(dtype="float32", shape=(-1, 0)), "every axis after the first"),
    (dict(transfermode="sharedmem"), "needs a shape"),
    (dict(streamtype="analogsignal", shape=(-1, 2, 2)), "2-D numeric"),
    (dict(streamtype="event", dtype="float32"), "structured dtype"),
    (dict(streamtype="video", shape=(-1, 4, 4, 3), dtype="float32"), "uint8 frames"),
    (dict(sample_rate=-1), "sample_rate must be > 0"),
    (dict(chunksize=0), "chunksize must be a positive int"),
    (dict(dtype="nonsense"), "not a valid dtype"),
    # hardening (issue 14): each nonsense value refused, named
    (dict(sample_rate=float("inf")), "sample_rate must be > 0 and finite, got inf"),
    (dict(sample_rate=float("nan")), "sample_rate must be > 0 and finite, got nan"),
    (dict(sample_rate="fast"), "sample_rate must be a number, got 'fast'"),
    (dict(shape=(-1, 2.5)), r"shape must be a sequence of ints, got \(-1, 2.5\)"),
    (dict(shape="(-1, 2)"), "shape must be a sequence of ints"),
    (dict(port=70000), "port must be '\\*' or an int in 1..65535, got 70000"),
    (dict(port=-5), "got -5"),
    (dict(port="http"), "got 'http'"),
    (dict(double="no"), "double must be True or False, got 'no'"),
    (dict(double=1), "double must be True or False, got 1"),
    (dict(shape=(100, 2)), r"shape \(100, 2\): the first axis is time and must be -1"),
    (dict(streamtype="video", shape=(480, 640, 3)), "the first axis is time"),
    (dict(streamtype="event", dtype=[("index", "int64"), ("label", "O")]), "holds Python objects"),
    (dict(dtype="O"), "holds Python objects"),
    (dict(channel_info=[{"name": object()}]), "'channel_info' cannot be sent to other processes"),
    (dict(units=lambda: 1), "'units' cannot be sent"),
    (dict(notes="x" * 10000, extra={1.5: 2}), "non-string key 1.5"),
    (dict(hwm=True), "hwm must be a positive int or None, got True"),
    (dict(max_queue_bytes=0), "max_queue_bytes must be > 0"),
    (dict(max_queue_s=float("inf")), "max_queue_s must be > 0 and finite"),
    (dict(axisorder="ab"), "axisorder must be a sequence of ints, got 'ab'"),
    (dict(interface=None), "interface must be a host name"),
])
def test_bad_params_name_the_value(params, message):
    with pytest.raises((ValueError, TypeError), match=message):
        OutputStream().configure(**params)


def test_long_bad_values_are_truncated_in_messages():
    with pytest.raises(ValueError) as err:
        OutputStream().configure(shape=[-1] + [1.5] * 100000)
    assert len(str(err.value)) < 200 and "..." in str(err.value)
    with pytest.raises(ValueError) as err:
        OutputStream().configure(protocol="x" * 10**6)
    assert len(str(err.value)) < 200


def test_huge_buffer_size_is_named():
    """Regression: a huge buffer_size failed with a bare 'Cannot allocate memory'."""
    with pytest.raises(ValueError, match=r"buffer_size=10000000000000 needs 80000000000000 bytes "
                                         r"of shared memory, which cannot be allocated"):
        OutputStream().configure(transfermode="sharedmem", dtype="float32", shape=(-1, 2),
                                 buffer_size=10**13)


def test_plain_metadata_and_numpy_values_are_accepted():
    out = OutputStream()
    out.configure(dtype="float32", shape=(-1, 2), sample_rate=np.float32(250), port="*",
                  channel_info=[{"name": "a", "gain": np.float64(2.0)}, {"name": "b"}],
                  units=("uV", "uV"), calib=np.ones(2))
    assert out.params["sample_rate"] == 250.0 and isinstance(out.params["sample_rate"], float)
    out.close()


def test_send_mismatches_are_value_errors():
    out = OutputStream(name="eeg")
    out.configure(dtype="float32", shape=(-1, 4))
    with pytest.raises(ValueError, match=r"eeg: chunk dtype float64 does not match the stream dtype float32"):
        out.send(np.zeros((3, 4)))
    with pytest.raises(ValueError, match=r"chunk shape \(3, 5\) does not match the stream shape \(-1, 4\)"):
        out.send(np.zeros((3, 5), "float32"))
    out.send(np.zeros((3, 4), "float32"))
    with pytest.raises(ValueError, match="index 2 goes backwards"):
        out.send(np.zeros((1, 4), "float32"), index=2)
    out.close()
    with pytest.raises(StreamError, match="not configured"):
        out.send(np.zeros((3, 4), "float32"))


def test_connect_refuses_incompatible_spec_naming_both_sides():
    out = OutputStream(name="camera")
    out.configure(streamtype="video", shape=(-1, 4, 4, 3))
    inp = InputStream(spec=dict(streamtype="analogsignal", dtype="float32"), name="filter.in")
    with pytest.raises(ValueError) as err:
        inp.connect(out)
    msg = str(err.value)
    assert "output camera" in msg and "input filter.in" in msg
    assert "streamtype: input filter.in requires 'analogsignal'" in msg and "dtype" in msg
    ok = InputStream(spec=dict(streamtype="video", shape=(-1, 4, 4, 3)))
    ok.connect(out)
    ok.close()
    out.close()


def test_recv_timeout_and_unanswered_connect():
    out, inp = pair(dtype="float32", shape=(-1, 1))
    with pytest.raises(TimeoutError, match="no data within 50 ms"):
        inp.recv(timeout=50)
    assert not inp.poll(10)
    with pytest.raises(TimeoutError, match="no data within 0 ms"):
        inp.recv(timeout=0)                 # an empty queue answers at once
    out.send(np.ones((3, 1), "float32"))
    assert inp.recv(timeout=5000)[0] == 3   # the receive timeout follows each call
    out.send(np.ones((2, 1), "float32"))
    assert wait_for(lambda: inp.poll(0), 5)
    assert inp.recv(timeout=0)[0] == 5
    with pytest.raises(TimeoutError):
        inp.recv(timeout=0)
    params = dict(out.params)
    inp.close()
    out.close()
    with pytest.raises(TimeoutError, match="no output stream answered .* within 300 ms"):
        InputStream().connect(params, timeout=300)      # ms, as recv/poll


def test_video_single_frame_without_time_axis():
    out, inp = pair(streamtype="video", shape=(-1, 8, 8, 3))
    frame = np.full((8, 8, 3), 7, "uint8")
    out.send(frame)
    index, data = inp.recv(timeout=5000)
    assert index == 1 and data.shape == (1, 8, 8, 3) and (data == 7).all()
    inp.close()
    out.close()


def test_reconnect_to_an_output_that_moved_on_reports_the_gap():
    """Regression: a gap right after a reconnect used to raise TypeError."""
    out, inp = pair(dtype="float32", shape=(-1, 1))
    out.send(np.zeros((5, 1), "float32"))
    assert inp.recv(timeout=5000)[0] == 5
    inp.close()
    out.send(np.zeros((5, 1), "float32"))            # nobody listening
    inp.connect(out)
    out.advance_to(20)
    out.send(np.zeros((5, 1), "float32"))
    assert inp.recv(timeout=5000)[0] == 25
    # sent while away (5..10), then skipped by the output after the reconnect (10..20)
    assert list(inp.gap_log) == [(5, 10, "disconnected"), (10, 20, "source")] and inp.dropped == 0
    with pytest.raises(ValueError, match="cannot move back"):
        out.advance_to(3)
    inp.close()
    out.close()


def test_connect_works_when_descriptors_are_numbered_above_1024():
    """Regression: the output's keeper thread used select(), which fails on fds >= 1024,
    so after a long session every new connection timed out."""
    import resource
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < 1200:
        pytest.skip(f"open-file limit {soft} is too low to reach descriptor 1024")
    held = []
    try:
        while not held or held[-1] < 1030:
            held.append(os.open(os.devnull, os.O_RDONLY))
        out = OutputStream()
        out.configure(protocol="inproc", dtype="float32", shape=(-1, 2))
        inp = InputStream()
        inp.connect(out, timeout=2000)
        out.send(np.ones((3, 2), "float32"))
        assert inp.poll(2000)
        index, data = inp.recv()
        assert index == 3 and data.shape == (3, 2)
        inp.close()
        out.close()
    finally:
        for fd in held:
            os.close(fd)


@pytest.mark.parametrize("protocol", ["tcp", "inproc"])
def test_structured_dtype_with_a_subarray_field(protocol):
    """Regression: a field like ('xyz', 'f4', (3,)) came back from msgpack as a list and
    every chunk was refused as a dtype mismatch."""
    dtype = [("index", "int64"), ("xyz", "float32", (3,)), ("label", "S8")]
    out, inp = pair(protocol=protocol, streamtype="event", dtype=dtype, shape=(-1,))
    events = np.zeros(2, dtype)
    events["index"], events["xyz"], events["label"] = [5, 9], [[1, 2, 3], [4, 5, 6]], [b"a", b"b"]
    out.send(events)
    index, got = inp.recv(timeout=5000)
    assert index == 2 and got.dtype == np.dtype(dtype)
    np.testing.assert_array_equal(got["xyz"], events["xyz"])
    inp.close()
    out.close()


def test_last_send_time_is_the_senders_clock():
    from acqflow.dataflow import clock
    out, inp = pair(dtype="float32", shape=(-1, 1))
    assert inp.last_send_time is None
    before = clock.now()
    out.send(np.zeros((4, 1), "float32"))
    inp.recv(timeout=5000)
    assert before <= inp.last_send_time <= clock.now()
    inp.close()
    out.close()


def test_unnamed_output_error_reads_without_stray_space():
    """An unnamed output's error says "output: chunk shape", not "output : chunk shape"."""
    out = OutputStream()
    out.configure(protocol="inproc", shape=(-1, 4), dtype="float32", sample_rate=100.0)
    try:
        with pytest.raises(ValueError, match=r"^output: chunk shape \(3, 5\)"):
            out.send(np.zeros((3, 5), dtype="float32"))
    finally:
        out.close()


def test_output_close_timeout_is_in_ms_like_recv(caplog):
    """An input that is not reading cannot acknowledge the end: close(timeout) gives up
    after ``timeout`` ms (streams' unit) and says so."""
    out, inp = pair(dtype="float32", shape=(-1, 2))
    out.send(np.zeros((2, 2), "float32"))
    with caplog.at_level(logging.INFO, logger="acqflow.dataflow.transport"):
        out.close(timeout=50)
    assert "did not acknowledge end-of-stream within 50 ms" in caplog.text
    inp.close()

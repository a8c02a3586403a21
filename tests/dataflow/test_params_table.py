"""The one stream-params vocabulary (dataflow/spec.py): what is derived from the table,
the dtype codec (fuzzed), one default_fill, and manifests written by older code."""
import json
import re

import msgpack
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from acqflow.dataflow import ringbuffer, spec
from acqflow.storage import manifest, streamdata
from acqflow.testing import examples

# The four hand-kept lists this table replaced (relays, recorder, manifest, player), as they
# were: every key in them is still kept out of what they copied.
_OLD_RELAY = {"url", "shm_name", "shm_nonce", "port", "interface", "protocol", "transfermode",
              "buffer_size", "hwm", "name", "node", "double", "axisorder", "chunksize",
              "backpressure", "clock_id", "stream_id", "max_queue_bytes", "max_queue_s", "filters"}
_OLD_RECORDER = _OLD_RELAY
_OLD_MANIFEST = {"protocol", "interface", "port", "transfermode", "buffer_size", "double",
                 "axisorder", "chunksize", "backpressure", "hwm", "filters", "shm_nonce",
                 "clock_id", "stream_id", "max_queue_bytes", "max_queue_s"}
_OLD_PLAYER = {"source", "name", "node", "url", "shm_name"}


def test_derived_sets_cover_the_old_lists():
    transport = set(spec.keys(spec.TRANSPORT))
    assert _OLD_RELAY | _OLD_RECORDER | _OLD_MANIFEST <= transport
    params = {k: 1 for k in transport | _OLD_PLAYER | {"gain", "units", "shape"}}
    assert set(spec.inherited(params)) == {"gain", "units", "shape"}
    assert set(spec.recorded(params)) == {"gain", "units", "shape", "source"}
    assert set(spec.replayed(params)) == {"gain", "units", "shape"}
    assert spec.kind_of("anything_else") == spec.METADATA


def test_defaults_come_from_the_table_and_pass_their_own_checks():
    assert dict(spec.DEFAULT_PARAMS) == spec.defaults()
    assert spec.DEFAULT_PARAMS["max_queue_s"] == 1.0
    with pytest.raises(KeyError):
        spec.DEFAULT_PARAMS["url"]                # declared, but without a default
    for name, value in spec.defaults().items():
        spec.check_param(name, value)
    p = spec.normalize_params({"shape": (-1, 2)})
    assert set(spec.defaults()) <= set(p)


def test_a_bad_param_names_key_and_value():
    with pytest.raises(ValueError, match=r"max_queue_s must be > 0 and finite, got -1"):
        spec.normalize_params({"shape": (-1, 2), "max_queue_s": -1})
    with pytest.raises(ValueError, match=r"protocol='udp' is not one of"):
        spec.normalize_params({"shape": (-1, 2), "protocol": "udp"})
    with pytest.raises(ValueError, match="kind 'wire' is not one of"):
        spec.Param("x", "wire")


def test_param_problems_lists_every_bad_value_with_the_tables_messages():
    assert spec.param_problems({"protocol": "tcp", "shape": [-1, 4], "units": "uV"}) == []
    found = spec.param_problems({"protocol": "udp", "port": 70000, "shape": [-1, 0],
                                 "sample_rate": "fast", "dtype": "float33"})
    assert len(found) == 5, found
    assert found[0] == "protocol='udp' is not one of tcp, inproc, ipc"
    assert found[1] == "port must be '*' or an int in 1..65535, got 70000"
    assert found[2].startswith("shape (-1, 0): every axis after the first")
    assert found[3] == "sample_rate must be a number, got 'fast'"
    assert "float33" in found[4]


def test_one_default_fill():
    assert ringbuffer.default_fill is spec.default_fill
    assert streamdata.default_fill is spec.default_fill
    assert np.isnan(spec.default_fill("float32")) and spec.default_fill(np.int16) == 0


_SCALARS = st.sampled_from(["<f4", ">f8", "<i2", "|u1", "|b1", "<c16", "|S7", "<U3", "<M8[ns]",
                            "<m8[s]", "|V5"])
_NAMES = st.text(st.characters(min_codepoint=97, max_codepoint=122), min_size=1, max_size=5)


@st.composite
def _dtypes(draw, depth=0):
    if depth >= 2 or draw(st.booleans()):
        return np.dtype(draw(_SCALARS))
    names = draw(st.lists(_NAMES, min_size=1, max_size=4, unique=True))
    formats = [np.dtype((draw(_dtypes(depth + 1)), tuple(draw(st.lists(st.integers(1, 3), max_size=2)))))
               for _ in names]
    offsets, at = [], 0
    for f in formats:
        at += draw(st.integers(0, 3))             # padding between fields
        offsets.append(at)
        at += f.itemsize
    return np.dtype({"names": names, "formats": formats, "offsets": offsets,
                     "itemsize": at + draw(st.integers(0, 3))})


@settings(max_examples=examples(300), deadline=None)
@given(_dtypes())
def test_dtype_codec_round_trips_through_json_and_msgpack(dt):
    plain = spec.dtype_to_spec(dt)
    assert json.loads(json.dumps(plain)) == plain
    for back in (json.loads(json.dumps(plain)), msgpack.unpackb(msgpack.packb(plain))):
        assert spec.dtype_from_plain(back) == dt
        assert spec.make_dtype(back) == dt


_JUNK = st.recursive(st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
                     lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=3), inner,
                                                                                  max_size=3),
                     max_leaves=20)


@settings(max_examples=examples(400), deadline=None)
@given(_JUNK)
def test_dtype_decoder_answers_junk_with_a_dtype_or_dtype_error(value):
    try:
        dt = spec.dtype_from_plain(value)
    except spec.DtypeError as exc:
        assert "\n" not in str(exc)
    else:
        assert isinstance(dt, np.dtype)


def test_user_dtype_forms_still_accepted():
    assert spec.make_dtype([("x", np.float64), ("y", ("f4", (2,)))]) == \
        np.dtype([("x", "<f8"), ("y", "<f4", (2,))])
    assert spec.make_dtype(spec.EVENT_DTYPE) == np.dtype(spec.EVENT_DTYPE)
    with pytest.raises(TypeError, match="not a valid dtype: 'nope'"):
        spec.make_dtype("nope")


# A stream entry exactly as the code before the table wrote it (format version 1).
_OLD_ENTRY = {
    "id": 0, "name": "sig", "streamtype": "analogsignal", "dtype": "<f4", "shape": [-1, 2],
    "sample_rate": 500.0, "units": "uV", "channel_info": [{"name": "a"}, {"name": "b"}],
    "clock": manifest.DEFAULT_CLOCK, "codec": None, "deleted": False,
    "metadata": {"gain": 2.0, "source": {"name": "amp"}}}
_OLD_EVENTS = {
    "id": 1, "name": "ev", "streamtype": "event", "dtype": [["index", "<i8"], ["label", "|S16"]],
    "shape": [-1], "sample_rate": 1.0, "units": "", "channel_info": None,
    "clock": manifest.DEFAULT_CLOCK, "codec": None, "deleted": False, "metadata": {}}


def test_entries_are_written_as_before():
    sig = manifest.stream_entry(0, "sig", {
        "streamtype": "analogsignal", "dtype": "float32", "shape": (-1, 2), "sample_rate": 500,
        "units": "uV", "channel_info": [{"name": "a"}, {"name": "b"}], "gain": 2.0,
        "source": {"name": "amp"}, "protocol": "inproc", "url": "inproc://x", "hwm": 10,
        "stream_id": "abc", "clock_id": "def", "filters": [abs]})
    assert sig == _OLD_ENTRY
    assert list(sig) == list(_OLD_ENTRY)
    assert manifest.stream_entry(1, "ev", {"streamtype": "event"}) == _OLD_EVENTS


def test_entries_written_by_older_code_read_the_same():
    p = manifest.stream_params(_OLD_ENTRY)
    assert p == {"streamtype": "analogsignal", "dtype": "<f4", "shape": (-1, 2), "sample_rate": 500.0,
                 "units": "uV", "channel_info": [{"name": "a"}, {"name": "b"}],
                 "clock": manifest.DEFAULT_CLOCK, "gain": 2.0, "source": {"name": "amp"}}
    bare = {k: v for k, v in _OLD_EVENTS.items() if k not in ("units", "channel_info", "clock")}
    p = manifest.stream_params(bare)                 # the oldest entries lack these fields
    assert p["units"] == "" and p["channel_info"] is None and p["clock"] == manifest.DEFAULT_CLOCK
    assert spec.make_dtype(p["dtype"]) == np.dtype(spec.EVENT_DTYPE)


@pytest.mark.parametrize("shape, says", [
    ((-1, 0), "every axis after the first (time) one must be > 0"),
    ((-1, -2), "every axis after the first (time) one must be > 0"),
    ((-1, -1), "only the first (time) axis may be -1"),
])
def test_shape_errors_say_what_is_wrong(shape, says):
    """Regression: shape (-1, 0) was refused with "only the first (time) axis may be -1"."""
    with pytest.raises(ValueError, match=re.escape(says)):
        spec.check_param("shape", shape)

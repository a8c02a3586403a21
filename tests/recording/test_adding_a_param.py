"""docs/extending.md "Adding a stream param": the page's example adds a metadata param and a
transport param to the table; a relay then passes the first and not the second, the recorder
stores only the first, and the player replays it.  The params are removed afterwards."""
import math

import numpy as np
import pytest

from acqflow import OutputStream
from acqflow.dataflow.streams import spec
from acqflow import StreamConverter
from acqflow.devices.player import Player
from acqflow.nodes.recorder import Recorder
from acqflow.storage import open_recording
from acqflow.testing import wait_for
from tests.docsnippets import ROOT, python_snippets, run_in_order
from tests.recording.common import Sink

SECTION = "## Adding a stream param"


@pytest.fixture
def added_params(capsys):
    """Runs the page's example (it adds 'gain' and 'sndbuf' to spec.PARAMS), then removes them."""
    before = dict(spec.PARAMS)
    try:
        text = (ROOT / "docs" / "extending.md").read_text()
        after = text[text.index(SECTION) + len(SECTION):]
        run_in_order(python_snippets("docs/extending.md", start=SECTION,
                                     stop="\n## " if "\n## " in after else None))
        printed = capsys.readouterr().out.split("\n")
        yield printed
    finally:
        spec.PARAMS.clear()
        spec.PARAMS.update(before)


def test_the_page_example_prints_what_it_says(added_params):
    assert added_params[:3] == ["10.0 65536", "True False", "gain must be > 0 and finite, got -1"]
    assert spec.kind_of("sndbuf") == spec.TRANSPORT


def test_added_params_travel_as_their_kind_says(added_params, tmp_path):
    src = OutputStream(name="amp")
    src.configure(protocol="inproc", shape=(-1, 2), sample_rate=1000.0, backpressure="block",
                  gain=10, sndbuf=65536)
    assert src.params["gain"] == 10.0 and src.params["sndbuf"] == 65536
    conv = StreamConverter(name="conv")
    conv.input.connect(src)
    conv.configure(protocol="inproc", backpressure="block")
    conv.initialize()
    relayed = conv.output
    assert relayed.params["gain"] == 10.0          # metadata: the relay's output inherits it
    assert relayed.params["sndbuf"] is None        # transport: the relay's output has its own
    rec = Recorder(name="rec")
    rec.configure(streams=["amp"], dirname=tmp_path / "rec")
    rec.inputs["amp"].connect(relayed)
    rec.initialize()
    rec.start()
    conv.start()
    data = np.arange(200, dtype=np.float32).reshape(100, 2)
    for i in range(0, 100, 10):
        src.send(data[i:i + 10])
    wait_for(lambda: rec.writer.stream_stop("amp") == 100, timeout=30)
    rec.close()
    conv.close()
    src.close()

    entry = open_recording(tmp_path / "rec")["amp"].entry
    assert entry["metadata"]["gain"] == 10.0       # the recorder stored it
    assert "sndbuf" not in entry["metadata"] and "sndbuf" not in entry

    player = Player()
    player.configure(url=tmp_path / "rec", rate=math.inf)
    out = player.outputs["amp"]
    out.configure(protocol="inproc", backpressure="block")
    assert out.params["gain"] == 10.0 and out.params["sndbuf"] is None
    player.initialize()
    sink = Sink(out)
    try:
        player.start()
        wait_for(lambda: sink.index == 100, timeout=30, message="replayed")
        np.testing.assert_array_equal(np.concatenate([d for _, d, _ in sink.chunks]), data)
        assert sink.input.params["gain"] == 10.0   # the player replayed it
    finally:
        sink.close()
        player.close()


def test_removed_params_are_free_metadata_again(added_params):
    spec.PARAMS.pop("gain")
    assert spec.kind_of("gain") == spec.METADATA
    assert spec.normalize_params({"shape": (-1, 2), "gain": "high"})["gain"] == "high"

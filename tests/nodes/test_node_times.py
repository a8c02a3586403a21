"""A filter passes its input's sample times on: a chunk leaves with the time its last
sample was taken, not the time the filter sent it, so a filtered stream keeps the source's
clock (and an Epocher downstream places markers on it)."""
import numpy as np

from acqflow.nodes import SosFilter
from acqflow.testing import wait_for
from tests.nodes.util import Pipeline, Sink


def test_a_filter_sends_each_chunk_with_the_time_its_input_chunk_was_taken():
    p = Pipeline(SosFilter(), dict(sample_rate=1000.0, shape=(-1, 2), dtype="float32"),
                 sos=np.array([[1.0, 0, 0, 1.0, 0, 0]]))
    seen: list[tuple[int, float]] = []
    sink: Sink = p.sink
    sink.poller.new_data.connect(lambda index, data: seen.append((index,
                                                                  sink.input.last_sample_time)))
    try:
        base = 1000.0              # a clock far from now: a send time could not pass for it
        for k in range(1, 21):
            p.src.send(np.zeros((50, 2), "float32"), time=base + k * 0.05)
        wait_for(lambda: len(seen) >= 20, 20, message="20 filtered chunks")
        for index, t in seen:
            assert abs(t - (base + index / 1000.0)) < 1e-9, (index, t)
        model = sink.input.time_model
        assert abs(model.time_of(999) - (base + 1.0)) < 1e-6
    finally:
        sink.close()
        p.node.stop()
        p.node.close()


def test_delayed_output_at_the_same_rate_is_stamped_for_its_own_samples():
    node = SosFilter()
    node.inputs["input"].local_sample_time = 10.0
    node.inputs["input"].params = {"sample_rate": 100.0}
    node.outputs["output"].params = {"sample_rate": 100.0}
    assert node._output_time(10.0, 500, 500) == 10.0
    assert abs(node._output_time(10.0, 500, 490) - 9.9) < 1e-12
    assert node._output_time(None, 500, 500) is None
    assert node._output_time(10.0, 500, None) is None
    node.outputs["output"].params = {"sample_rate": 50.0}     # a rate change: sent at now
    assert node._output_time(10.0, 500, 250) is None


def test_decimate_stamps_each_chunk_with_the_time_of_its_last_kept_input_sample():
    from acqflow.nodes import Decimate
    p = Pipeline(Decimate(), dict(sample_rate=1000.0, shape=(-1, 1), dtype="float32"), factor=10)
    seen: list[tuple[int, float]] = []
    sink: Sink = p.sink
    sink.poller.new_data.connect(lambda index, data: seen.append((index,
                                                                  sink.input.last_sample_time)))
    try:
        base = 1000.0
        stop = 0
        for n in (37, 50, 13, 100, 55, 45):      # chunks that do not end on a kept sample
            stop += n
            p.src.send(np.zeros((n, 1), "float32"), time=base + (stop - 1) / 1000.0)
        wait_for(lambda: sum(1 for _ in seen) >= 6, 20, message="6 decimated chunks")
        for index, t in seen:
            # output sample index-1 is input sample (index-1)*10, taken at base + that / 1000
            assert abs(t - (base + (index - 1) * 10 / 1000.0)) < 1e-9, (index, t)
    finally:
        sink.close()
        p.node.stop()
        p.node.close()

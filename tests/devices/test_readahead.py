"""ReadAhead: items in order (reads run on several threads), bounded, errors raised in the taker."""
import threading

import numpy as np
import pytest

from acqflow.devices.readahead import STOPPED, ReadAhead
from acqflow.testing import wait_for


def test_reads_run_in_parallel_and_come_back_in_order():
    started, release = [], threading.Event()

    def read(k):
        started.append(k)
        if k < 2:
            release.wait(10)            # the first two reads wait until both have started
        return np.full(4, k)
    items = ((k, lambda k=k: read(k)) for k in range(20))
    ra = ReadAhead(items, "test", depth=4, workers=2)
    ra.start()
    wait_for(lambda: {0, 1} <= set(started))      # two reads at once
    release.set()
    got = [ra.get() for _ in range(20)]
    assert [k for k, _ in got] == list(range(20)) and all((d == k).all() for k, d in got)
    assert ra.get() is None and ra.get() is None   # the end, again
    ra.join(10)


def test_queue_is_bounded_and_stop_ends_it():
    produced = []

    def items():
        for k in range(1000):
            produced.append(k)
            yield (k, np.zeros(1000))
    ra = ReadAhead(items(), "test", depth=3, workers=1)
    ra.start()
    wait_for(lambda: ra.queued == 3)
    assert len(produced) <= 5                      # 3 queued, one waiting to be put
    assert ra.get()[0] == 0
    ra.stop()
    assert ra.get() is STOPPED
    ra.join(10)
    assert not ra.is_alive()


@pytest.mark.parametrize("workers", [1, 3])
def test_an_error_while_reading_is_raised_in_the_taker(workers):
    def bad():
        raise OSError("block 7 unreadable")
    ra = ReadAhead(iter([(0, lambda: 1), (1, bad)]), "test", workers=workers)
    ra.start()
    assert ra.get() == (0, 1)
    with pytest.raises(OSError, match="block 7 unreadable"):
        ra.get()
    ra.join(10)

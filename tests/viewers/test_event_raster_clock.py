"""EventRaster: marker times stamped on another host's clock are drawn on this one's."""
import numpy as np
import pytest

import acqflow
from acqflow.dataflow import clock
from acqflow.devices.events import event_dtype
from acqflow.viewers import EventRaster
from acqflow.testing import wait_qt

from .conftest import close_all

pytestmark = pytest.mark.timeout(60)


def test_event_raster_converts_another_hosts_marker_times(qapp):
    out = acqflow.OutputStream()
    out.configure(protocol="inproc", streamtype="event", dtype=event_dtype(16).descr, shape=(-1,))
    v = EventRaster()
    v.configure(xsize=10.0)
    v.input.connect(out)
    v.input.params["clock_id"] = "elsewhere"             # its sender's clock runs 100 s ahead
    saved = clock.offsets()
    clock.set_offsets({"elsewhere": {"offset": 100.0, "uncertainty": 0.001}}, reference=clock.clock_id())
    v.initialize()
    v.start()
    try:
        now = clock.now()
        ev = np.zeros(1, event_dtype(16))
        ev["index"], ev["time"], ev["label"] = -1, now + 100.0 - 2.0, b"stim"
        out.send(ev)
        wait_qt(lambda: len(v._events) == 1)
        assert abs(v._events[0][0] - (now - 2.0)) < 1e-6   # drawn 2 s ago, not 98 s ahead
    finally:
        clock.set_offsets(saved)
        close_all(v)
        out.close()

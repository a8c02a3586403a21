"""CpuLatencyRequest: a PM QoS request held while the object lives, clear errors otherwise."""
import gc
import os
import re
import sys

import pytest

from acqflow import CpuLatencyRequest
from acqflow.dataflow.cpulatency import DEVICE, CpuLatencyError, current_cpu_latency
from acqflow.testing import run_python

needs_device = pytest.mark.skipif(not (os.path.exists(DEVICE) and os.access(DEVICE, os.R_OK | os.W_OK)),
                                  reason=f"{DEVICE} missing or not readable and writable here")


@needs_device
def test_the_request_holds_while_open_and_ends_with_close():
    before = current_cpu_latency()
    with CpuLatencyRequest(0) as req:
        assert req.active and current_cpu_latency() == 0
        with CpuLatencyRequest(5):                  # the kernel keeps the strictest request
            assert current_cpu_latency() == 0
    assert not req.active and current_cpu_latency() == before
    req.close()                                     # twice: nothing more to do


@needs_device
def test_the_request_ends_with_its_process():
    before = current_cpu_latency()
    run_python("import os; from acqflow import CpuLatencyRequest; r = CpuLatencyRequest(0); os._exit(0)")
    assert current_cpu_latency() == before


@pytest.mark.parametrize("bad", [-1, 1.5, "0", True, 2**31])
def test_a_bad_bound_is_refused_naming_it(bad):
    with pytest.raises(ValueError, match=rf"CPU latency \(microseconds\) must be an int in 0..2147483647, "
                                         rf"got {re.escape(repr(bad))}$"):
        CpuLatencyRequest(bad)


def test_a_missing_or_unusable_device_is_one_line(tmp_path):
    with pytest.raises(CpuLatencyError, match=r"^cannot request a CPU latency of 0 us: .*/nope does not "
                                              r"exist \(this kernel has no PM QoS device\)$"):
        CpuLatencyRequest(0, path=str(tmp_path / "nope"))
    with pytest.raises(CpuLatencyError, match=r": Is a directory$"):
        CpuLatencyRequest(0, path=str(tmp_path))


def test_a_failed_request_leaves_nothing_to_clean(tmp_path, monkeypatch):
    seen = []
    monkeypatch.setattr(sys, "unraisablehook", seen.append)
    with pytest.raises(CpuLatencyError):
        CpuLatencyRequest(0, path=str(tmp_path / "nope"))
    gc.collect()
    assert seen == []


@pytest.mark.skipif(os.geteuid() != 0, reason="drops root to an unprivileged uid")
@needs_device
def test_without_permission_the_error_says_how_to_get_it():
    out = run_python("import os\nfrom acqflow import CpuLatencyRequest\nos.setgid(65534); os.setuid(65534)\n"
                     "try:\n    CpuLatencyRequest(0)\nexcept OSError as e:\n    print(e)\n")
    assert out.stdout.strip() == (f"cannot request a CPU latency of 0 us: no permission to write {DEVICE} "
                                  f"(run as root, or grant write access to it)")

"""Hold a CPU wake-up latency request (Linux PM QoS, ``/dev/cpu_dma_latency``).

An idle core normally halts and wakes slowly (in a VM, through the hypervisor):
tens of microseconds added to every hop whose reader sleeps.  While a request of
``max_us`` is held the kernel keeps every core in idle states that wake within
that bound (0: they poll), as tuned's latency-performance profile and cyclictest
do.  The request lasts as long as the file stays open, and ends with the process.
Idle cores then burn power and host CPU: hold it for a closed loop, not always.
"""
from __future__ import annotations

import os
import struct
import sys
from typing import Callable

from ..errors import Error
from ..paramcheck import int_in

__all__ = ["CpuLatencyRequest", "CpuLatencyError", "current_cpu_latency", "run_holding", "DEVICE"]

DEVICE = "/dev/cpu_dma_latency"
_MAX_US = 2**31 - 1


class CpuLatencyError(Error, OSError):
    """The request cannot be held (no PM QoS device, or no permission to write it)."""


def _check(max_us: object) -> int:
    return int_in("CPU latency (microseconds)", max_us, 0, _MAX_US)


class CpuLatencyRequest:
    """``with CpuLatencyRequest(0): ...`` keeps cores from idling deeper than ``max_us`` us.

    Raises :class:`CpuLatencyError` with a one-line reason when the device is
    missing or not writable (it needs root, or write access granted to it).
    """

    def __init__(self, max_us: int = 0, path: str = DEVICE):
        self._fd: int | None = None
        self.max_us = _check(max_us)
        self.path = path
        cannot = f"cannot request a CPU latency of {max_us} us"
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CLOEXEC)
        except FileNotFoundError:
            raise CpuLatencyError(f"{cannot}: {path} does not exist (this kernel has no PM QoS "
                                  f"device)") from None
        except PermissionError:
            raise CpuLatencyError(f"{cannot}: no permission to write {path} (run as root, or grant "
                                  f"write access to it)") from None
        except OSError as exc:
            raise CpuLatencyError(f"{cannot}: {path}: {exc.strerror}") from None
        try:
            os.write(fd, struct.pack("i", max_us))
        except OSError as exc:
            os.close(fd)
            raise CpuLatencyError(f"{cannot}: writing {path}: {exc.strerror}") from None
        self._fd = fd

    @property
    def active(self) -> bool:
        """True while the request is held (until close())."""
        return self._fd is not None

    def close(self) -> None:
        """Drop the request (closing the file is what ends it)."""
        fd, self._fd = self._fd, None
        if fd is not None:
            os.close(fd)

    def __enter__(self) -> CpuLatencyRequest:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __del__(self) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<CpuLatencyRequest {self.max_us} us {'held' if self.active else 'released'}>"


def current_cpu_latency(path: str = DEVICE) -> int:
    """The bound in force now (us), over every process's requests; needs read access."""
    with open(path, "rb") as f:
        return struct.unpack("i", f.read(4))[0]


def run_holding(max_us: int | None, prog: str, fn: Callable[[], int]) -> int:
    """A command's ``fn()`` run holding its ``--cpu-latency max_us`` (None: no request); a
    request that cannot be made is the command's one-line error, exit status 2."""
    if max_us is None:
        return fn()
    try:
        request = CpuLatencyRequest(max_us)
    except (ValueError, CpuLatencyError) as exc:
        print(f"{prog}: --cpu-latency: {exc}", file=sys.stderr)
        return 2
    with request:
        return fn()

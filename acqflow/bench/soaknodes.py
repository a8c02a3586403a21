"""The soak test's node types: a counter source, a relay and a checking sink.

SoakSource, SoakRelay and SoakSink are node types by entry point (pyproject.toml), so
any group process creates them by name; the soak (:mod:`acqflow.bench.soak`) and the
fault tests also import this module in their groups, which is harmless.
"""
from __future__ import annotations

import threading
import time
from typing import Any

import numpy as np

from ..dataflow.graph.node import Node
from ..dataflow.graph.processing import ProcessingNode
from ..dataflow.streams.threadpoll import ThreadPollInput

__all__ = ["SoakSource", "SoakRelay", "SoakSink", "counter"]


def counter(start: int, stop: int, nchan: int) -> np.ndarray:
    """The soak pattern for samples [start, stop): ``value[i, c] = i * nchan + c`` (int64)."""
    return np.arange(start, stop, dtype=np.int64)[:, None] * nchan + np.arange(nchan, dtype=np.int64)


class SoakSource(Node):
    """Sends the counter pattern at ``rate`` samples/s in chunks of ``chunk`` samples
    (catching up at full speed when it falls behind, e.g. when blocked)."""

    _output_specs = {"signals": {"dtype": "int64", "shape": (-1, 16), "sample_rate": 1000.0}}

    def _configure(self, rate: float = 1000.0, nchan: int = 16, chunk: int = 100) -> None:
        if rate <= 0 or nchan < 1 or chunk < 1:
            raise ValueError(f"SoakSource needs rate > 0, nchan >= 1, chunk >= 1 "
                             f"(got rate={rate!r}, nchan={nchan!r}, chunk={chunk!r})")
        self.rate, self.nchan, self.chunk = float(rate), int(nchan), int(chunk)
        spec = self.outputs["signals"].spec
        spec["sample_rate"], spec["shape"] = self.rate, (-1, self.nchan)

    def _start(self) -> None:
        self._halt = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"{self.name} sender", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        out, t0, n = self.outputs["signals"], time.perf_counter(), 0
        try:
            while not self._halt.wait(max(0.0, t0 + (n + self.chunk) / self.rate - time.perf_counter())):
                i0 = out.index
                out.send(counter(i0, i0 + self.chunk, self.nchan))
                n += self.chunk
        except Exception as exc:          # a closed stream while stopping is not an error
            if not self._halt.is_set():
                self.set_error(f"sending failed: {exc!r}")

    def _stop(self) -> None:
        self._halt.set()
        self._thread.join()


class SoakRelay(ProcessingNode):
    """Forwards each chunk unchanged, in its own process (a stand-in for a filter)."""

    def process(self, index: int, data: np.ndarray) -> np.ndarray:
        return data


class SoakSink(Node):
    """Receives the counter pattern and checks every value and index.

    ``report()`` gives samples received, first/last index, index
    discontinuities seen by this node (``jumps``, as ``(expected, got)``),
    chunks with a wrong value (``bad_chunks``), and the input's own gap counters.
    """

    _input_specs = {"input": {}}

    def _configure(self, check: bool = True) -> None:
        self.check = bool(check)

    def _initialize(self) -> None:
        self.samples = self.bad_chunks = 0
        self.first_index: int | None = None
        self.next_index: int | None = None
        self.jumps: list[tuple[int, int]] = []
        self.bad: list[str] = []
        self._poller: ThreadPollInput | None = None

    def _start(self) -> None:
        self._poller = ThreadPollInput(self.inputs["input"], return_data=True, name=f"{self.name} worker",
                                       on_data=self._handle, on_error=self.set_error)
        self._poller.start()

    def _handle(self, index: int, data: np.ndarray) -> None:
        n = data.shape[0]
        start = index - n
        if self.first_index is None:
            self.first_index = start
        elif start != self.next_index and self.next_index is not None:
            self.jumps.append((self.next_index, start))
        if self.check and n and not np.array_equal(data, counter(start, index, data.shape[1])):
            self.bad_chunks += 1
            if len(self.bad) < 10:
                self.bad.append(f"chunk [{start}, {index}) first values {data[0, :3].tolist()}")
        self.next_index = index
        self.samples += n

    def _stop(self) -> None:
        if self._poller is not None:
            self._poller.stop()
            self._poller.join()
            self._poller = None

    def report(self) -> dict[str, Any]:
        """What arrived, what was missing, what was wrong (plain values)."""
        inp = self.inputs["input"]
        return {"samples": self.samples, "first_index": self.first_index, "last_index": self.next_index,
                "jumps": [list(j) for j in self.jumps[-100:]], "n_jumps": len(self.jumps),
                "bad_chunks": self.bad_chunks, "bad": list(self.bad), "gaps": inp.gaps,
                "dropped": inp.dropped, "gap_log": [list(g) for g in inp.gap_log]}

"""LSLOutlet: publishes a stream of the graph on Lab Streaming Layer (through pylsl)."""
from __future__ import annotations

import socket

import numpy as np

from ..dataflow.errors import StreamClosed
from ..dataflow.spec import make_dtype
from ..devices._base import DeviceNode
from ..devices._lsl import clock_offset, lsl_format_for, pylsl

__all__ = ["LSLOutlet"]


class LSLOutlet(DeviceNode):
    """Pushes every chunk of input ``signals`` to an LSL outlet.

    An 'analogsignal' input becomes a numeric LSL stream (same dtype, channel
    count, ``sample_rate`` as nominal rate, channel labels, units and types from
    ``channel_info``), pushed chunk by chunk with each sample's source time: the
    chunk's sample time (the source's clock, converted to this process's) is the
    last sample's, earlier ones step back by ``1 / sample_rate``; a chunk that came
    faster than its rate (a burst) is spread evenly after the previous one, so stamps
    never go backwards.  An 'event' input becomes a one-channel string (marker) stream;
    an event with a ``time`` field is stamped with that time on LSL's clock.  The
    default ``source_id`` is stable (host, node, stream name and upstream port), so
    liblsl inlets recover after a restart.  When the input's output closes,
    ``input_ended`` is set and the outlet stays open.
    """

    _input_specs = {"signals": {}}
    # `acqflow run --check` does not configure it: its configure imports pylsl
    dry_configure = False

    def _configure(self, name: str = "acqflow", type: str = "EEG", source_id: str = "",
                   chunk_size: int = 0, max_buffered: int = 360) -> None:
        """Parameters:

        name / type / source_id: the LSL stream's identity (inlets resolve by these);
            source_id '' (default): ``acqflow:<host>:<node>:<name>:<upstream node.port>``.
        chunk_size: LSL transmission chunk (0: as pushed).  max_buffered: seconds
            the outlet keeps for slow inlets.
        """
        pylsl()
        if not name:
            raise ValueError(f"{self.name}: the LSL stream needs a name")
        self.lsl_name, self.lsl_type, self.source_id = str(name), str(type), str(source_id)
        self.chunk_size, self.max_buffered = int(chunk_size), int(max_buffered)

    def _initialize(self) -> None:
        lsl = pylsl()
        params = self.inputs["signals"].params
        kind = params.get("streamtype")
        dtype = make_dtype(params["dtype"])
        rate = float(params.get("sample_rate") or 0.0)
        self._period = 1.0 / rate if rate > 0 and not params.get("irregular_rate") else 0.0
        if not self.source_id:
            upstream = ".".join(str(params[k]) for k in ("node", "name") if params.get(k))
            self.source_id = (f"acqflow:{socket.gethostname()}:{self.name}:{self.lsl_name}:"
                              f"{upstream or 'signals'}")
        if params.get("irregular_rate"):
            rate = lsl.IRREGULAR_RATE
        if kind == "event":
            if "label" not in (dtype.names or ()):
                raise ValueError(f"{self.name}: event input has no 'label' field ({dtype})")
            info = lsl.StreamInfo(self.lsl_name, self.lsl_type, 1, lsl.IRREGULAR_RATE,
                                  lsl.cf_string, self.source_id)
            self._events = True
        elif kind == "analogsignal":
            shape = params.get("shape")
            if not shape or len(shape) != 2:
                raise ValueError(f"{self.name}: needs a (time, channels) input with a shape, got "
                                 f"shape={shape}")
            info = lsl.StreamInfo(self.lsl_name, self.lsl_type, int(shape[1]), rate,
                                  lsl_format_for(dtype), self.source_id)
            labels = params.get("channel_info") or []
            channels = info.desc().append_child("channels")
            for i in range(int(shape[1])):
                entry = labels[i] if i < len(labels) else {}
                label = entry.get("name", f"ch{i}") if isinstance(entry, dict) else str(entry)
                ch = channels.append_child("channel")
                ch.append_child_value("label", str(label))
                units = entry.get("units") if isinstance(entry, dict) else None
                units = units or (params.get("units") if isinstance(params.get("units"), str)
                                  else None)
                if units:
                    ch.append_child_value("unit", str(units))
                if isinstance(entry, dict) and entry.get("type"):
                    ch.append_child_value("type", str(entry["type"]))
            self._events = False
        else:
            raise ValueError(f"{self.name}: LSL carries 'analogsignal' or 'event' streams, not "
                             f"{kind!r}")
        info.desc().append_child_value("acquisition", "acqflow")
        self._dtype = dtype
        self._outlet = lsl.StreamOutlet(info, chunk_size=self.chunk_size,
                                        max_buffered=self.max_buffered)
        self.info = info
        self.pushed = 0
        self.input_ended = False
        self._last_stamp = -np.inf

    def have_consumers(self) -> bool:
        """True once at least one LSL inlet is connected."""
        return bool(self._outlet.have_consumers())

    def wait_for_consumers(self, timeout: float) -> bool:
        """Wait up to ``timeout`` s until an LSL inlet has opened the outlet; False on timeout."""
        return bool(self._outlet.wait_for_consumers(timeout))

    def _start(self) -> None:
        self.add_worker(self._step, "pusher")

    def _step(self) -> bool | None:
        try:
            index, data = self.inputs["signals"].recv(timeout=100, return_data=True)
        except TimeoutError:
            return None
        except StreamClosed:
            self.input_ended = True
            return False
        if self._events:
            offset = clock_offset() if "time" in data.dtype.names else None
            for ev in data:
                stamp = ev["time"] - offset if offset is not None else 0.0
                self._outlet.push_sample([ev["label"].decode("utf-8", "replace")], stamp)
        else:
            self._outlet.push_chunk(np.ascontiguousarray(data), self._stamps(len(data)).tolist())
        self.pushed += len(data)
        return None

    def _stamps(self, n: int) -> np.ndarray:
        """LSL stamps of the ``n`` samples just received: the chunk's sample time (when its
        last sample was taken, on this process's clock, then LSL's) for the last, ``1/rate``
        apart, never going back (a burst is spread evenly after the previous chunk's last
        stamp)."""
        inp = self.inputs["signals"]
        t = inp.local_sample_time
        if t is None:
            t = inp.last_send_time_local if inp.last_send_time_local is not None \
                else inp.last_send_time
        last = (t - clock_offset()) if t is not None else pylsl().local_clock()
        last = max(last, self._last_stamp)
        stamps = last - np.arange(n - 1, -1, -1) * self._period
        if stamps[0] <= self._last_stamp:    # faster than the rate (burst, jitter): spread
            step = (last - self._last_stamp) / n
            stamps = last - np.arange(n - 1, -1, -1) * step
        self._last_stamp = last
        return stamps

    def _close_device(self) -> None:
        self._outlet = None

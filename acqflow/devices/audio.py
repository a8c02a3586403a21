"""AudioDevice: sound capture and playback through PortAudio (sounddevice)."""
from __future__ import annotations

import logging
from typing import Any

import numpy as np

from ..dataflow.streams import clock
from ..dataflow import paramcheck
from ..dataflow.errors import StreamClosed
from ._base import DeviceNode, require
from .stats import AudioStats

__all__ = ["AudioDevice", "AUDIO_DTYPES", "list_audio_devices"]

log = logging.getLogger(__name__)

AUDIO_DTYPES = ("float32", "int32", "int16", "int8", "uint8")
_MAX_SILENCE_S = 1.0     # longest upstream gap played as silence


def _sd():
    return require("sounddevice", "audio", "AudioDevice")


def list_audio_devices() -> list[dict]:
    """Every PortAudio device as {index, name, hostapi, max_input_channels, ...}."""
    sd = _sd()
    return [dict(d) for d in sd.query_devices()]


def _describe(devices: list[dict], kind: str) -> str:
    key = f"max_{kind}_channels"
    found = [f"{d['index']}: {d['name']!r} ({d[key]} ch, {d['default_samplerate']:g} Hz)"
             for d in devices if d[key] > 0]
    return "; ".join(found) or "none"


def find_device(device: int | str | None, kind: str) -> dict:
    """Resolve a device index, exact name, unique name substring or 'default'.

    ``kind`` is 'input' or 'output'; ValueError lists the available devices.
    """
    sd = _sd()
    devices = list_audio_devices()
    key = f"max_{kind}_channels"
    if device in ("default", None):
        default = sd.default.device[0 if kind == "input" else 1]
        if default is None or default < 0:
            raise ValueError(f"no default {kind} audio device; available: {_describe(devices, kind)}")
        device = default
    if isinstance(device, (int, np.integer)):
        matches = [d for d in devices if d["index"] == device]
    elif isinstance(device, str):
        matches = [d for d in devices if d["name"] == device] or \
                  [d for d in devices if device.lower() in d["name"].lower() and d[key] > 0]
    else:
        paramcheck.must_be("audio device", "an index or a name", device)
    if len(matches) != 1 or matches[0][key] < 1:
        what = "ambiguous" if len(matches) > 1 else "unknown"
        raise ValueError(f"{what} {kind} audio device {device!r}; available {kind} devices: "
                         f"{_describe(devices, kind)}")
    return matches[0]


class AudioDevice(DeviceNode):
    """Captures to output ``signals`` and/or plays input ``signals`` on a sound card.

    Give ``input_device`` to capture, ``output_device`` to play, or both.  Capture
    overflows (data PortAudio discarded) advance the output index over the lost
    span, estimated from the stream clock and at least one block, so inputs see a
    gap; playback underflows (silence the card inserted) are counted.  Both are in
    ``stats()``; a PortAudio error moves the node to ``error``.
    """

    _input_specs = {"signals": {"streamtype": "analogsignal"}}
    _output_specs = {"signals": {"streamtype": "analogsignal"}}
    # `acqflow run --check` does not configure it: its configure opens the sound device
    dry_configure = False

    def __init__(self, name: str | None = None):
        super().__init__(name=name)
        self._all_inputs, self._all_outputs = dict(self.inputs), dict(self.outputs)
        self._in_stream: Any = None      # sounddevice streams once initialized
        self._out_stream: Any = None
        self._t_start = 0.0              # capture: the input stream's start time,
        self._captured = 0               # samples read since,
        self._next_index = 0             # and the index of the next one sent
        self._played_index: int | None = None

    def _configure(self, input_device: int | str | None = None, output_device: int | str | None = None,
                   channels: int = 2, sample_rate: float = 44100.0, dtype: str = "float32",
                   blocksize: int = 1024, latency: str | float = "high") -> None:
        """Parameters:

        input_device / output_device: PortAudio device index, name (exact or a unique
            part of it) or 'default'; None disables that direction.
        channels, sample_rate, dtype (one of AUDIO_DTYPES), blocksize (frames per
        chunk), latency ('low', 'high' or seconds), as in sounddevice.
        """
        sd = _sd()
        if input_device is None and output_device is None:
            raise ValueError(f"{self.name}: give input_device (capture) and/or output_device "
                             f"(playback); input devices: {_describe(list_audio_devices(), 'input')}")
        if str(dtype) not in AUDIO_DTYPES:
            raise ValueError(f"{self.name}: dtype {dtype!r} is not supported; use one of "
                             f"{', '.join(AUDIO_DTYPES)}")
        paramcheck.int_in(f"{self.name}: channels", channels)
        paramcheck.int_in(f"{self.name}: blocksize", blocksize)
        paramcheck.positive_number(f"{self.name}: sample_rate", sample_rate)
        found = {}
        for kind, dev in (("input", input_device), ("output", output_device)):
            if dev is None:
                continue
            info = find_device(dev, kind)
            check = sd.check_input_settings if kind == "input" else sd.check_output_settings
            try:
                check(device=info["index"], channels=int(channels), dtype=str(dtype),
                      samplerate=float(sample_rate))
            except Exception as exc:
                raise ValueError(
                    f"{self.name}: {kind} device {info['index']} {info['name']!r} refuses "
                    f"channels={channels}, sample_rate={sample_rate:g}, dtype={dtype} ({exc}); it has "
                    f"{info[f'max_{kind}_channels']} {kind} channels, default rate "
                    f"{info['default_samplerate']:g} Hz") from None
            found[kind] = info
        if "input" not in found and self._all_outputs["signals"].configured:
            raise ValueError(f"{self.name}: output 'signals' is configured but no input_device")
        if "output" not in found and self._all_inputs["signals"].connected:
            raise ValueError(f"{self.name}: input 'signals' is connected but no output_device")
        self.inputs = {k: v for k, v in self._all_inputs.items() if "output" in found}
        self.outputs = {k: v for k, v in self._all_outputs.items() if "input" in found}
        self.devices = found
        self.channels, self.sample_rate, self.dtype = int(channels), float(sample_rate), np.dtype(dtype)
        self.blocksize, self.latency = int(blocksize), latency
        if "input" in found:
            channel_info = [{"name": f"{found['input']['name']}:{i}"} for i in range(self.channels)]
            self._set_output_spec("signals", streamtype="analogsignal", dtype=self.dtype.str,
                                  shape=(-1, self.channels), sample_rate=self.sample_rate,
                                  channel_info=channel_info, device=found["input"]["name"])
        if "output" in found:
            spec = self.inputs["signals"].spec
            spec.update(streamtype="analogsignal", dtype=self.dtype.str, shape=(-1, self.channels))

    # -- life-cycle ----------------------------------------------------------
    def _initialize(self) -> None:
        sd = _sd()
        self._check_outputs()
        self.overflows = self.lost_samples = self.underflows = self.silence_samples = 0
        self.played_samples = 0
        self.playback_ended = False
        common = dict(samplerate=self.sample_rate, channels=self.channels, dtype=self.dtype.name,
                      blocksize=self.blocksize, latency=self.latency)
        if "input" in self.devices:
            self._in_stream = sd.InputStream(device=self.devices["input"]["index"], **common)
        if "output" in self.devices:
            self._out_stream = sd.OutputStream(device=self.devices["output"]["index"], **common)

    def _start(self) -> None:
        if self._in_stream is not None:
            self._in_stream.start()
            self._t_start = self._in_stream.time
            self._captured = 0
            self._next_index = self.outputs["signals"].index
            self.add_worker(self._capture_step, "capture")
        if self._out_stream is not None:
            self._played_index = None
            self._out_stream.start()
            self.add_worker(self._play_step, "playback")

    def _stop_device(self) -> None:
        for stream in (self._in_stream, self._out_stream):
            if stream is not None and stream.active:
                stream.stop()

    def _close_device(self) -> None:
        for stream in (self._in_stream, self._out_stream):
            if stream is not None:
                try:
                    stream.close(ignore_errors=True)
                except Exception:   # pragma: no cover
                    log.exception("closing %s", stream)
        self._in_stream = self._out_stream = None

    # -- capture -------------------------------------------------------------
    def _capture_step(self) -> None:
        data, overflowed = self._in_stream.read(self.blocksize)
        self.deliver(data, overflowed, self._block_time())

    def _block_time(self) -> float | None:
        """When the block just read ended at the converter, on acqflow's clock: now, less
        what PortAudio holds after it and the input latency (None if it cannot say)."""
        try:
            stream = self._in_stream
            behind = stream.read_available / self.sample_rate + float(np.ravel(stream.latency)[0])
        except Exception:
            return None
        return clock.now() - behind if np.isfinite(behind) and behind >= 0 else None

    def deliver(self, data: np.ndarray, overflowed: bool = False, time: float | None = None) -> None:
        """Send one captured block (``time``: when its last sample was taken, default now);
        after an overflow, first skip the lost span."""
        lost = 0
        if overflowed:
            lost = self._estimate_lost(len(data))
            self.overflows += 1
            self.lost_samples += lost
            log.warning("%s: input overflow, about %d samples lost", self.name, lost)
        self._captured += lost + len(data)
        self._next_index += lost + len(data)
        self.outputs["signals"].send(data, index=self._next_index, time=time)

    def _estimate_lost(self, n: int) -> int:
        """Samples PortAudio discarded: the stream clock's count minus what we got."""
        try:
            stream = self._in_stream
            elapsed = stream.time - self._t_start
            pending = stream.read_available
            estimate = int(round(elapsed * self.sample_rate)) - self._captured - n - pending
        except Exception:
            estimate = 0
        return max(estimate, self.blocksize)

    # -- playback ------------------------------------------------------------
    def _play_step(self) -> bool | None:
        inp = self.inputs["signals"]
        try:
            index, data = inp.recv(timeout=100, return_data=True)
        except TimeoutError:
            return None
        except StreamClosed:
            self.playback_ended = True
            log.info("%s: playback input closed after %d samples", self.name, self.played_samples)
            return False
        start = index - len(data)
        if self._played_index is not None and start > self._played_index:
            gap = min(start - self._played_index, int(_MAX_SILENCE_S * self.sample_rate))
            self._write(np.zeros((gap, self.channels), self.dtype))
            self.silence_samples += gap
        self._write(data)
        self.played_samples += len(data)
        self._played_index = index
        return None

    def _write(self, data: np.ndarray) -> None:
        if self._out_stream.write(np.ascontiguousarray(data)):
            self.underflows += 1
            log.warning("%s: output underflow (the card played silence)", self.name)

    def stats(self) -> AudioStats:
        """Loss counters: overflows, lost_samples, underflows, silence_samples, played_samples."""
        return AudioStats(**{k: getattr(self, k, 0) for k in ("overflows", "lost_samples", "underflows",
                                                            "silence_samples", "played_samples")})

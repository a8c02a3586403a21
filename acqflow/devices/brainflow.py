"""BrainFlowBoard: an EEG/biosensor board read through BrainFlow's BoardShim (extra ``brainflow``)."""
from __future__ import annotations

import difflib
from types import ModuleType
from typing import Any, Sequence

import numpy as np

from ..dataflow.graph.node import NodeStateError
from ..dataflow import paramcheck as check
from ._base import DeviceNode, current_worker, require
from .events import event_dtype

__all__ = ["BrainFlowBoard", "board_names", "resolve_board_id", "EXG_KINDS", "AUX_KINDS"]

# rows of BrainFlow's board description that hold electrode signals (microvolts)
EXG_KINDS = ("eeg", "exg", "emg", "ecg", "eog")
# other sensor rows, sent on ``aux`` in this order
AUX_KINDS = ("accel", "gyro", "magnetometer", "ppg", "eda", "temperature", "resistance",
             "battery", "rotation", "optical", "other")


def _bf() -> ModuleType:
    return require("brainflow.board_shim", "brainflow", "BrainFlowBoard")


def board_names() -> list[str]:
    """Every ``BoardIds`` name BrainFlow knows (``SYNTHETIC_BOARD``, ``CYTON_BOARD``, ...)."""
    return [b.name for b in _bf().BoardIds]


def resolve_board_id(board_id: int | str, what: str = "board_id") -> int:
    """A ``BoardIds`` name (any case) or number -> the number; ValueError names the bad one."""
    ids = _bf().BoardIds
    if isinstance(board_id, str) and board_id.strip().lstrip("-").isdigit():
        board_id = int(board_id)
    if isinstance(board_id, (int, np.integer)) and not isinstance(board_id, bool):
        if int(board_id) in {b.value for b in ids}:
            return int(board_id)
    elif isinstance(board_id, str) and board_id.strip().upper() in ids.__members__:
        return int(ids[board_id.strip().upper()].value)
    close = difflib.get_close_matches(str(board_id).upper(), list(ids.__members__), n=1)
    hint = f"did you mean {close[0]}? " if close else ""
    text = repr(board_id) if len(repr(board_id)) <= 60 else repr(board_id)[:57] + "..."
    raise ValueError(f"unknown BrainFlow {what} {text}; {hint}valid names: "
                     "acqflow.devices.brainflow.board_names() (BrainFlow's BoardIds)")


def _channel_rows(descr: dict[str, Any]) -> tuple[list[int], list[tuple[int, str, str]]]:
    """(EXG rows, [(row, kind, name)] of the aux rows) of a board description."""
    exg = sorted({r for k in EXG_KINDS for r in descr.get(f"{k}_channels", [])})
    skip = set(exg) | {descr.get("timestamp_channel"), descr.get("marker_channel"),
                       descr.get("package_num_channel")}
    aux: list[tuple[int, str, str]] = []
    for kind in AUX_KINDS:
        rows = descr.get(f"{kind}_channels", descr.get(f"{kind}_channel"))
        rows = [rows] if isinstance(rows, int) else list(rows or [])
        for k, row in enumerate(rows):
            if row not in skip:
                skip.add(row)
                aux.append((row, kind, kind if len(rows) == 1 else f"{kind}{k}"))
    return exg, aux


class BrainFlowBoard(DeviceNode):
    """Streams a BrainFlow board: ``signals`` (EXG rows, microvolts), ``aux`` (other sensors,
    when the board has any), ``markers`` (events) and ``timestamps`` (the board's clock).

    Channel names, rows and rate come from BrainFlow's board description (for
    ``PLAYBACK_FILE_BOARD``/``STREAMING_BOARD``: the ``master_board``'s).  ``signals``,
    ``aux`` and ``timestamps`` share sample indexes; ``timestamps`` holds BrainFlow's
    timestamp channel (Unix time, s, the host clock like acqflow's).  A non-zero value
    of the marker channel becomes one ``markers`` event ``(index, time, label)`` with
    the index of its sample in ``signals``.
    """

    _output_specs = {"signals": {"streamtype": "analogsignal"}, "aux": {"streamtype": "analogsignal"},
                     "markers": {"streamtype": "event"},
                     "timestamps": {"streamtype": "analogsignal"}}
    # `acqflow run --check` does not configure it: its configure imports BrainFlow and reads the board's description
    dry_configure = False

    def __init__(self, name: str | None = None):
        super().__init__(name=name)
        self._board: Any = None          # a brainflow BoardShim once prepared
        self._aux_out = self.outputs["aux"]

    def _configure(self, board_id: int | str = "SYNTHETIC_BOARD", poll_interval: float = 0.02,
                   buffer_size: int = 450000, label_size: int = 16,
                   config_board: str | Sequence[str] = (), **input_params: Any) -> None:
        """Parameters:

        board_id: a BrainFlow ``BoardIds`` name (``SYNTHETIC_BOARD``, ``CYTON_BOARD``...)
            or its number.  input_params: ``BrainFlowInputParams`` fields (``serial_port``,
            ``ip_address``, ``ip_port``, ``mac_address``, ``serial_number``, ``file``,
            ``master_board`` (a name or number), ``other_info``, ``timeout``, ...).
        poll_interval: s between reads of BrainFlow's buffer.  buffer_size: samples
            BrainFlow buffers for us.  label_size: bytes per marker label.
        config_board: command(s) for ``BoardShim.config_board`` after the session opens
            (board-specific; for playback e.g. ``old_timestamps``, ``loopback_true``).
        """
        bf = _bf()
        bid = resolve_board_id(board_id)
        params = bf.BrainFlowInputParams()
        for key, value in input_params.items():
            if key not in vars(params):
                raise ValueError(f"{self.name}: unknown BrainFlow input param {key!r}; known: "
                                 f"{', '.join(vars(params))}")
            if key == "master_board":
                value = resolve_board_id(value, "master_board")
            setattr(params, key, type(getattr(params, key))(value))
        check.positive_number(f"{self.name}: poll_interval", poll_interval, " s")
        master = bid
        if bid in (bf.BoardIds.PLAYBACK_FILE_BOARD.value, bf.BoardIds.STREAMING_BOARD.value):
            if params.master_board == bf.BoardIds.NO_BOARD.value:
                raise ValueError(f"{self.name}: board {bf.BoardIds(bid).name} needs master_board "
                                 "(the board the data came from, e.g. 'SYNTHETIC_BOARD')")
            master = params.master_board
        descr = bf.BoardShim.get_board_descr(master)
        exg, aux = _channel_rows(descr)
        rate = float(descr["sampling_rate"])
        names = [n for n in str(descr.get("eeg_names", "")).split(",") if n]
        if len(names) != len(exg):
            names = [f"EXG{k}" for k in range(len(exg))]
        self.board_id, self.master_board, self.descr = bid, master, descr
        self.input_params, self.poll_interval, self.buffer_size = params, float(poll_interval), \
            int(buffer_size)
        self.exg_rows, self.aux_rows = exg, [r for r, _, _ in aux]
        self.ts_row, self.marker_row = descr.get("timestamp_channel"), descr.get("marker_channel")
        self.label_size, self.sample_rate = int(label_size), rate
        self.config_commands = [config_board] if isinstance(config_board, str) else list(config_board)
        meta = {"board_id": bf.BoardIds(bid).name, "board_name": descr.get("name"),
                "master_board": bf.BoardIds(master).name}
        self._set_output_spec("signals", streamtype="analogsignal", dtype="float64",
                              shape=(-1, len(exg)), sample_rate=rate, units="uV",
                              channel_info=[{"name": n, "units": "uV", "brainflow_row": r}
                                            for n, r in zip(names, exg)], **meta)
        if aux:
            self.outputs["aux"] = self._aux_out
            self._set_output_spec("aux", streamtype="analogsignal", dtype="float64",
                                  shape=(-1, len(aux)), sample_rate=rate, **meta,
                                  channel_info=[{"name": n, "kind": k, "brainflow_row": r}
                                                for r, k, n in aux])
        else:
            self.outputs.pop("aux", None)
        self._set_output_spec("markers", streamtype="event", dtype=event_dtype(label_size).descr,
                              shape=(-1,), sample_rate=rate, time_field="time",
                              label_size=self.label_size, reference_rate=rate, **meta)
        self._set_output_spec("timestamps", streamtype="analogsignal", dtype="float64",
                              shape=(-1, 1), sample_rate=rate,
                              channel_info=[{"name": "time", "units": "s", "clock": "unix"}])

    # -- life-cycle ----------------------------------------------------------
    def _initialize(self) -> None:
        self._check_outputs()
        bf = _bf()
        bf.BoardShim.set_log_level(bf.LogLevels.LEVEL_WARN.value)
        self._board = bf.BoardShim(self.board_id, self.input_params)
        self._board.prepare_session()
        for command in self.config_commands:
            self._board.config_board(command)
        self.received = 0

    def _start(self) -> None:
        self._board.start_stream(self.buffer_size)
        self.add_worker(self._step, "reader")

    def insert_marker(self, value: float) -> None:
        """Write ``value`` (non-zero) into the marker channel of the next sample (BrainFlow)."""
        if self.state != "running":
            raise NodeStateError(f"cannot insert_marker() on node {self.name!r} in state "
                                 f"{self.state!r}: start() it first")
        if not value:
            check.must_be(f"{self.name}: a marker value", "non-zero", value)
        self._board.insert_marker(float(value))

    def _step(self) -> None:
        current_worker().stopping.wait(self.poll_interval)
        self._read()

    def _read(self) -> None:
        data = self._board.get_board_data()
        n = data.shape[1]
        if not n:
            return
        start = self.outputs["signals"].index
        times = data[self.ts_row].astype(np.float64)
        # the chunk's time: the board's stamp of its last sample (now when it has none)
        last = float(times[-1]) if np.isfinite(times[-1]) and times[-1] > 0 else None
        self.outputs["signals"].send(np.ascontiguousarray(data[self.exg_rows].T), time=last)
        if "aux" in self.outputs:
            self.outputs["aux"].send(np.ascontiguousarray(data[self.aux_rows].T), time=last)
        self.outputs["timestamps"].send(times[:, np.newaxis], time=last)
        if self.marker_row is not None:
            hits = np.nonzero(data[self.marker_row])[0]
            if len(hits):
                events = np.zeros(len(hits), dtype=event_dtype(self.label_size))
                events["index"] = start + hits
                events["time"] = times[hits]
                events["label"] = [f"{v:g}".encode()[:self.label_size]
                                   for v in data[self.marker_row, hits]]
                self.outputs["markers"].send(events)
        self.received += n

    def _stop_device(self) -> None:
        if self._board is not None and self._board.is_prepared():
            try:
                self._board.stop_stream()
            finally:
                self._read()                 # what arrived before stop()

    def _close_device(self) -> None:
        board, self._board = self._board, None
        if board is not None and board.is_prepared():
            board.release_session()

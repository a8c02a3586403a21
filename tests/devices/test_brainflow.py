"""BrainFlowBoard with BrainFlow's real library: SYNTHETIC_BOARD, PLAYBACK_FILE_BOARD, in a spawned group."""
import time

import numpy as np
import pytest

from acqflow import InputStream
from acqflow.dataflow.node import NodeStateError
from acqflow.testing import run_python
from acqflow.testing import wait_for

board_shim = pytest.importorskip("brainflow.board_shim")
from brainflow.data_filter import DataFilter  # noqa: E402

from acqflow.devices.brainflow import BrainFlowBoard, board_names  # noqa: E402

pytestmark = pytest.mark.timeout(120)
SYNTH = board_shim.BoardShim.get_board_descr(board_shim.BoardIds.SYNTHETIC_BOARD.value)


def open_board(protocol="inproc", **kw):
    node = BrainFlowBoard(name="board")
    node.configure(**kw)
    for out in node.outputs.values():
        out.configure(protocol=protocol)
    node.initialize()
    inputs = {}
    for name, out in node.outputs.items():
        inputs[name] = InputStream()
        inputs[name].connect(out)
    return node, inputs


def drain(inp, timeout=0.2):
    """Everything the input has received so far (waits ``timeout`` s for more)."""
    chunks = []
    while inp.poll(timeout=int(timeout * 1000)):
        chunks.append(inp.recv()[1])
    return chunks


def test_synthetic_board_outputs_and_metadata():
    node, ins = open_board(board_id="SYNTHETIC_BOARD", poll_interval=0.01)
    sig, aux = node.outputs["signals"].params, node.outputs["aux"].params
    assert sig["sample_rate"] == 250.0 and sig["units"] == "uV" and sig["shape"] == (-1, 16)
    assert [c["name"] for c in sig["channel_info"]] == SYNTH["eeg_names"].split(",")
    assert {c["units"] for c in sig["channel_info"]} == {"uV"}
    assert [c["name"] for c in aux["channel_info"]][:3] == ["accel0", "accel1", "accel2"]
    assert aux["shape"] == (-1, len(aux["channel_info"])) and aux["channel_info"][0]["brainflow_row"] == 17
    assert node.outputs["markers"].params["streamtype"] == "event"
    node.start()
    got = {k: [] for k in ins}
    wait_for(lambda: node.received >= 50, timeout=30)
    node.insert_marker(3)
    deadline = time.monotonic() + 30
    while not got["markers"] and time.monotonic() < deadline:
        got["markers"] += drain(ins["markers"])
    node.stop()
    for name in ("signals", "aux", "timestamps"):
        got[name] += drain(ins[name], 1.0)
    received = node.received
    node.close()
    sig_data = np.concatenate(got["signals"])
    times = np.concatenate(got["timestamps"])[:, 0]
    assert len(sig_data) == len(times) == len(np.concatenate(got["aux"])) == received
    assert sig_data.dtype == np.float64 and np.all(np.diff(times) >= 0)
    assert abs(times[-1] - time.time()) < 60                     # Unix time, the host clock
    # each chunk's time is the board's stamp of its last sample
    assert ins["signals"].last_sample_time == ins["aux"].last_sample_time == times[-1]
    (marker,) = np.concatenate(got["markers"])
    assert marker["label"] == b"3" and 50 <= marker["index"] < received
    assert marker["time"] == times[marker["index"]]


def record_synthetic_file(path, seconds=1.0):
    """A BrainFlow file written the documented way: a synthetic session and DataFilter.write_file."""
    board = board_shim.BoardShim(board_shim.BoardIds.SYNTHETIC_BOARD.value,
                                 board_shim.BrainFlowInputParams())
    board.prepare_session()
    board.start_stream()
    wait_for(lambda: board.get_board_data_count() >= 250 * seconds, timeout=30)
    board.stop_stream()
    data = board.get_board_data()
    board.release_session()
    DataFilter.write_file(data, str(path), "w")
    return DataFilter.read_file(str(path))


def test_playback_file_board_replays_the_file(tmp_path):
    rows = record_synthetic_file(tmp_path / "session.csv")
    n = rows.shape[1]
    node, ins = open_board(board_id="PLAYBACK_FILE_BOARD", master_board="SYNTHETIC_BOARD",
                           file=str(tmp_path / "session.csv"), config_board="old_timestamps")
    assert node.outputs["signals"].params["master_board"] == "SYNTHETIC_BOARD"
    node.start()
    chunks = {k: [] for k in ("signals", "aux", "timestamps")}

    def read_until_the_end():
        # read while waiting: chunks left queued over max_queue_s (1 s) would be dropped
        # as stale (counted, but missing from what this test compares)
        for k in chunks:
            chunks[k] += drain(ins[k], 0)
        return node.received >= n
    wait_for(read_until_the_end, timeout=60, message="playback did not reach the end")
    node.stop()
    got = {k: np.concatenate(chunks[k] + drain(ins[k], 1.0)) for k in chunks}
    assert all(ins[k].dropped == 0 for k in chunks)
    node.close()
    exg = [c["brainflow_row"] for c in node.outputs["signals"].params["channel_info"]]
    auxr = [c["brainflow_row"] for c in node.outputs["aux"].params["channel_info"]]
    np.testing.assert_array_equal(got["signals"][:n], rows[exg].T)
    np.testing.assert_array_equal(got["aux"][:n], rows[auxr].T)
    np.testing.assert_array_equal(got["timestamps"][:n, 0], rows[SYNTH["timestamp_channel"]])


def test_bad_board_and_params_give_one_line_errors():
    node = BrainFlowBoard(name="board")
    with pytest.raises(ValueError) as err:
        node.configure(board_id="SYNTHETIC_BORD")
    text = str(err.value)
    assert "'SYNTHETIC_BORD'" in text and "did you mean SYNTHETIC_BOARD" in text
    assert "board_names()" in text and "\n" not in text
    with pytest.raises(ValueError, match=r"unknown BrainFlow board_id 123456;"):
        node.configure(board_id=123456)
    with pytest.raises(ValueError, match=r"unknown BrainFlow input param 'serialport'"):
        node.configure(board_id="SYNTHETIC_BOARD", serialport="/dev/ttyUSB0")
    with pytest.raises(ValueError, match=r"PLAYBACK_FILE_BOARD needs master_board"):
        node.configure(board_id="PLAYBACK_FILE_BOARD", file="x.csv")
    with pytest.raises(ValueError, match=r"unknown BrainFlow master_board 'nope'"):
        node.configure(board_id="PLAYBACK_FILE_BOARD", master_board="nope")
    assert "SYNTHETIC_BOARD" in board_names() and "CYTON_BOARD" in board_names()
    node.configure(board_id=str(board_shim.BoardIds.SYNTHETIC_BOARD.value))   # a number works too
    assert node.outputs["signals"].spec["board_id"] == "SYNTHETIC_BOARD"
    node.close()


def test_missing_brainflow_names_the_extra():
    code = ("from acqflow.devices.brainflow import BrainFlowBoard\n"
            "try:\n    BrainFlowBoard().configure()\nexcept ImportError as exc:\n    print(exc)\n")
    out = run_python(code, block=["brainflow"])
    assert out.stdout.startswith("BrainFlowBoard needs the 'brainflow.board_shim' package: "
                                 "pip install acqflow[brainflow]")


def test_board_in_a_manager_group_process():
    from acqflow.manager import Manager
    with Manager(heartbeat=0.5) as manager:
        group = manager.create_nodegroup("eeg")
        group.import_module("acqflow.devices.brainflow")
        node = group.create_node("BrainFlowBoard", "board")
        node.configure(board_id="SYNTHETIC_BOARD")
        for name in ("signals", "timestamps"):
            node.outputs[name].configure(protocol="tcp")
        node.initialize()
        sig, ts = InputStream(), InputStream()
        sig.connect(node.outputs["signals"])
        ts.connect(node.outputs["timestamps"])
        assert sig.params["channel_info"][0]["name"] == "Fz"
        manager.start_all()
        chunks = []
        while sum(len(d) for d in chunks) < 250:
            chunks.append(np.array(sig.recv(timeout=20000)[1]))
        index, stamps = ts.recv(timeout=20000)
        manager.stop_all()
        sig.close()
        ts.close()
    data = np.concatenate(chunks)
    assert data.shape[1] == 16 and np.isfinite(data).all() and data.std() > 0
    assert stamps.shape[1] == 1 and abs(float(stamps[0, 0]) - time.time()) < 60


def test_aux_output_only_when_the_board_has_other_sensors():
    node = BrainFlowBoard(name="board")
    node.configure(board_id="FREEEEG32_BOARD")            # configure only: no device opened
    assert "aux" not in node.outputs and node.outputs["signals"].spec["shape"] == (-1, 32)
    node.configure(board_id="SYNTHETIC_BOARD")
    assert "aux" in node.outputs and node.outputs["aux"].spec["shape"][1] > 0
    with pytest.raises(NodeStateError, match="start\\(\\) it first"):
        node.insert_marker(1)
    node.close()

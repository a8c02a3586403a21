"""`acqflow run` owns the shutdown: a Ctrl-C typed in a terminal (SIGINT to the whole
process group) or a SIGTERM to the group ends in a committed recording, and the last
lines say what was committed (issue 14, point 2)."""
import os
import signal
import subprocess
import sys

import pytest
import yaml

from acqflow.storage import open_recording
from acqflow.testing import wait_for

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def recorder_graph(rec_dir) -> dict:
    return {
        "groups": {"acq": {}, "rec": {}},
        "nodes": {
            "gen": {"type": "SyntheticSignal", "group": "acq",
                    "params": {"channels": 4, "sample_rate": 1000}},
            "recorder": {"type": "Recorder", "group": "rec",
                         "params": {"streams": ["sig"], "dirname": str(rec_dir)}},
        },
        "connections": [{"from": "gen.signals", "to": "recorder.sig", "params": {"protocol": "ipc"}}],
    }


def flowing(line: str) -> bool:
    """A table row of the recorder's stream with a rate above 0."""
    row = line.split()
    return row[:3] == ["gen.signals", "->", "recorder.sig"] and row[3] != "-" and float(row[3]) > 0


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_signal_to_the_process_group_commits_the_recording(tmp_path, short_tmp_path, sig):
    rec = tmp_path / "rec"
    graph = tmp_path / "g.yaml"
    graph.write_text(yaml.safe_dump(recorder_graph(rec)))
    tmp = short_tmp_path            # ipc socket files go to the private dir $TMPDIR/acqflow-UID
    sockets = tmp / f"acqflow-{os.getuid()}"
    env = {k: v for k, v in os.environ.items() if k not in ("XDG_RUNTIME_DIR", "ACQFLOW_PRIVATE_DIR")}
    proc = subprocess.Popen([sys.executable, "-m", "acqflow.cli", "run", str(graph), "--interval", "0.3"],
                            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**env, "TMPDIR": str(tmp)},
                            start_new_session=True)      # its own group, as a terminal's job
    try:
        lines = []
        wait_for(lambda: lines.append(proc.stdout.readline()) or flowing(lines[-1]) or proc.poll() is not None,
                 timeout=90, message="the recorder's stream to flow")
        assert proc.poll() is None, "".join(lines) + proc.stderr.read()
        assert list(sockets.glob("stream-*")), "the stream should use an ipc socket file"
        os.killpg(proc.pid, sig)            # what the terminal (or systemd) does
        out, err = proc.communicate(timeout=90)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    assert proc.returncode == 0, out + err
    assert "KeyboardInterrupt" not in err
    recording = open_recording(rec)
    assert recording.committed and recording.intact
    stream = recording["sig"]
    assert len(stream) > 0 and stream.first_index == 0 and stream.n_samples == len(stream)  # no gap
    assert stream.expected_stop in (None, stream.stop_index)     # nothing lost at the end
    assert f"recording {rec}: committed (1 streams, {len(stream)} samples)" in out
    assert "stopped: every node and process closed" in out
    assert not list(sockets.glob("stream-*")), "leaked ipc socket files"


def test_final_message_tells_when_a_recording_is_not_committed(tmp_path):
    """A group killed under the Manager: the recording stays uncommitted and the run
    says so (and exits 1) instead of claiming a clean stop."""
    from acqflow.dataflow.graph import GraphSpec
    from acqflow.manager.run import run_graph
    import io
    import threading

    rec = tmp_path / "rec"
    spec = GraphSpec.from_dict(recorder_graph(rec))
    stop = threading.Event()
    out = io.StringIO()

    def kill_recorder(manager):
        pid = manager.groups["rec"].pid
        os.kill(pid, signal.SIGKILL)
        wait_for(lambda: manager.groups["rec"].state == "dead", timeout=30,
                 message="the Manager to see the recorder's group die")
        stop.set()

    code = run_graph(spec, interval=0.2, out=out, stop=stop, on_started=kill_recorder)
    text = out.getvalue()
    assert code == 1
    assert f"recording {rec}: NOT" in text
    assert "stopped with problems:" in text and "node group 'rec' was dead (killed by SIGKILL)" in text
    assert "stopped: every node and process closed" not in text

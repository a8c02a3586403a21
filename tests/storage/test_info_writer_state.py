"""`acqflow rec info` tells a recording being written (a live writer holds its lock) from
one whose writer did not close (killed): a real writer in another process."""
import json
import re
import signal

from acqflow.storage import RecordingWriter, open_recording
from acqflow.storage.cli import main as rec_main
from tests.storage.sigkill import LineProcess

WRITER = "tests.storage.writer_proc"


def _info(capsys, path, *extra):
    assert rec_main(["info", str(path), *extra]) == 0
    return capsys.readouterr().out


def test_info_being_written_then_killed(tmp_path, capsys):
    path = tmp_path / "rec"
    w = LineProcess(WRITER, path, "create", 0.02, 2000, paced=True)
    try:
        assert w.line().startswith("ready")
        assert w.line().startswith("sealed")
        first = _info(capsys, path).splitlines()[0]
        m = re.search(r"\[being written \(pid (\d+) on this host, last write ([\d.]+) s ago\); "
                      r"intact; \d+ blocks\]", first)
        assert m and int(m.group(1)) == w.proc.pid, first
        assert float(m.group(2)) < 60
        info = json.loads(_info(capsys, path, "--json"))
        assert info["writer"]["state"] == "being written"
        assert info["writer"]["pid"] == w.proc.pid and not info["committed"]
    finally:
        w.kill()
    assert w.proc.returncode == -signal.SIGKILL
    blocks = open_recording(path).n_blocks
    first = _info(capsys, path).splitlines()[0]
    assert (f"[NOT committed: writer did not close (crashed or killed; {blocks} sealed blocks "
            f"readable); intact; {blocks} blocks]") in first, first
    assert "being written" not in first
    assert json.loads(_info(capsys, path, "--json"))["writer"] == {"state": "did not close"}
    assert rec_main(["verify", str(path)]) == 0
    assert "writer did not close (crashed or killed" in capsys.readouterr().out
    w = LineProcess(WRITER, path, "append", 0.02, 2000, paced=True)   # continued by another writer
    try:
        assert w.line().startswith("ready")
        assert w.line().startswith("sealed")
        info = json.loads(_info(capsys, path, "--json"))
        assert info["writer"]["state"] == "being written" and info["writer"]["pid"] == w.proc.pid
    finally:
        w.kill()
    held = RecordingWriter(path, "append")    # holds the lock; the file names the killed pid
    try:
        assert "[being written (a writer, last write " in _info(capsys, path).splitlines()[0]
    finally:
        held.abort()


def test_info_of_a_committed_recording(tmp_path, capsys):
    from tests.storage.source import make_recording
    make_recording(tmp_path / "done", 5)
    assert "[committed; intact;" in _info(capsys, tmp_path / "done")
    assert json.loads(_info(capsys, tmp_path / "done", "--json"))["writer"] == {"state": "closed"}

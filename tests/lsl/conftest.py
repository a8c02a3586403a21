"""Real liblsl outlets in other processes (tests/lsl/lsl_source.py) for the LSL tests."""
import json
import os
import subprocess
import sys
import uuid

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


class Peer:
    """A pylsl process of tests/lsl (``module``) printing JSON lines: ``read()``, ``read_until``."""

    def __init__(self, module: str, **cfg):
        self.cfg = cfg
        self.proc = subprocess.Popen([sys.executable, "-m", module, json.dumps(cfg)],
                                     cwd=ROOT, env=dict(os.environ, PYTHONPATH=ROOT), text=True,
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.DEVNULL)

    def read(self) -> dict:
        line = self.proc.stdout.readline()
        if not line:
            self.proc.wait(10)
            pytest.fail(f"lsl peer {self.cfg.get('name')} ended")
        return json.loads(line)

    def read_until(self, key: str) -> dict:
        while True:
            msg = self.read()
            if key in msg:
                return msg


class Source(Peer):
    """One outlet process (tests/lsl/lsl_source.py); ``stop()`` it."""

    def __init__(self, **cfg):
        super().__init__("tests.lsl.lsl_source", **cfg)
        self.ready = self.read()
        assert self.ready.get("ready"), self.ready

    def stop(self) -> None:
        if self.proc.poll() is None:
            try:
                self.proc.stdin.write("stop\n")
                self.proc.stdin.flush()
            except (BrokenPipeError, OSError):
                pass
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)


@pytest.fixture
def lsl_source():
    pytest.importorskip("pylsl")
    started = []
    yield lambda **cfg: started.append(Source(**cfg)) or started[-1]
    for s in started:
        if s.proc.poll() is None:
            s.proc.kill()
        s.proc.wait(10)


@pytest.fixture
def unique():
    return lambda prefix="acq": f"{prefix}-{uuid.uuid4().hex[:8]}"

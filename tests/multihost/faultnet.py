"""A second "host" for fault and netem tests: a network namespace joined to this one
by a veth pair, with a Curve-secured host daemon running inside it.

This process (the manager, and its local node groups) stays in the current
namespace, so tests can poke the manager directly; the link can be cut
(``ip link set DEV down``) and shaped (``tc qdisc ... netem``) from here.
Needs root and ``ip``; the fixtures skip with the reason otherwise.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass, field

import pytest

from acqflow.rpc import keys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def ip(*args, check=True):
    return subprocess.run(["ip", *args], capture_output=True, text=True, check=check)


@dataclass
class Link:
    """The veth pair between this namespace (``local_ip`` on ``dev``) and ``ns``."""
    ns: str
    dev: str
    peer: str
    local_ip: str
    remote_ip: str
    shaped: list = field(default_factory=list)

    def down(self) -> None:
        ip("link", "set", self.dev, "down")

    def up(self) -> None:
        ip("link", "set", self.dev, "up")

    def shape(self, kind: str, *params: str) -> None:
        """Put a ``kind`` qdisc ('netem', 'tbf') with ``params`` (e.g. 'delay', '20ms',
        'loss', '5%') at the root of both ends; CalledProcessError if tc refuses."""
        for cmd in (["tc"], ["ip", "netns", "exec", self.ns, "tc"]):
            dev = self.dev if len(cmd) == 1 else self.peer
            subprocess.run([*cmd, "qdisc", "replace", "dev", dev, "root", kind, *params],
                           check=True, capture_output=True, text=True)
        self.shaped = [kind, *params]

    def clear(self) -> None:
        subprocess.run(["tc", "qdisc", "del", "dev", self.dev, "root"], capture_output=True)
        subprocess.run(["ip", "netns", "exec", self.ns, "tc", "qdisc", "del", "dev", self.peer, "root"],
                       capture_output=True)
        self.shaped = []


def make_link():
    """Create the namespace and the veth pair; yields a Link; removes them after."""
    if os.geteuid() != 0 or shutil.which("ip") is None:
        pytest.skip("needs root and the `ip` command to create a network namespace")
    tag = str(os.getpid())[-5:]
    net = 10 + os.getpid() % 200
    link = Link(ns=f"acqF{tag}", dev=f"fa{tag}", peer=f"fb{tag}",
                local_ip=f"10.223.{net}.1", remote_ip=f"10.223.{net}.2")
    probe = ip("netns", "add", link.ns, check=False)
    if probe.returncode != 0:
        pytest.skip(f"`ip netns add` does not work here: {probe.stderr.strip()}")
    try:
        ip("link", "add", link.dev, "type", "veth", "peer", "name", link.peer)
        ip("link", "set", link.peer, "netns", link.ns)
        ip("addr", "add", f"{link.local_ip}/24", "dev", link.dev)
        ip("-n", link.ns, "addr", "add", f"{link.remote_ip}/24", "dev", link.peer)
        ip("link", "set", link.dev, "up")
        ip("-n", link.ns, "link", "set", link.peer, "up")
        ip("-n", link.ns, "link", "set", "lo", "up")
        yield link
    finally:
        ip("link", "del", link.dev, check=False)
        ip("netns", "del", link.ns, check=False)


class Daemon:
    """``acqflow host`` inside the namespace (stderr kept in a file for failures)."""

    def __init__(self, link: Link, keydir, logfile):
        self.link, self.keydir, self.logfile = link, str(keydir), logfile
        self.proc = None
        self.address = None

    def start(self, port: str = "*") -> str:
        self.err = open(self.logfile, "a")
        self.proc = subprocess.Popen(
            ["ip", "netns", "exec", self.link.ns, sys.executable, "-m", "acqflow.rpc.hostdaemon",
             "--bind", f"tcp://{self.link.remote_ip}:{port}", "--keys", self.keydir],
            stdout=subprocess.PIPE, stderr=self.err, text=True, cwd=ROOT)
        line = self.proc.stdout.readline()
        assert "listening on" in line, open(self.logfile).read()
        self.address = line.split("listening on ")[1].split()[0]
        return self.address

    def kill(self) -> None:
        self.proc.kill()
        self.proc.wait(30)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(30)
        if self.proc is not None:
            self.proc.stdout.close()
            self.err.close()

    def log(self) -> str:
        return open(self.logfile).read()


@pytest.fixture
def rig(tmp_path, monkeypatch):
    """(link, daemon, keys dir): a host daemon on the far side of a veth link.

    ACQFLOW_KEYS is set so local group processes can talk to groups on the rig."""
    gen = make_link()
    link = next(gen)
    keydir = tmp_path / "keys"
    keys.generate(keydir)
    monkeypatch.setenv("ACQFLOW_KEYS", str(keydir))
    # process-wide default client keys are set once (by the first HostClient): forget
    # another test's, or proxies to this rig's processes would use keys it refuses
    keys.set_default_client_keys(None)
    daemon = Daemon(link, keydir, tmp_path / "daemon.log")
    try:
        daemon.start()
        yield link, daemon, str(keydir)
    finally:
        daemon.stop()
        link.clear()
        keys.set_default_client_keys(None)
        try:
            next(gen)
        except StopIteration:
            pass

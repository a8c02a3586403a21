"""Clock synchronisation over the RPC channel: NTP-style offset and drift estimation.

A probe reads the local clock (``t0``), calls ``now()`` in the remote process
(``tr``), and reads the local clock again (``t1``).  If the request and the reply
took equally long, ``tr - (t0 + t1) / 2`` is the remote clock's offset; any
asymmetry is at most the round trip ``t1 - t0``, so the error is bounded by
``rtt / 2``.  The minimum-round-trip method keeps the probes with the lowest
round trips (least queueing, least asymmetry) in a sliding window: the offset
comes from them, its uncertainty is ``rtt_min / 2``, and the drift is a linear
fit of their offsets over time once they span ``min_drift_span`` seconds.

:class:`ClockMonitor` runs this continuously for a set of peers (the Manager's
node-group processes) and pushes the resulting table to every peer with
``acqflow.dataflow.clock.set_offsets``, so inputs there convert timestamps to
their own clock.  ``python -m acqflow.rpc.clocksync tcp://ADDR:PORT --keys DIR``
prints the offset of a host daemon's clock to this machine's.
"""
from __future__ import annotations

import argparse
import collections
import functools
import logging
import sys
import threading
from collections.abc import Callable
from typing import Any

import numpy as np

from ..dataflow import clock
from ..dataflow.clock import ClockEstimate
from ..dataflow.paramcheck import int_in

__all__ = ["ClockEstimator", "ClockMonitor", "probe", "main"]

log = logging.getLogger(__name__)


class ClockEstimator:
    """Offset and drift of one remote clock from ``(t0, t_remote, t1)`` probes.

    ``window`` probes are kept; they are cut into ``k`` consecutive slices and
    the lowest-round-trip probe of each slice is used (so the kept samples cover
    the whole window, which the drift fit needs).
    """

    def __init__(self, window: int = 300, k: int = 8, min_drift_span: float = 20.0):
        int_in("window", window)
        int_in("k", k)
        self.k = int(k)
        self.min_drift_span = float(min_drift_span)
        self._samples: collections.deque = collections.deque(maxlen=int(window))
        self.n_probes = 0

    def add(self, t0: float, t_remote: float, t1: float) -> None:
        """Record one probe (local send time, remote time, local receive time)."""
        rtt = t1 - t0
        if rtt < 0:
            raise ValueError(f"probe receive time {t1} is before its send time {t0}")
        mid = 0.5 * (t0 + t1)
        self._samples.append((mid, t_remote - mid, rtt))
        self.n_probes += 1

    def __len__(self) -> int:
        return len(self._samples)

    def best(self) -> np.ndarray:
        """The lowest-RTT probe of each of ``k`` slices: rows of (t, offset, rtt)."""
        a = np.array(self._samples, dtype=float).reshape(-1, 3)
        if len(a) == 0:
            return a
        slices = np.array_split(a, min(self.k, len(a)))
        return np.array([s[np.argmin(s[:, 2])] for s in slices if len(s)])

    def estimate(self) -> ClockEstimate | None:
        """The current estimate (remote - local), or None before the first probe."""
        b = self.best()
        if len(b) == 0:
            return None
        rtt_min = float(b[:, 2].min())
        t, off = b[:, 0], b[:, 1]
        if len(b) >= 3 and t[-1] - t[0] >= self.min_drift_span:
            t_ref = float(t.mean())
            drift, intercept = np.polyfit(t - t_ref, off, 1)
            return ClockEstimate(float(intercept), rtt_min / 2, float(drift), t_ref)
        k = int(np.argmin(b[:, 2]))
        return ClockEstimate(float(off[k]), rtt_min / 2, 0.0, float(t[k]))


def probe(remote_now: Callable[[], float]) -> tuple[float, float, float]:
    """One probe: ``(t0, remote_now(), t1)`` with t0/t1 on this process's clock."""
    t0 = clock.now()
    tr = float(remote_now())
    t1 = clock.now()
    return t0, tr, t1


class _Peer:
    def __init__(self, client: Any):
        self.client = client
        self.rclock = client.import_module("acqflow.dataflow.clock", timeout=5.0)
        self.clock_id: str = self.rclock.clock_id(_timeout=5.0)


def _drop(peers: dict[str, _Peer], name: str) -> None:
    """Forget a peer and close this thread's client to it (it holds sockets)."""
    peer = peers.pop(name, None)
    if peer is not None:
        try:
            peer.client.close()
        except Exception as exc:
            log.debug("closing the clock client of %r: %s", name, exc)


class ClockMonitor:
    """Estimates every peer's clock against this process's, continuously, in a thread.

    ``peers()`` returns ``{name: obj}`` where ``obj.client`` is this thread's RPC
    client to the peer (a ProcessSpawner, a RemoteGroupProcess...).  Every
    ``interval`` s each peer gets ``burst`` probes, then every peer (and this
    process) receives the table of estimates, keyed by clock id, with this
    process's clock as the reference.  Peers on this process's clock are not probed.
    """

    def __init__(self, peers: Callable[[], dict[str, Any]], interval: float = 1.0, burst: int = 8,
                 window: int = 300, k: int = 8, start: bool = True):
        self.peers = peers
        self.interval = float(interval)
        self.burst = int(burst)
        self._window, self._k = window, k
        self._estimators: dict[str, ClockEstimator] = {}
        self._peer_ids: dict[str, str] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._round_done = threading.Condition()
        self.rounds = 0
        self._local = threading.local()       # the thread's peers (RPC clients are per thread)
        self._thread = threading.Thread(target=self._run, name="acqflow-clocksync", daemon=True)
        if start:
            self._thread.start()

    # -- results -------------------------------------------------------------
    def estimates(self) -> dict[str, ClockEstimate]:
        """clock id -> estimate relative to this process's clock (which is included, 0)."""
        with self._lock:
            found = {cid: est.estimate() for cid, est in self._estimators.items()}
        out = {cid: e for cid, e in found.items() if e is not None}
        out[clock.clock_id()] = ClockEstimate(0.0, 0.0)
        return out

    def by_peer(self) -> dict[str, dict]:
        """peer name -> {clock_id, offset, uncertainty, drift, probes} (offset now, in s)."""
        est = self.estimates()
        now = clock.now()
        out = {}
        with self._lock:
            ids = dict(self._peer_ids)
            counts = {cid: e.n_probes for cid, e in self._estimators.items()}
        for name, cid in ids.items():
            e = est.get(cid)
            out[name] = {"clock_id": cid, "probes": counts.get(cid, 0),
                         "offset": None if e is None else e.at(now),
                         "uncertainty": None if e is None else e.uncertainty,
                         "drift": None if e is None else e.drift}
        return out

    def wait_rounds(self, n: int = 1, timeout: float = 10.0) -> bool:
        """Wait until ``n`` more rounds have completed; False on timeout."""
        with self._round_done:
            target = self.rounds + n
            return self._round_done.wait_for(lambda: self.rounds >= target, timeout)

    # -- work ----------------------------------------------------------------
    def sync_round(self) -> None:
        """Probe every peer ``burst`` times, then push the table (what the thread does)."""
        peers: dict[str, _Peer] = getattr(self._local, "peers", None) or {}
        self._local.peers = peers
        own = clock.clock_id()
        current = self.peers()
        for name in list(peers):
            if name not in current:
                _drop(peers, name)
        for name, obj in current.items():
            try:
                client = obj.client
                peer = peers.get(name)
                if peer is None or peer.client is not client:
                    if peer is not None:
                        _drop(peers, name)
                    peer = peers[name] = _Peer(client)
                with self._lock:
                    self._peer_ids[name] = peer.clock_id
                if peer.clock_id == own:
                    continue
                with self._lock:
                    est = self._estimators.setdefault(peer.clock_id,
                                                      ClockEstimator(self._window, self._k))
                now = functools.partial(peer.rclock.now, _timeout=2.0)
                for _ in range(self.burst):
                    sample = probe(now)
                    with self._lock:
                        est.add(*sample)
            except Exception as exc:
                _drop(peers, name)
                log.debug("clock probe of %r failed: %s", name, exc)
        table: dict[str, dict | ClockEstimate] = {
            cid: e.as_dict() for cid, e in self.estimates().items()}
        clock.set_offsets(table, reference=own)
        for name, peer in list(peers.items()):
            if len(table) == 1 and peer.clock_id == own:
                continue                # one clock in the graph: nothing to tell
            try:
                peer.rclock.set_offsets(table, own, _timeout=2.0)
            except Exception as exc:
                _drop(peers, name)
                log.debug("pushing clock offsets to %r failed: %s", name, exc)
        with self._round_done:
            self.rounds += 1
            self._round_done.notify_all()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.sync_round()
            except Exception:
                log.exception("clock synchronisation round failed")
            self._stop.wait(self.interval)
        peers = getattr(self._local, "peers", None) or {}
        for name in list(peers):
            _drop(peers, name)

    def close(self) -> None:
        """Stop the thread."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(10)


def main(argv: list[str] | None = None) -> int:
    """`python -m acqflow.rpc.clocksync ADDRESS [--keys DIR]`: offset of a remote clock."""
    p = argparse.ArgumentParser(
        prog="acqflow clock", description="Measure the offset of the clock of an RPC server "
        "(e.g. an `acqflow host` daemon) to this one.")
    p.add_argument("address", help="tcp://ADDR:PORT of the daemon or process")
    p.add_argument("--keys", default=None, help="keys directory made by `acqflow keys`")
    p.add_argument("--probes", type=int, default=50)
    args = p.parse_args(argv)
    from . import keys as keyfiles
    from .client import get_client
    kw: dict[str, Any] = {}
    if args.keys:
        kw = dict(server_key=keyfiles.server_public_key(args.keys),
                  client_keys=keyfiles.load_client_keys(args.keys))
    client = get_client(args.address, timeout=10.0, **kw)
    rclock = client.import_module("acqflow.dataflow.clock")
    est = ClockEstimator(window=args.probes, k=1)
    for _ in range(args.probes):
        est.add(*probe(lambda: rclock.now()))
    e = est.estimate()
    if e is None:
        print(f"{args.address}: no usable probe", file=sys.stderr)
        return 1
    print(f"{args.address} clock {rclock.clock_id()}: offset {e.offset * 1e3:+.3f} ms "
          f"± {e.uncertainty * 1e3:.3f} ms (remote - local, {args.probes} probes)")
    client.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())

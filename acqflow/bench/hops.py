"""A chain of processes: device -> N-1 relays -> sink, end-to-end latency (``acqflow bench --hops N``).

N hops are N streams between N+1 processes.  The device sends paced 2 KiB chunks
(32 x 8 float64) stamped with its clock in the first value; each relay receives a
chunk (reading it) and sends it on; the sink, this process, reads every chunk and
takes the time from the device's stamp to its own ``recv`` return: the latency a
closed loop lives through.  Every chunk must arrive (``backpressure='block'``).
"""
from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

import numpy as np

from ..dataflow.streams import clock
from ..dataflow.errors import StreamClosed
from ..dataflow.streams.inputstream import InputStream
from ..dataflow.streams.outputstream import OutputStream
from ..dataflow.paramcheck import int_in, refusal
from . import harness
from .ceilings import bare_hop_latency

__all__ = ["run_chain", "main_hops"]

SHAPE = (32, 8)          # float64: 2 KiB


def _out_params(protocol: str, mode: str) -> dict:
    return dict(protocol=protocol, transfermode=mode, dtype="float64", shape=(-1, SHAPE[1]),
                sample_rate=1000.0, backpressure="block", buffer_size=4096)


def _device(cfg: dict) -> None:
    out = OutputStream(name="device")
    out.configure(**_out_params(cfg["protocol"], cfg["mode"]))
    print(json.dumps(out.params), flush=True)
    sys.stdin.readline()                                   # "go"
    chunk = np.zeros(SHAPE)
    sent = 0
    for _ in harness.paced(cfg["seconds"], cfg["rate"]):
        chunk[0, 0] = clock.now()
        out.send(chunk)
        sent += 1
    out.close()
    print(json.dumps({"sent": sent}), flush=True)


def _relay(cfg: dict) -> None:
    inp = InputStream(spin=cfg["spin"])
    inp.connect(json.loads(sys.stdin.readline()))
    out = OutputStream(name="relay")
    out.configure(**_out_params(cfg["protocol"], cfg["mode"]))
    print(json.dumps(out.params), flush=True)
    while True:
        try:
            _, data = inp.recv(return_data=True)
        except StreamClosed:
            break
        out.send(data)
    out.close()
    inp.close()


def _spawn(role: str, cfg: dict) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "acqflow.bench.hops", role, json.dumps(cfg)],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)


def run_chain(hops: int, rate: float = 2000.0, seconds: float = 5.0, protocol: str = "tcp",
              mode: str = "sharedmem", spin: float = 0.0) -> dict[str, Any]:
    """Run the chain once; end-to-end latencies (after a 10 % warm-up) and counts.
    ``spin`` (ms): every reader's InputStream.spin (busy-wait before sleeping)."""
    int_in("--hops", hops)
    cfg = dict(protocol=protocol, mode=mode, rate=rate, seconds=seconds, spin=spin)
    device = _spawn("device", cfg)
    assert device.stdin is not None and device.stdout is not None     # (pipes)
    procs = [device]
    try:
        params = json.loads(device.stdout.readline())
        for _ in range(hops - 1):
            relay = _spawn("relay", cfg)
            assert relay.stdin is not None and relay.stdout is not None
            relay.stdin.write(json.dumps(params) + "\n")
            relay.stdin.flush()
            params = json.loads(relay.stdout.readline())
            procs.append(relay)
        inp = InputStream(spin=spin)
        inp.connect(params)
        device.stdin.write("go\n")
        device.stdin.flush()
        lat = []
        dst = np.empty(SHAPE)
        while True:
            try:
                _, data = inp.recv(timeout=30000, return_data=True)
            except StreamClosed:
                break
            lat.append(clock.now() - data[0, 0])
            np.copyto(dst, data)
        sent = json.loads(device.stdout.readline())["sent"]
        dropped = inp.dropped
        inp.close()
        for p in procs:
            assert p.stdin is not None
            p.stdin.close()
            p.wait(30)
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()
    kept = np.array(lat[len(lat) // 10:]) * 1e6
    return {"hops": hops, "processes": hops + 1, "protocol": protocol, "transfermode": mode, "rate": rate,
            "spin_ms": spin,
            "chunk_bytes": int(np.prod(SHAPE)) * 8, "sent": sent, "received": len(lat), "dropped": dropped,
            "p50_us": harness.pct(kept, 50), "p90_us": harness.pct(kept, 90),
            "p99_us": harness.pct(kept, 99), "max_us": float(kept.max()) if len(kept) else None,
            "per_hop_p50_us": (harness.pct(kept, 50) or 0.0) / hops if len(kept) else None}


def main_hops(args) -> int:
    """``acqflow bench --hops N`` (arguments parsed by the stream benchmark)."""
    if args.hops < 1:
        print(f"acqflow bench: {refusal('--hops', 'an int >= 1', args.hops)}", file=sys.stderr)
        return 2
    if not args.hop_spin >= 0:
        print(f"acqflow bench: {refusal('--hop-spin', '>= 0 ms', args.hop_spin)}", file=sys.stderr)
        return 2
    r = run_chain(args.hops, args.hop_rate, args.hop_seconds, args.hop_protocol, args.hop_mode, args.hop_spin)
    print(f"chain: device -> {args.hops - 1} relay(s) -> sink: {r['hops']} hops, {r['processes']} processes, "
          f"{r['protocol']} {r['transfermode']}, 2 KiB chunks at {r['rate']:g}/s for {args.hop_seconds:g} s, "
          f"reader reads every chunk{f', readers spin {args.hop_spin:g} ms' if args.hop_spin else ''}; "
          f"on {harness.machine()}")
    print(f"  end to end: p50 {r['p50_us']:.0f} us, p90 {r['p90_us']:.0f} us, p99 {r['p99_us']:.0f} us, "
          f"max {r['max_us']:.0f} us (p50 per hop {r['per_hop_p50_us']:.0f} us)")
    print(f"  sent {r['sent']}, received {r['received']}, dropped {r['dropped']}")
    if not args.no_ceilings:
        floor = bare_hop_latency(args.hop_rate, min(args.hop_seconds, 3.0)) * 1e6
        r["bare_hop_p50_us"] = harness.pct(floor, 50)
        r["bare_hop_p99_us"] = harness.pct(floor, 99)
        print(f"  floor, a bare Python hop (copy in, one record, one pipe byte, poll, copy out; nothing "
              f"else): p50 {r['bare_hop_p50_us']:.0f} us, p99 {r['bare_hop_p99_us']:.0f} us per hop")
    if not args.hop_spin:
        print("  readers sleep between chunks; a closed loop's figures: --hop-spin 1 --cpu-latency 0 "
              "(docs/streams.md, closed loops)")
    harness.write_json(args.json, r)
    return 0 if r["received"] == r["sent"] and not r["dropped"] else 1


if __name__ == "__main__":
    {"device": _device, "relay": _relay}[sys.argv[1]](json.loads(sys.argv[2]))

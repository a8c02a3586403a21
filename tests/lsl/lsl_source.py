"""A plain-pylsl outlet process for the LSL recording tests (no acqflow imports).

``python -m tests.lsl.lsl_source '<json>'``: publishes one stream (``name``, ``type``,
``source_id``, ``channels``, ``rate``, ``format``, ``units``) and streams sample ``k`` as
``k * channels + c`` (strings: ``"marker k"``, or the ``label`` template with ``{k}``)
stamped ``t0 + k / rate`` from ``start``,
``chunk`` samples at a time in real time, until ``n`` samples or a 'stop' line on stdin.
Prints JSON lines: ``{"ready": ...}`` then ``{"pushed": n, "t0": t0}`` when done.
"""
import json
import sys
import threading

import numpy as np
import pylsl


def say(**msg) -> None:
    print(json.dumps(msg), flush=True)


def main(cfg: dict) -> None:
    fmt = getattr(pylsl, cfg.get("format", "cf_float32"))
    ch, rate = cfg.get("channels", 2), cfg.get("rate", 100.0)
    info = pylsl.StreamInfo(cfg["name"], cfg.get("type", "EEG"), ch, rate, fmt,
                            cfg.get("source_id", ""))
    if fmt != pylsl.cf_string:
        chans = info.desc().append_child("channels")
        for c in range(ch):
            node = chans.append_child("channel")
            node.append_child_value("label", f"C{c}")
            node.append_child_value("unit", cfg.get("units", "microvolts"))
            node.append_child_value("type", "EEG")
    info.desc().append_child("acquisition").append_child_value("manufacturer", "tests")
    out = pylsl.StreamOutlet(info, chunk_size=0)
    stop = threading.Event()
    threading.Thread(target=lambda: (sys.stdin.readline(), stop.set()), daemon=True).start()
    say(ready=True, uid=info.uid())
    if cfg.get("wait_consumer", True):     # up to 60 s; a 'stop' line ends the wait at once
        for _ in range(600):
            if stop.is_set() or out.wait_for_consumers(0.1):
                break
    k, n, chunk = cfg.get("start", 0), cfg.get("n", 10**9), cfg.get("chunk", 10)
    period = 1.0 / rate if rate > 0 else 0.05
    t0 = cfg.get("t0") or pylsl.local_clock()
    say(t0=t0)
    end = k + n
    while k < end and not stop.is_set():
        m = min(chunk, end - k)
        stamps = [t0 + (k + i) * period for i in range(m)]
        if fmt == pylsl.cf_string:
            for i in range(m):
                out.push_sample([cfg.get("label", "marker {k}").format(k=k + i)] * ch, stamps[i])
        else:
            data = (np.arange(k, k + m)[:, None] * ch + np.arange(ch)).astype(cfg.get("dtype", "float32"))
            out.push_chunk(data, stamps)
        k += m
        wait = t0 + k * period - pylsl.local_clock()
        if wait > 0:
            stop.wait(wait)
    say(pushed=k)
    if cfg.get("linger", True):
        stop.wait(60)
    del out


if __name__ == "__main__":
    main(json.loads(sys.argv[1]))

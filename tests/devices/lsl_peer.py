"""A plain-pylsl process for the LSL bridge tests (no acqflow imports).

``outlet '<json>'``: publishes a stream, says ready, waits for a consumer, pushes
``n`` samples of ``arange`` in chunks (stamps ``t0 + k / rate``), then closes on
a 'close' line.  ``inlet '<json>'``: resolves a stream by name, pulls ``n`` samples
and prints them with their stamps and the stream's channel labels.
"""
import json
import sys

import numpy as np
import pylsl


def say(**msg) -> None:
    print(json.dumps(msg), flush=True)


def outlet(cfg: dict) -> None:
    fmt = getattr(pylsl, cfg["format"])
    info = pylsl.StreamInfo(cfg["name"], cfg["type"], cfg["channels"], cfg["rate"], fmt, "peer")
    out = pylsl.StreamOutlet(info, chunk_size=0)
    say(ready=True)
    assert out.wait_for_consumers(30)
    n, ch, rate = cfg["n"], cfg["channels"], cfg["rate"]
    if fmt == pylsl.cf_string:
        t0 = pylsl.local_clock()
        for k in range(n):
            out.push_sample([f"marker {k}"], t0 + k * 0.01)
    else:
        data = np.arange(n * ch).reshape(n, ch).astype(cfg["dtype"])
        t0 = pylsl.local_clock()
        for k in range(0, n, 100):
            chunk = data[k:k + 100]
            out.push_chunk(chunk, [t0 + (k + i) / rate for i in range(len(chunk))])
    say(pushed=n, t0=t0)
    assert sys.stdin.readline().strip() == "close"
    del out
    say(closed=True)


def inlet(cfg: dict) -> None:
    found = pylsl.resolve_byprop("name", cfg["name"], 1, 30)
    inl = pylsl.StreamInlet(found[0])
    info = inl.info(5)
    ch = info.desc().child("channels").child("channel")
    labels = []
    while not ch.empty():
        labels.append(ch.child_value("label"))
        ch = ch.next_sibling()
    inl.open_stream(10)
    say(ready=True, channels=info.channel_count(), rate=info.nominal_srate(), labels=labels,
        format=info.channel_format())
    samples, stamps = [], []
    while len(samples) < cfg["n"]:
        s, t = inl.pull_chunk(timeout=10.0, max_samples=cfg["n"] - len(samples))
        if not t:
            break
        samples.extend(s)
        stamps.extend(t)
    say(samples=samples, stamps=stamps)


if __name__ == "__main__":
    {"outlet": outlet, "inlet": inlet}[sys.argv[1]](json.loads(sys.argv[2]))

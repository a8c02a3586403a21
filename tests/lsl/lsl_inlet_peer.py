"""A plain-pylsl inlet process (no acqflow imports) that recovers like any liblsl consumer.

``python -m tests.lsl.lsl_inlet_peer '<json>'``: resolves ``name``, opens a StreamInlet with
``recover=True`` and pulls until ``n`` samples (or ``timeout`` s), printing ``{"got": k}`` after
each pull that brought samples, then ``{"samples": [...], "stamps": [...], "source_id": ...}``.
"""
import json
import sys
import time

import pylsl


def say(**msg) -> None:
    print(json.dumps(msg), flush=True)


def main(cfg: dict) -> None:
    found = pylsl.resolve_byprop("name", cfg["name"], 1, 30)
    inlet = pylsl.StreamInlet(found[0], recover=True)
    inlet.open_stream(10)
    say(ready=True, source_id=found[0].source_id())
    samples, stamps = [], []
    deadline = time.monotonic() + cfg.get("timeout", 90)
    while len(samples) < cfg["n"] and time.monotonic() < deadline:
        s, t = inlet.pull_chunk(timeout=0.5, max_samples=cfg["n"] - len(samples))
        if t:
            samples.extend(s)
            stamps.extend(t)
            say(got=len(samples))
    say(samples=samples, stamps=stamps)


if __name__ == "__main__":
    main(json.loads(sys.argv[1]))

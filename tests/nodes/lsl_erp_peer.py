"""A plain-pylsl EEG and marker outlet process for the online-epochs tests (no acqflow imports).

``python -m tests.nodes.lsl_erp_peer '<json>'``: an EEG outlet ``eeg`` (``rate`` Hz, 2
float32 channels: channel 0 is the sample's true index ``k``, channel 1 a sine) stamping
sample ``k`` with its true time ``t0 + k / rate`` plus Gaussian ``jitter`` (s), pushed
``chunk`` samples at a time in real time; and a marker outlet ``markers`` sending, every
``every`` to 1.5 ``every`` samples, the label ``str(k)`` stamped with the exact true time of
sample ``k``.  Prints ``{"ready": true}``, then runs until a line on stdin and prints
``{"markers": n}``.
"""
import json
import sys
import threading

import numpy as np
import pylsl


def say(**msg) -> None:
    print(json.dumps(msg), flush=True)


def main(cfg: dict) -> None:
    rate, chunk, jitter = float(cfg.get("rate", 1000.0)), int(cfg.get("chunk", 10)), cfg.get("jitter", 0.001)
    every = int(cfg.get("every", 50))
    eeg = pylsl.StreamOutlet(pylsl.StreamInfo(cfg["eeg"], "EEG", 2, rate, pylsl.cf_float32, cfg["eeg"]),
                             chunk_size=0)
    mk = pylsl.StreamOutlet(pylsl.StreamInfo(cfg["markers"], "Markers", 1, 0, pylsl.cf_string,
                                             cfg["markers"]))
    stop = threading.Event()
    threading.Thread(target=lambda: (sys.stdin.readline(), stop.set()), daemon=True).start()
    say(ready=True)
    eeg.wait_for_consumers(60)
    mk.wait_for_consumers(60)
    rng = np.random.default_rng(cfg.get("seed", 0))
    t0, k, n_markers, marker = pylsl.local_clock(), 0, 0, every
    while not stop.is_set():
        idx = np.arange(k, k + chunk)
        data = np.column_stack([idx, np.sin(2 * np.pi * 10 * idx / rate)]).astype("float32")
        eeg.push_chunk(data, (t0 + idx / rate + rng.normal(0, jitter, chunk)).tolist())
        k += chunk
        while marker < k:
            mk.push_sample([str(marker)], t0 + marker / rate)
            n_markers += 1
            marker += every + int(rng.integers(0, every // 2 + 1))
        wait = t0 + k / rate - pylsl.local_clock()
        if wait > 0:
            stop.wait(wait)
    say(markers=n_markers)


if __name__ == "__main__":
    main(json.loads(sys.argv[1]))

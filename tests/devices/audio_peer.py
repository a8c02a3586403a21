"""Runs an AudioDevice in a fresh process (PortAudio reads the ALSA config at start-up).

``python -m tests.devices.audio_peer '<json>'``: prints one JSON line when ready
(with the output params for capture), then obeys 'start' / 'stop' lines on stdin
(playback runs until its input closes), and prints a final JSON report.
"""
import json
import sys

import sounddevice as sd

from acqflow.devices import AudioDevice


def say(**msg) -> None:
    print(json.dumps(msg), flush=True)


def inject(node: AudioDevice, what: str, at: int) -> None:
    """Make the ``at``-th read report an overflow, or fail like a vanished device."""
    stream = node._in_stream
    real_read, calls = stream.read, [0]

    def read(frames):
        calls[0] += 1
        if what == "error" and calls[0] == at:
            raise sd.PortAudioError("Unanticipated host error (device disappeared)", -9999)
        data, overflowed = real_read(frames)
        return data, overflowed or (what == "overflow" and calls[0] == at)
    stream.read = read


def main() -> None:
    cfg = json.loads(sys.argv[1])
    node = AudioDevice(name="audio")
    common = {k: cfg[k] for k in ("channels", "sample_rate", "dtype", "blocksize")}
    if cfg["mode"] == "capture":
        node.configure(input_device=cfg.get("device", "default"), **common)
        node.output.configure(backpressure="block")
        node.initialize()
        if cfg.get("inject"):
            inject(node, cfg["inject"], cfg.get("at", 3))
        say(params=node.output.params)
        assert sys.stdin.readline().strip() == "start"
        node.start()
        assert sys.stdin.readline().strip() == "stop"
    else:
        node.configure(output_device=cfg.get("device", "default"), **common)
        node.input.connect(cfg["upstream"])
        node.initialize()
        node.start()
        say(ready=True)
        for w in node._workers:
            w.join(60)          # the playback worker ends when its input closes
    state, reason, stats = node.state, node.error_reason, node.stats().as_dict()
    try:
        if node.state == "running":
            node.stop()
    finally:
        node.close()
    say(state=state, reason=reason, stats=stats, devices=[d["name"] for d in sd.query_devices()])


if __name__ == "__main__":
    main()

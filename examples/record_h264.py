"""Record a synthetic camera with H.264 (PyAV's libx264), then read frame 1000 back.

A synthetic camera (a moving pattern with sensor noise, 320x240 RGB) -> Recorder with
``codecs={"cam": {"name": "h264", "crf": 23, "gop": 30, "preset": "ultrafast"}}``:
each frame is encoded in the stream's own encoder thread and stored as one packet record
(index, capture time, keyframe flag) in the recording's crash-safe blocks.  Reading
frame 1000 decodes from the keyframe before it (frame 990); then the stream is exported
to Matroska by copying its packets (no re-encoding).  Runs in a few seconds.
Run: python examples/record_h264.py
"""
import tempfile
import time

import numpy as np

import acqflow
from acqflow.interrupt import quiet_interrupt
from acqflow.nodes.recorder import Recorder
from acqflow.storage import open_recording
from acqflow.storage.export_remux import to_remux

H, W, FPS, N = 240, 320, 30.0, 1100


_y, _x = np.mgrid[0:H, 0:W + 3 * N]
_SCENE = 120 + 70 * np.sin(_x / 15.0) * np.cos(_y / 20.0)
_SCENE = np.stack([_SCENE, _SCENE * 0.8 + 30, 200 - _SCENE * 0.5], axis=-1)
_NOISE = np.random.default_rng(0).normal(0, 4, (16, H, W, 3))


def camera_frame(j: int) -> np.ndarray:
    """Frame j of the synthetic camera: a scene panning 3 px per frame, plus sensor noise."""
    img = _SCENE[:, 3 * j:3 * j + W] + _NOISE[j % 16]
    return np.clip(img, 0, 255).astype(np.uint8)


def record(path: str) -> dict:
    cam = acqflow.OutputStream(name="cam")
    cam.configure(protocol="inproc", streamtype="video", shape=(-1, H, W, 3), sample_rate=FPS)
    rec = Recorder(name="rec")
    rec.configure(streams={"cam": cam}, dirname=path, block_s=0.5, codecs={
        "cam": {"name": "h264", "crf": 23, "gop": 30, "preset": "ultrafast", "queue": 2 * N}})
    rec.initialize()
    rec.start()
    for j in range(N):                            # faster than a 30 fps camera, to be quick
        cam.send(camera_frame(j)[None], index=j + 1)
        time.sleep(0.001)
    rec.close()                                   # drains the encoder, seals, commits
    cam.close()
    return rec.stats()["writer"]["streams"]["cam"]


def main() -> None:
    path = tempfile.mkdtemp() + "/h264_session"
    stats = record(path)
    print(f"recorded {stats['samples']} frames, dropped {stats['dropped_samples']}, "
          f"encoder {stats['encoder']} preset {stats['preset']}")

    cam = open_recording(path)["cam"]
    table = cam.record_table()
    print(f"{len(cam)} frames, codec {cam.codec['name']!r}, "
          f"{table['nbytes'].mean() / 1024:.1f} KB per frame "
          f"(raw: {H * W * 3 / 1024:.0f} KB), keyframes {int((table['flags'] & 1).sum())}")
    t = time.perf_counter()
    frame = cam[1000]                             # decodes frames 990..1000
    ms = (time.perf_counter() - t) * 1000
    mse = np.mean((frame.astype(float) - camera_frame(1000)) ** 2)
    print(f"frame 1000: shape {frame.shape}, PSNR {10 * np.log10(255 ** 2 / mse):.1f} dB "
          f"against the frame sent, read in {ms:.0f} ms")
    print("frame 1000 read at random equals it read in a row:",
          np.array_equal(frame, cam[990:1001][-1]))
    out = to_remux(cam, tempfile.mkdtemp() + "/cam.mkv")
    print(f"exported {out.name} by remux: {out.stat().st_size // 1024} KB")


if __name__ == "__main__":
    quiet_interrupt()                             # Ctrl-C: 'interrupted', no traceback
    main()

"""Two cameras and an EEG-like stream recorded together into one recording.

Two Camera nodes (OpenCV; here on two video files the example writes first, use
``device=0`` / ``device=1`` for webcams) and an 8-channel 500 Hz synthetic EEG feed one
Recorder (frames stored as JPEG; ``{'name': 'h264'}`` where the build has it).  Each frame
carries its capture stamp, so the recording puts frames and EEG samples on one timeline.
Run: python examples/two_cameras_eeg.py [SECONDS]   (default 3)
"""
import os
import sys
import tempfile
import time

import cv2
import numpy as np

from acqflow.devices import Camera, SyntheticSignal
from acqflow.interrupt import quiet_interrupt
from acqflow.nodes.recorder import Recorder
from acqflow.storage import open_recording

quiet_interrupt()                               # Ctrl-C: 'interrupted', no traceback

SECONDS = float(sys.argv[1]) if len(sys.argv) > 1 else 3.0
W, H, FPS = 320, 240, 30.0
folder = tempfile.mkdtemp()


def write_clip(name: str, speed: int) -> str:
    """Two seconds of a bright bar moving across a noisy background (played in a loop)."""
    path = os.path.join(folder, name)
    writer = cv2.VideoWriter(path, cv2.VideoWriter_fourcc(*"MJPG"), FPS, (W, H))
    rng = np.random.default_rng(speed)
    for k in range(int(2 * FPS)):
        frame = rng.integers(0, 40, (H, W, 3), np.uint8)
        x = (k * speed) % (W - 20)
        frame[:, x:x + 20] = 220
        writer.write(frame)
    writer.release()
    return path


cams = []
for i, speed in enumerate((4, 9)):
    cam = Camera(name=f"cam{i}")
    cam.configure(device=write_clip(f"cam{i}.avi", speed), loop=True)   # paced at 30 fps
    cams.append(cam)
eeg = SyntheticSignal(name="eeg")
eeg.configure(channels=8, sample_rate=500.0, chunksize=25, waveform="noise", amplitude=20e-6)
for node in cams + [eeg]:
    for out in node.outputs.values():
        out.configure(protocol="inproc")
    node.initialize()

rec = Recorder(name="rec")
rec.configure(streams={"cam0": cams[0].outputs["video"], "cam1": cams[1].outputs["video"],
                       "eeg": eeg.outputs["signals"]},
              dirname=os.path.join(folder, "session"), codecs={"cam0": "jpg", "cam1": "jpg"})
rec.initialize()
rec.start()
try:
    for node in cams + [eeg]:
        node.start()
    print(f"recording cam0, cam1 ({W}x{H} at {FPS:g} fps) and eeg (8 ch at 500 Hz) for {SECONDS:g} s")
    time.sleep(SECONDS)                         # acquisition runs in the nodes' threads
finally:                                        # also on Ctrl-C: cameras released, recording closed
    for node in cams + [eeg]:
        node.close()                            # stops it and releases the device
    rec.stop()
    stats = rec.stats()
    rec.close()

recording = open_recording(os.path.join(folder, "session"))
for i, cam in enumerate(cams):
    stored = recording[f"cam{i}"]
    stamps = stored.times()
    print(f"cam{i}: {len(stored)} frames recorded of {cam.frames} captured, gaps {stored.gaps}, "
          f"skipped by the source {cam.skipped}; frame interval median "
          f"{np.median(np.diff(stamps)) * 1e3:.1f} ms")
eeg_stored = recording["eeg"]
print(f"eeg: {len(eeg_stored)} samples x {eeg_stored.params['shape'][1]} channels, gaps {eeg_stored.gaps}")
t_frame = recording["cam0"].time_at(recording["cam0"].first_index + 10)
j = eeg_stored.index_at(t_frame)
print(f"cam0 frame 10 was captured {t_frame - recording['cam0'].time_range[0]:.3f} s in, "
      f"beside eeg sample {j}")
print(f"writer overflows: {stats['overflows']}; committed: {recording.committed}")

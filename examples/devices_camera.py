"""Frames and capture time stamps from OpenCV: here a video file the example writes first.

With a webcam, use ``device=0`` instead of the file.
Run: python examples/devices_camera.py
"""
import os
import tempfile

import cv2
import numpy as np

import acqflow
from acqflow.devices import Camera
from acqflow.interrupt import quiet_interrupt

quiet_interrupt()                               # Ctrl-C: 'interrupted', no traceback

path = os.path.join(tempfile.mkdtemp(), "clip.avi")
writer = cv2.VideoWriter(path, cv2.VideoWriter_fourcc(*"MJPG"), 25.0, (80, 60))
for k in range(25):
    writer.write(np.full((60, 80, 3), k * 10, np.uint8))   # brighter and brighter
writer.release()

cam = Camera(name="cam")
cam.configure(device=path, pixel_format="gray", fps=100.0)  # play the file 4x faster
cam.initialize()
video, stamps = acqflow.InputStream(), acqflow.InputStream()
video.connect(cam.outputs["video"])
stamps.connect(cam.outputs["timestamps"])
cam.start()

while True:
    try:
        index, frame = video.recv(timeout=5000)
    except acqflow.StreamClosed:                  # end of file: the node reports it
        break
    _, stamp = stamps.recv(timeout=5000)          # same index on the timestamps output
    print(f"frame {index - 1:2d}: shape {frame.shape[1:]}, mean {frame.mean():5.1f}, "
          f"captured at {stamp[0, 0]:.3f}, media time {stamp[0, 1]:.2f} s")
print(f"camera state: {cam.state} ({cam.error_reason})")
cam.close()

"""Video processing: a moving square -> ColorConvert (gray) -> Blur -> MotionEnergy signal.

The square moves for frames 10-19 and stands still otherwise, so the motion
energy (mean |frame - previous|) is non-zero only while it moves.

Run: python examples/nodes_video.py   (needs opencv: pip install 'acqflow[video]')
"""
import numpy as np

import acqflow
from acqflow.interrupt import quiet_interrupt
from acqflow.nodes import Blur, ColorConvert, MotionEnergy

quiet_interrupt()                               # Ctrl-C: 'interrupted', no traceback

H, W = 120, 160
cam = acqflow.OutputStream(name="camera")
cam.configure(protocol="inproc", streamtype="video", shape=(-1, H, W, 3), sample_rate=30.0)

gray = ColorConvert(name="gray")
gray.configure(code="BGR2GRAY")
gray.input.connect(cam)
gray.output.configure(protocol="inproc")
gray.initialize()

blur = Blur(name="blur")
blur.configure(ksize=5)
blur.input.connect(gray.output)
blur.output.configure(protocol="inproc")
blur.initialize()

motion = MotionEnergy(name="motion")
motion.input.connect(blur.output)
motion.configure()
motion.output.configure(protocol="inproc")
motion.initialize()
print("gray frames:", gray.output.params["shape"], "motion stream:", motion.output.params["shape"])

sink = acqflow.InputStream()
sink.connect(motion.output)
try:
    for node in (motion, blur, gray):
        node.start()

    for k in range(30):
        frame = np.zeros((H, W, 3), np.uint8)
        x = 20 + 5 * min(max(k - 10, 0), 10)                   # moves during frames 10..19
        frame[40:80, x:x + 30] = (0, 200, 255)
        cam.send(frame)                                         # one frame, no time axis needed

    energy = []
    while len(energy) < 30:
        index, data = sink.recv(timeout=5000)
        energy += data[:, 0].tolist()
    energy = np.array(energy)
    print("motion energy per frame:", np.round(energy, 2))
    moving = np.flatnonzero(energy > 0.1)
    print(f"motion detected in frames {moving.min()}..{moving.max()}")
finally:                                        # also on Ctrl-C: threads stopped, streams closed
    for node in (gray, blur, motion, cam, sink):
        node.close()

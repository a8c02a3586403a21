"""Record a camera's H.264 packets as they come (no decoding, no re-encoding), with a live
preview decoded on the side; then read frame 60 back and export by remux.

The "camera" is an H.264 file this script writes first (PyAV's libx264, a keyframe every
30 frames); ``PacketCamera(device=0, input_format='h264')`` or an ``rtsp://`` URL works
the same.  PacketCamera -> Recorder stores each packet byte for byte; PacketCamera ->
PacketDecoder -> an input here is the live view.  Runs in a few seconds.
Run: python examples/record_packets.py
"""
import tempfile
from fractions import Fraction

import av
import numpy as np

from acqflow import InputStream
from acqflow.devices import PacketCamera
from acqflow.interrupt import quiet_interrupt
from acqflow.nodes import PacketDecoder, Recorder
from acqflow.storage import open_recording
from acqflow.storage.export_remux import to_remux
from acqflow.testing import wait_for

H, W, N = 240, 320, 90


def write_camera_file(path: str) -> None:
    """90 frames of a moving gradient, H.264 in Matroska (no B-frames, as cameras send)."""
    y, x = np.mgrid[0:H, 0:W]
    with av.open(path, "w") as c:
        s = c.add_stream("libx264", rate=30)
        s.width, s.height, s.pix_fmt = W, H, "yuv420p"
        s.options = {"g": "30", "bf": "0", "preset": "ultrafast", "x264-params": "scenecut=0"}
        for i in range(N):
            img = np.stack([(x + 4 * i) % 256, (y + 2 * i) % 256, np.full((H, W), 128)], -1)
            frame = av.VideoFrame.from_ndarray(img.astype(np.uint8), format="bgr24")
            frame.pts, frame.time_base = i, Fraction(1, 30)
            c.mux(s.encode(frame))
        c.mux(s.encode(None))


def camera_packets(path: str) -> list[bytes]:
    """The file's packets as PacketCamera sends them (H.264 in Annex B)."""
    with av.open(path) as c:
        vs = c.streams.video[0]
        annexb = av.BitStreamFilterContext("h264_mp4toannexb", vs)
        return [bytes(p) for pkt in c.demux(vs) if pkt.size for p in annexb.filter(pkt)]


def main() -> None:
    tmp = tempfile.mkdtemp()
    source = f"{tmp}/camera.mkv"
    write_camera_file(source)
    print(f"camera: {source}, {N} frames of H.264")
    cam, rec, live, view = PacketCamera(name="cam"), Recorder(name="rec"), PacketDecoder(name="live"), InputStream()
    try:
        cam.configure(device=source, fps=120)                  # paced at 120 frames/s
        for out in cam.outputs.values():
            out.configure(protocol="inproc")
        cam.initialize()
        rec.configure(streams={"cam": cam.outputs["packets"], "cam_times": cam.outputs["timestamps"]},
                      dirname=f"{tmp}/session", block_s=0.5)    # no codec: stored as received
        live.configure()
        live.input.connect(cam.outputs["packets"])
        live.output.configure(protocol="inproc")
        view.connect(live.output)
        for node in (rec, live):
            node.initialize()
            node.start()
        cam.start()
        shown = [view.recv(timeout=10000)[0] for _ in range(N)]
        wait_for(lambda: rec.stats()["inputs"]["cam"]["ended"], timeout=30)
        print(f"live view: {len(shown)} frames decoded on the side, last index {shown[-1]}")
    finally:
        for node in (cam, live, rec):
            node.close()
        view.close()
    session = open_recording(f"{tmp}/session")
    stored = session["cam"]
    table = stored.record_table()
    print(f"stored {len(stored)} frames, codec {stored.codec['name']!r} from {stored.codec['source']}, "
          f"keyframes {int((table['flags'] & 1).sum())}, {table['nbytes'].mean() / 1024:.1f} KB per frame")
    with av.open(source) as c:                                 # what the camera file holds
        reference = [f.to_ndarray(format="bgr24") for f in c.decode(video=0)]
    print("frame 60 read back equals the camera's frame 60:", np.array_equal(stored[60], reference[60]))
    packets = [bytes(d) for _, d in session.record_payloads(stored, 0, len(stored))]
    print("stored packets are the camera's, byte for byte:", packets == camera_packets(source))
    out = to_remux(stored, f"{tmp}/cam.mkv")
    print(f"exported {out.name} by remux: {out.stat().st_size // 1024} KB")


if __name__ == "__main__":
    quiet_interrupt()                             # Ctrl-C: 'interrupted', no traceback
    main()

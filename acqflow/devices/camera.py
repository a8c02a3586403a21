"""Camera: video frames from OpenCV ``VideoCapture`` (a camera index, a file or a URL)."""
from __future__ import annotations

import glob
import os
import threading
import time
from typing import Any

import numpy as np

from ..dataflow.streams import clock
from ..dataflow.paramcheck import int_in, must_be, positive_number
from ._base import DeviceNode, current_worker, require

__all__ = ["Camera", "FrameNumbers", "FrameSource", "PIXEL_FORMATS", "timestamps_spec"]

PIXEL_FORMATS = ("bgr", "rgb", "gray")


def _cv2():
    return require("cv2", "video", "Camera")


def _quiet_open(cv2, source, api):
    """``cv2.VideoCapture(source, api)`` without OpenCV's WARN lines for a device that
    is not there: the ValueError that follows says it clearly."""
    log = getattr(getattr(cv2, "utils", None), "logging", None)
    level = log.getLogLevel() if log is not None else None
    if log is not None:
        log.setLogLevel(log.LOG_LEVEL_ERROR)
    try:
        return cv2.VideoCapture(source, api)
    finally:
        if log is not None:
            log.setLogLevel(level)


def _is_url(source: str) -> bool:
    return "://" in source


def timestamps_spec(rate: float) -> dict[str, Any]:
    """Params of a camera's ``timestamps`` output: (capture time, media time) per frame."""
    return dict(streamtype="analogsignal", dtype="float64", shape=(-1, 2), sample_rate=rate,
                channel_info=[{"name": "capture_time", "units": "s", "clock": "acqflow"},
                              {"name": "media_time", "units": "s"}])


class FrameNumbers:
    """The camera's frame number of each grabbed frame, not the count of ``grab()`` calls.

    Each grab adds one plus the frames skipped before it, seen as a jump of the backend's
    frame position (``CAP_PROP_POS_FRAMES``, a sequence number where the backend keeps
    one) or of its media time (``CAP_PROP_POS_MSEC``: a file's presentation time, a
    driver's stamp) by more than one frame period.  A position or media time that does
    not move (a backend without one) or moves back (a file that looped) skips nothing.
    """

    def __init__(self, fps: float):
        self.period = 1.0 / float(fps)
        self.last = -1                  # number of the last frame (-1: none yet)
        self.skipped = 0                # frames counted as skipped so far
        self._pos: float | None = None
        self._media: float | None = None

    def restart(self) -> None:
        """The source restarted (a file looped): the next frame follows the last one."""
        self._pos = self._media = None

    def next(self, pos: float, media: float) -> int:
        """Number of the frame just grabbed, whose position is ``pos`` and media time ``media`` (s)."""
        skip = 0
        if self._pos is not None and pos - self._pos > 1:
            skip = int(round(pos - self._pos)) - 1
        if self._media is not None and media - self._media > 1.5 * self.period:
            skip = max(skip, int(round((media - self._media) / self.period)) - 1)
        self._pos, self._media = pos, media
        self.skipped += skip
        self.last += 1 + skip
        return self.last


class FrameSource(DeviceNode):
    """What the cameras share: frame numbers, a capture worker, files paced at ``fps``.

    A subclass sets ``fps``, ``native_fps``, ``is_file`` and ``realtime`` when configured
    and defines ``_step`` (one frame; False ends the worker)."""

    fps: float
    native_fps: float
    is_file: bool
    realtime: bool

    def _step(self) -> bool | None:
        raise NotImplementedError

    def _initialize(self) -> None:
        self._check_outputs()
        self.frames = 0
        self.loops = 0
        # frame numbers follow the rate the source reports (a camera's after the request; a
        # file's own, whatever rate it is played at)
        self.numbers = FrameNumbers(self.native_fps if self.native_fps > 0 else self.fps)

    @property
    def skipped(self) -> int:
        """Frames the driver, the camera or the file skipped (gaps in the indexes)."""
        return self.numbers.skipped

    def _start(self) -> None:
        self._t0 = time.monotonic()
        self._first = self.numbers.last + 1       # frame number paced from (files)
        self.add_worker(self._step, "capture")

    def _paced(self) -> bool:
        """A file played in real time: wait until its next frame is due; False when the
        worker is stopped meanwhile."""
        if self.is_file and self.realtime:
            due = self._t0 + (self.numbers.last + 1 - self._first) / self.fps
            delay = due - time.monotonic()
            if delay > 0 and current_worker().stopping.wait(delay):
                return False
        return True


class Camera(FrameSource):
    """Sends frames on output ``video`` and their time stamps on output ``timestamps``.

    ``video`` is a 'video' stream of uint8 frames ``(-1, h, w, 3)`` (``(-1, h, w)``
    for gray).  ``timestamps`` is a float64 'analogsignal' ``(-1, 2)`` with the same
    absolute indexes: row ``i`` holds frame ``i``'s capture time (``clock.monotonic_now()``
    taken when ``grab()`` returns, before decoding; also each chunk's sample time) and
    its media time (position in a file, or the driver's stamp, in s).  The index is
    the camera's frame number (:class:`FrameNumbers`): frames the driver, the camera
    or the file skipped are a gap, counted in ``skipped``.  A file plays at its frame
    rate (``realtime=True``) or as fast as the readers take it; at its end it loops
    (``loop=True``) or the node goes to ``error`` with reason 'end of file' and closes
    its outputs.
    """

    _output_specs = {"video": {"streamtype": "video"}, "timestamps": {"streamtype": "analogsignal"}}
    # `acqflow run --check` does not configure it: its configure opens the camera
    dry_configure = False

    def __init__(self, name: str | None = None):
        super().__init__(name=name)
        self._cap: Any = None            # a cv2.VideoCapture once opened
        self.end_of_file = threading.Event()

    def _configure(self, device: int | str = 0, width: int | None = None, height: int | None = None,
                   fps: float | None = None, pixel_format: str = "bgr", loop: bool = False,
                   realtime: bool = True, api_preference: int | None = None) -> None:
        """Parameters:

        device: camera index, video file path or stream URL.
        width / height: frame size; a camera is asked for it, and frames of another
            size (a camera that cannot, or a file) are resized.  Default: native.
        fps: camera: requested rate; file: playback rate (default: the file's).
        pixel_format: 'bgr' (OpenCV's), 'rgb' or 'gray'.
        loop: restart a file at its end.  realtime: pace a file at ``fps``.
        api_preference: an OpenCV ``cv2.CAP_*`` backend (default: any).
        """
        cv2 = _cv2()
        if pixel_format not in PIXEL_FORMATS:
            raise ValueError(f"{self.name}: unknown pixel_format {pixel_format!r}; available: "
                             f"{', '.join(PIXEL_FORMATS)}")
        for key, value in (("width", width), ("height", height)):
            if value is not None:
                int_in(f"{self.name}: {key}", value, 1, 16384)
        if fps is not None:
            positive_number(f"{self.name}: fps", fps)
        self._release()
        is_file = isinstance(device, str) and not _is_url(device)
        if isinstance(device, str) and device.isdigit():
            device, is_file = int(device), False
        if is_file and not os.path.exists(device):
            raise ValueError(f"{self.name}: video file {device!r} does not exist")
        if not isinstance(device, (str, int, np.integer)):
            must_be(f"{self.name}: device", "a camera index, a file or a URL", device)
        api = cv2.CAP_ANY if api_preference is None else api_preference
        cap = _quiet_open(cv2, device if isinstance(device, str) else int(device), api)
        if not cap.isOpened():
            cap.release()
            if is_file or isinstance(device, str):
                raise ValueError(f"{self.name}: OpenCV cannot open {device!r} (not a video it can "
                                 f"decode, or unreachable)")
            cams = sorted(glob.glob("/dev/video*")) or ["none found"]
            raise ValueError(f"{self.name}: cannot open camera {device!r}; video devices: "
                             f"{', '.join(cams)}")
        if not is_file:
            if width:
                cap.set(cv2.CAP_PROP_FRAME_WIDTH, width)
            if height:
                cap.set(cv2.CAP_PROP_FRAME_HEIGHT, height)
            if fps:
                cap.set(cv2.CAP_PROP_FPS, fps)
        native_w = int(cap.get(cv2.CAP_PROP_FRAME_WIDTH))
        native_h = int(cap.get(cv2.CAP_PROP_FRAME_HEIGHT))
        native_fps = float(cap.get(cv2.CAP_PROP_FPS) or 0)
        if native_w <= 0 or native_h <= 0:
            cap.release()
            raise ValueError(f"{self.name}: {device!r} reports no frame size")
        w, h = int(width or native_w), int(height or native_h)
        if width and not height:
            h = max(1, round(native_h * w / native_w))
        if height and not width:
            w = max(1, round(native_w * h / native_h))
        rate = float(fps or native_fps or 30.0)
        self._cap, self.device, self.is_file = cap, device, is_file
        self.size, self.native_size, self.fps = (w, h), (native_w, native_h), rate
        self.native_fps = native_fps
        self.pixel_format, self.loop, self.realtime = pixel_format, bool(loop), bool(realtime)
        self.frame_count = int(cap.get(cv2.CAP_PROP_FRAME_COUNT)) if is_file else None
        shape = (-1, h, w) if pixel_format == "gray" else (-1, h, w, 3)
        self._set_output_spec("video", streamtype="video", dtype="uint8", shape=shape,
                              sample_rate=rate, pixel_format=pixel_format, source=str(device))
        self._set_output_spec("timestamps", **timestamps_spec(rate))

    def _step(self) -> bool | None:
        cv2 = _cv2()
        if not self._paced():
            return False
        if not self._cap.grab():
            if self.is_file and self.loop and self.frames > 0:
                self._cap.set(cv2.CAP_PROP_POS_FRAMES, 0)
                self.loops += 1
                self.numbers.restart()
                if self._cap.grab():
                    self._send(cv2)
                    return None
            self.end_of_file.set()
            what = "end of file" if self.is_file else "camera stopped delivering frames"
            self.device_lost(f"{what} {self.device!r} after {self.frames} frames")
            return False
        self._send(cv2)
        return None

    def _send(self, cv2) -> None:
        stamp = clock.monotonic_now()           # at capture: before retrieve() decodes
        media = self._cap.get(cv2.CAP_PROP_POS_MSEC) / 1000.0
        number = self.numbers.next(self._cap.get(cv2.CAP_PROP_POS_FRAMES), media)
        ok, frame = self._cap.retrieve()
        if not ok or frame is None:
            raise RuntimeError(f"{self.device!r}: frame {number} could not be decoded")
        if frame.ndim == 2:
            frame = cv2.cvtColor(frame, cv2.COLOR_GRAY2BGR)
        if (frame.shape[1], frame.shape[0]) != self.size:
            frame = cv2.resize(frame, self.size, interpolation=cv2.INTER_AREA)
        if self.pixel_format == "rgb":
            frame = cv2.cvtColor(frame, cv2.COLOR_BGR2RGB)
        elif self.pixel_format == "gray":
            frame = cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)
        frame = np.ascontiguousarray(frame)
        # index: the camera's frame number (a skip is a gap); time: the capture stamp
        self.outputs["video"].send(frame[np.newaxis], index=number + 1, time=stamp)
        self.outputs["timestamps"].send(np.array([[stamp, media]], dtype=np.float64),
                                        index=number + 1, time=stamp)
        self.frames += 1

    def _release(self) -> None:
        if self._cap is not None:
            self._cap.release()
            self._cap = None

    def _close_device(self) -> None:
        self._release()

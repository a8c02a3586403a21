"""pyacq's ``pyacq.devices.webcam_av``: ``WebCamAV`` (a camera through PyAV in pyacq) onto
acqflow's Camera (OpenCV), and ``HAVE_AV`` (whether PyAV is importable, as pyacq's flag)."""
from __future__ import annotations

import importlib.util
from typing import Any

from ....devices.camera import Camera
from ..core.states import PyacqStates

__all__ = ["WebCamAV", "HAVE_AV"]

HAVE_AV = importlib.util.find_spec("av") is not None


class WebCamAV(PyacqStates, Camera):
    """``configure(camera_num=0)`` as pyacq's; frames on ``video`` (``output``)."""

    def _configure(self, camera_num: int = 0, **kwargs: Any) -> None:  # type: ignore[override]  # pyacq's arguments
        super()._configure(device=camera_num, **kwargs)

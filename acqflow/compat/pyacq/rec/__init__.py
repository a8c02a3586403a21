"""pyacq.rec: pyacq's recorders (raw binary and AVI files in pyacq's layout)."""
from .avirecorder import AviRecorder
from .rawrecorder import RawRecorder

__all__ = ["RawRecorder", "AviRecorder"]

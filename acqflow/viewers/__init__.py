"""Live Qt viewers (pyqtgraph) and the graph monitor; the only Qt importer besides rpc's Qt server.

Importing this package registers the viewer node types: Oscilloscope,
DigitalOscilloscope, TimeFrequencyViewer, ImageViewer, EpochViewer, EventRaster.
"""
try:
    import pyqtgraph  # noqa: F401  (the qt extra: PyQt5 + pyqtgraph)
except ImportError as exc:
    raise ImportError(f"acqflow.viewers needs Qt: pip install acqflow[qt] ({exc})") from exc

from .apploop import run_app, stop_on_signals
from .base import InputReader, ViewerNode, get_app, grab_array, process_events_until, save_png
from .digital import DigitalOscilloscope
from .epochs import EpochViewer
from .events import EventRaster
from .image import ImageViewer
from .monitor import GraphMonitor, run_graph_with_monitor, run_monitor
from .oscilloscope import Oscilloscope
from .panel import ViewerPanel
from .timefreq import TimeFrequencyViewer

__all__ = ["ViewerNode", "InputReader", "Oscilloscope", "DigitalOscilloscope", "TimeFrequencyViewer",
           "ImageViewer", "EpochViewer", "EventRaster", "ViewerPanel", "GraphMonitor", "run_monitor",
           "run_graph_with_monitor", "get_app", "grab_array", "save_png", "process_events_until", "run_app",
           "stop_on_signals"]

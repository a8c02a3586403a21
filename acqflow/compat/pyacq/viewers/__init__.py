"""pyacq.viewers: pyacq's Qt viewers under pyacq's names, onto acqflow's viewers."""
from .imageviewer import ImageViewer
from .qdigitaloscilloscope import QDigitalOscilloscope
from .qoscilloscope import QOscilloscope
from .qoscilloscopemultiplot import QOscilloscopeMultiPlot
from .qtimefreq import QTimeFreq
from .qtriggeredoscilloscope import QTriggeredOscilloscope
from .timefreqworker import TimeFreqWorker

#: pyacq node type names -> these classes (for a node group's ``create_node(name)``: some
#: names, e.g. SosFilter, are also acqflow node types with acqflow's parameters).
NODE_TYPES = {cls.__name__: cls for cls in (
    QOscilloscope, QDigitalOscilloscope, ImageViewer, QTriggeredOscilloscope, QTimeFreq,
    QOscilloscopeMultiPlot, TimeFreqWorker,
)}

__all__ = ["NODE_TYPES", "QOscilloscope", "QDigitalOscilloscope", "ImageViewer", "QTriggeredOscilloscope",
           "QTimeFreq", "QOscilloscopeMultiPlot", "TimeFreqWorker"]

"""pyacq.viewers: pyacq's Qt viewers under pyacq's names, onto acqflow's viewers."""
from .imageviewer import ImageViewer
from .qdigitaloscilloscope import QDigitalOscilloscope
from .qoscilloscope import QOscilloscope
from .qoscilloscopemultiplot import QOscilloscopeMultiPlot
from .qtimefreq import QTimeFreq
from .qtriggeredoscilloscope import QTriggeredOscilloscope

__all__ = ["QOscilloscope", "QDigitalOscilloscope", "ImageViewer", "QTriggeredOscilloscope", "QTimeFreq", "QOscilloscopeMultiPlot"]

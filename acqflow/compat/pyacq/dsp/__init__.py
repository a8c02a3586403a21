"""pyacq.dsp: pyacq's processing nodes under pyacq's names and parameters, onto acqflow's nodes."""
from .overlapfiltfilt import OverlapFiltfilt
from .sosfilter import SosFilter
from .trigger import AnalogTrigger, DigitalTrigger
from .triggeraccumulator import TriggerAccumulator

__all__ = ["SosFilter", "OverlapFiltfilt", "AnalogTrigger", "DigitalTrigger", "TriggerAccumulator"]

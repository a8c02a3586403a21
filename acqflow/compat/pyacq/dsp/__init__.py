"""pyacq.dsp: pyacq's processing nodes under pyacq's names and parameters, onto acqflow's nodes."""
from .overlapfiltfilt import OverlapFiltfilt
from .sosfilter import SosFilter
from .trigger import AnalogTrigger, DigitalTrigger
from .triggeraccumulator import TriggerAccumulator

#: pyacq node type names -> these classes (for a node group's ``create_node(name)``: some
#: names, e.g. SosFilter, are also acqflow node types with acqflow's parameters).
NODE_TYPES = {cls.__name__: cls for cls in (
    SosFilter, OverlapFiltfilt, AnalogTrigger, DigitalTrigger, TriggerAccumulator,
)}

__all__ = ["NODE_TYPES", "SosFilter", "OverlapFiltfilt", "AnalogTrigger", "DigitalTrigger",
           "TriggerAccumulator"]

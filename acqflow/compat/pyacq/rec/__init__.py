"""pyacq.rec: pyacq's recorders (raw binary and AVI files in pyacq's layout)."""
from .avirecorder import AviRecorder
from .rawrecorder import RawRecorder

#: pyacq node type names -> these classes (for a node group's ``create_node(name)``: some
#: names, e.g. SosFilter, are also acqflow node types with acqflow's parameters).
NODE_TYPES = {cls.__name__: cls for cls in (RawRecorder, AviRecorder,)}

__all__ = ["NODE_TYPES", "RawRecorder", "AviRecorder"]

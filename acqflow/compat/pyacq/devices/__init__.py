"""pyacq.devices: pyacq's device names onto acqflow's devices."""
from .npbufferdevice import NumpyDeviceBuffer

#: pyacq node type names -> these classes (for a node group's ``create_node(name)``: some
#: names, e.g. SosFilter, are also acqflow node types with acqflow's parameters).
NODE_TYPES = {cls.__name__: cls for cls in (NumpyDeviceBuffer,)}

__all__ = ["NODE_TYPES", "NumpyDeviceBuffer"]

"""pyacq.devices: pyacq's device names onto acqflow's devices."""
from .npbufferdevice import NumpyDeviceBuffer

__all__ = ["NumpyDeviceBuffer"]

"""Processing nodes: filters, triggers, converters, recorders and the LSL outlet."""
from .lsl_outlet import LSLOutlet
from .recorder import Recorder
from .filters import SosFilter
from .overlap import OverlapFiltfilt
from .decimate import Decimate, Resample
from .triggers import AnalogTrigger, DigitalTrigger
from .epochs import Epocher
from .timefreq import TimeFrequency
from ..dataflow.graph.relays import ChannelSplitter, ChunkResizer, StreamConverter
from .function import Expression, Function
from .imageops import Blur, ColorConvert, Crop, FrameDiff, MotionEnergy, Resize
from .packetdecode import PacketDecoder

__all__ = ["LSLOutlet", "Recorder", "SosFilter", "OverlapFiltfilt", "Decimate", "Resample",
           "AnalogTrigger", "DigitalTrigger", "Epocher", "TimeFrequency", "ChannelSplitter",
           "ChunkResizer", "StreamConverter", "Expression", "Function", "Blur",
           "ColorConvert", "Crop", "FrameDiff", "MotionEnergy", "Resize", "PacketDecoder"]

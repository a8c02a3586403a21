"""Processing nodes: filters, triggers, converters, recorders and the LSL outlet."""
from .lsl_outlet import LSLOutlet  # noqa: F401
from .recorder import Recorder  # noqa: F401
from .filters import SosFilter  # noqa: F401
from .overlap import OverlapFiltfilt  # noqa: F401
from .decimate import Decimate, Resample  # noqa: F401
from .triggers import AnalogTrigger, DigitalTrigger  # noqa: F401
from .epochs import Epocher  # noqa: F401
from .timefreq import TimeFrequency  # noqa: F401
from .relay_nodes import ChannelSplitterNode, ChunkResizerNode, StreamConverterNode  # noqa: F401
from .function import Expression, Function  # noqa: F401
from .imageops import Blur, ColorConvert, Crop, FrameDiff, MotionEnergy, Resize  # noqa: F401

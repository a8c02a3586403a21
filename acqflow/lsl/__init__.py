"""Lab Streaming Layer: record every visible stream (``acqflow lsl record``), shared LSL helpers.

Importing this package never imports pylsl; using it needs ``pip install acqflow[lsl]``.
See docs/lsl-and-xdf.md.
"""
from .recorder import LSLRecorder, record

__all__ = ["record", "LSLRecorder"]

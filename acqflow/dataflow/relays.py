"""What an output that re-sends an input inherits from it (relays, processing nodes).

The relays themselves (StreamConverter, ChannelSplitter, ChunkResizer) are processing
nodes: acqflow.dataflow.relaynodes.
"""
from __future__ import annotations

from typing import Any

from .spec import inherited

__all__ = ["inherited_params"]


def inherited_params(input_params: dict, **overrides: Any) -> dict:
    """Output params describing the same signal as ``input_params``, with overrides
    (transport params belong to one output and are never inherited: see spec.PARAMS)."""
    return inherited(input_params, **overrides)

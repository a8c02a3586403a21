"""The stream relays, graph node types "StreamConverter", "ChannelSplitter", "ChunkResizer"
(entry points in pyproject.toml).

Each node type is the very class ``acqflow.StreamConverter`` etc. (processing nodes
defined in acqflow.dataflow.relaynodes); the ``...Node`` names are aliases kept for
existing code.  Gap policy: absolute indexes are kept, so gaps pass through.
"""
from __future__ import annotations

from ..dataflow.relaynodes import ChannelSplitter, ChunkResizer, StreamConverter

__all__ = ["StreamConverter", "ChannelSplitter", "ChunkResizer", "StreamConverterNode",
           "ChannelSplitterNode", "ChunkResizerNode"]

StreamConverterNode = StreamConverter
ChannelSplitterNode = ChannelSplitter
ChunkResizerNode = ChunkResizer

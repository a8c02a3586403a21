"""The stream relays registered as graph node types "StreamConverter", "ChannelSplitter",
"ChunkResizer".

Each node type is the very class ``acqflow.StreamConverter`` etc. (processing nodes
defined in acqflow.dataflow.relaynodes); the ``...Node`` names are aliases kept for
existing code.  Gap policy: absolute indexes are kept, so gaps pass through.
"""
from __future__ import annotations

from ..dataflow.registry import register_node_type
from ..dataflow.relaynodes import ChannelSplitter, ChunkResizer, StreamConverter

__all__ = ["StreamConverter", "ChannelSplitter", "ChunkResizer", "StreamConverterNode",
           "ChannelSplitterNode", "ChunkResizerNode"]

StreamConverterNode = StreamConverter
ChannelSplitterNode = ChannelSplitter
ChunkResizerNode = ChunkResizer

register_node_type(StreamConverter, "StreamConverter")
register_node_type(ChannelSplitter, "ChannelSplitter")
register_node_type(ChunkResizer, "ChunkResizer")

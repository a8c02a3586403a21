"""Private local addresses for RPC: re-exported from :mod:`acqflow.dataflow.streams.private`
(streams use the same 0700 directory, and dataflow cannot import rpc)."""
from __future__ import annotations

from ..dataflow.streams.private import is_private_address, private_address, private_dir

__all__ = ["private_dir", "private_address", "is_private_address"]

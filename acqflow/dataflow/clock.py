"""The one clock every chunk timestamp comes from.

Streams stamp each chunk with :func:`now` (seconds since the epoch, float).  Keeping
the call in one place lets multi-host clock correction hook in later.
"""
import time

__all__ = ["now"]

now = time.time

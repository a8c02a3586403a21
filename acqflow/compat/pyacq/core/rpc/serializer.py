"""``pyacq.core.rpc.serializer`` onto acqflow's serializers.

pyacq's ``Serializer(server=None, client=None)``; ``dumps(obj)`` gives what
``loads`` takes back (acqflow: a frame list, large arrays in their own frames).
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from acqflow.rpc import jsonser as _json
from acqflow.rpc import serializer as _msgpack

if TYPE_CHECKING:                 # a mixin, always taken first by one of acqflow's serializers
    from acqflow.rpc.serializer import Serializer as _MixedInto
else:
    _MixedInto = object

__all__ = ["MsgpackSerializer", "JsonSerializer", "HAVE_MSGPACK", "all_serializers"]

HAVE_MSGPACK = True


class _PyacqArgs(_MixedInto):
    """pyacq's constructor: ``server`` publishes unserializable values as proxies."""

    def __init__(self, server: Any = None, client: Any = None):
        super().__init__()
        self.server, self.client = server, client

    def dumps(self, obj: Any, server: Any = None) -> list:
        return super().dumps(obj, server if server is not None else self.server)


class MsgpackSerializer(_PyacqArgs, _msgpack.MsgpackSerializer):
    """acqflow's msgpack serializer with pyacq's constructor."""


class JsonSerializer(_PyacqArgs, _json.JsonSerializer):
    """acqflow's JSON serializer with pyacq's constructor."""


all_serializers = {"msgpack": MsgpackSerializer, "json": JsonSerializer}

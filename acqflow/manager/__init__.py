"""Running graphs: Manager, node groups in their own processes, graph files, console."""
from .groups import GroupHandle
from .manager import Manager, create_manager

__all__ = ["Manager", "create_manager", "GroupHandle"]

"""Node: the unit of an acquisition graph, with an explicit life-cycle.

States: new -> configured -> initialized -> running <-> stopped -> closed, and
``error`` from any of them.  Subclasses declare ``_input_specs`` /
``_output_specs`` and override the ``_configure``, ``_initialize``, ``_start``,
``_stop`` and ``_close`` hooks; the public methods check the state first, so a
call out of order raises NodeStateError naming the state.
"""
from __future__ import annotations

import contextlib
import logging
import signal
import threading
from typing import Any, Callable, Iterator

from .configsig import install_configure
from ..errors import StreamError
from ..streams.inputcheck import check_accepts, stream_spec
from ..streams.inputstream import InputStream
from ..streams.outputstream import OutputStream

__all__ = ["Node", "NodeStateError", "STATES"]

log = logging.getLogger(__name__)

STATES = ("new", "configured", "initialized", "running", "stopped", "closed", "error")

# state flag: the states in which it is true
_FLAG_STATES = {"configured": ("configured", "initialized", "running", "stopped"),
                "initialized": ("initialized", "running", "stopped"),
                "running": ("running",), "closed": ("closed",)}

# method: (states it may be called in, state it leads to (None: stays), hint when refused);
# a subclass may set its own rules as ``_transitions`` (pyacq's, in acqflow.compat)
_TRANSITIONS: dict[str, tuple[tuple[str, ...], str | None, str]] = {
    "configure": (("new", "configured"), "configured", "configure() comes before initialize()"),
    "initialize": (("configured",), "initialized", "call configure() first"),
    "start": (("initialized", "stopped"), "running", "call initialize() first"),
    "stop": (("running",), "stopped", "the node is not running"),
}


class NodeStateError(StreamError):
    """A node method was called in a state that does not allow it."""


class Ports(dict):
    """A node's inputs or outputs by name; a missing name's KeyError lists the ports.

    An input put here reports each connection to the node: its ``on_connect`` calls the
    node's ``after_input_connect(name)``, whose error refuses the connection (see
    :meth:`InputStream.connect`)."""

    def __init__(self, node: "Node", kind: str, streams: dict):
        super().__init__()
        self._where = (getattr(node, "name", "?"), kind)
        self._node = node if kind == "input" and hasattr(node, "after_input_connect") else None
        self.update(streams)

    def __setitem__(self, key: Any, stream: Any) -> None:
        if self._node is not None and isinstance(stream, InputStream):
            node = self._node
            stream.on_connect = lambda inp: node.after_input_connect(key)
        super().__setitem__(key, stream)

    def update(self, *args: Any, **kwargs: Any) -> None:
        for key, stream in dict(*args, **kwargs).items():
            self[key] = stream

    def __missing__(self, key: Any) -> Any:
        name, kind = self._where
        raise KeyError(f"node {name!r} has no {kind} {key!r} ({kind}s: {', '.join(map(str, self)) or 'none'})")


@contextlib.contextmanager
def _ctrl_c_after() -> Iterator[None]:
    """Hold a Ctrl-C (SIGINT, Python's default handler) until the block ends, then raise
    KeyboardInterrupt: a close cut halfway would close streams under a running worker
    thread, and libzmq aborts the process on a socket closed under its thread."""
    if threading.current_thread() is not threading.main_thread() or \
            signal.getsignal(signal.SIGINT) is not signal.default_int_handler:
        yield
        return
    caught: list[int] = []
    signal.signal(signal.SIGINT, lambda sig, frame: caught.append(sig))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, signal.default_int_handler)
        if caught:
            raise KeyboardInterrupt


class Node:
    """Base class of devices, filters, recorders and viewers.

    ``inputs`` / ``outputs`` map names to streams built from the specs;
    ``input`` / ``output`` are shortcuts when there is exactly one.
    """

    _input_specs: dict[str, dict] = {}
    _output_specs: dict[str, dict] = {}
    #: heavy modules the node imports when it initializes (e.g. scipy.signal): a group
    #: process started by build_graph imports them as it starts, while the other groups
    #: start; a NodeGroup starts importing those not imported yet when it creates the node,
    #: so the import overlaps the rest of the graph's build instead of delaying initialize()
    warm_imports: tuple[str, ...] = ()
    _transitions = _TRANSITIONS

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        install_configure(cls)     # configure() shows the class's _configure parameters

    def __init__(self, name: str | None = None):
        self.name = name or type(self).__name__
        self.state = "new"
        self.error_reason: str | None = None
        self.config: dict[str, Any] = {}       # what configure() was given, for rebuilding
        self._state_lock = threading.RLock()
        self.inputs = {k: InputStream(spec=stream_spec(v), node=self, name=k)
                       for k, v in self._input_specs.items()}
        self.outputs = {k: OutputStream(spec=dict(v), node=self, name=k) for k, v in self._output_specs.items()}

    # -- ports ----------------------------------------------------------------
    @property
    def inputs(self) -> "Ports":
        """Input streams by name (a dict whose missing keys raise a KeyError naming the node's inputs)."""
        return self._inputs

    @inputs.setter
    def inputs(self, value: dict) -> None:
        self._inputs = value if isinstance(value, Ports) else Ports(self, "input", value)

    @property
    def outputs(self) -> "Ports":
        """Output streams by name (a dict whose missing keys raise a KeyError naming the node's outputs)."""
        return self._outputs

    @outputs.setter
    def outputs(self, value: dict) -> None:
        self._outputs = value if isinstance(value, Ports) else Ports(self, "output", value)

    def __getattr__(self, name: str) -> Any:
        # only reached for missing attributes: a node given where an output is expected
        if name == "params":
            outs = ", ".join(f"{self.name}.outputs[{k!r}]" for k in self.__dict__.get("_outputs", {}))
            raise AttributeError(f"node {self.__dict__.get('name')!r} is a node, not an output "
                                 f"stream: connect() takes an OutputStream, a proxy to one or its "
                                 f"params dict, e.g. {outs or 'one of its outputs'}")
        prop = getattr(type(self), name, None)
        if isinstance(prop, property) and prop.fget is not None:   # its own AttributeError, not this one
            return prop.fget(self)
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    # -- shortcuts -----------------------------------------------------------
    @property
    def input(self) -> InputStream:
        """The only input; AttributeError naming the inputs when there is not exactly one."""
        return self._only_stream(self.inputs, "input")

    @property
    def output(self) -> OutputStream:
        """The only output; AttributeError naming the outputs when there is not exactly one."""
        return self._only_stream(self.outputs, "output")

    def _only_stream(self, streams: dict, kind: str) -> Any:
        if len(streams) != 1:
            raise AttributeError(f"node {self.name!r} has {len(streams)} {kind}s "
                                 f"({', '.join(streams) or 'none'}); use .{kind}s[name]")
        return next(iter(streams.values()))

    # -- life-cycle ----------------------------------------------------------
    def _lifecycle_check(self, method: str) -> None:
        allowed, _, hint = self._transitions[method]
        if self.state not in allowed:
            reason = f" ({self.error_reason})" if self.state == "error" else ""
            raise NodeStateError(f"cannot {method}() node {self.name!r} in state "
                                 f"{self.state!r}{reason}: {hint}")

    def _lifecycle_call(self, method: str, hook: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
        with self._state_lock:
            self._lifecycle_check(method)
            try:
                hook(*args, **kwargs)
            except Exception as exc:
                if method != "configure":     # a bad parameter leaves the node as it was
                    self.set_error(f"{method}() failed: {exc!r}")
                raise
            self.state = self._transitions[method][1] or self.state

    def configure(self, **kwargs: Any) -> None:
        """Set parameters (``_configure``'s); may be called again until initialize().

        Each subclass's ``configure`` has its ``_configure``'s signature and docstring
        (acqflow.dataflow.graph.configsig); an unknown keyword is a TypeError naming it."""
        self._lifecycle_call("configure", self._configure, **kwargs)
        self.config = dict(kwargs)

    def initialize(self) -> None:
        """Check connections, configure unconfigured outputs, allocate resources."""
        with self._state_lock:
            self._lifecycle_check("initialize")
            missing = [k for k, i in self.inputs.items() if not i.connected]
            if missing:
                raise NodeStateError(f"node {self.name!r}: input(s) {', '.join(missing)} not "
                                     f"connected; connect them before initialize()")
            for out in self.outputs.values():
                if not out.configured:
                    out.configure()
        self._lifecycle_call("initialize", self._initialize)

    def start(self) -> None:
        """Begin producing/consuming data (again, after stop())."""
        self._lifecycle_call("start", self._start)

    def stop(self) -> None:
        """Stop producing/consuming data; the node keeps its resources and start() resumes it."""
        self._lifecycle_call("stop", self._stop)

    def close(self) -> None:
        """Stop if running, release resources and close every stream."""
        with _ctrl_c_after(), self._state_lock:
            if self.state == "closed":
                return
            try:
                if self.state == "running":
                    self._stop()
                self._close()
            finally:
                for stream in list(self.inputs.values()) + list(self.outputs.values()):
                    stream.close()
                self.state = "closed"

    def reconnect_input(self, name: str, output: Any) -> None:
        """Connect input ``name`` to another output (e.g. a restarted node's),
        pausing the node meanwhile if it runs."""
        with self._state_lock:
            was_running = self.state == "running"
            if was_running:
                self.stop()
            self.inputs[name].close()
            self.inputs[name].connect(output)
            if was_running:
                self.start()

    def set_error(self, reason: str) -> None:
        """Move to the ``error`` state, keeping why (e.g. from a worker thread)."""
        with self._state_lock:
            if self.state == "closed":
                return
            self.state = "error"
            self.error_reason = reason
        log.error("node %r entered error state: %s", self.name, reason)

    # -- state flags: read-only attributes, as OutputStream.configured and
    # InputStream.connected (pyacq's node methods, node.configured(), are in
    # acqflow.compat.pyacq); acqflow's own code reads _flag() so that it also works
    # on compat nodes, whose flags are methods
    @property
    def configured(self) -> bool:
        """configure() done (the node is configured, initialized, running or stopped)."""
        return self._flag("configured")

    @property
    def initialized(self) -> bool:
        """initialize() done (initialized, running or stopped)."""
        return self._flag("initialized")

    @property
    def running(self) -> bool:
        """start() done and not stopped since (state 'running')."""
        return self._flag("running")

    @property
    def closed(self) -> bool:
        """close() done: resources released, streams closed (state 'closed')."""
        return self._flag("closed")

    def _flag(self, name: str) -> bool:
        return self.state in _FLAG_STATES[name]

    # -- hooks for subclasses ------------------------------------------------
    def _configure(self) -> None:
        # subclasses: keyword parameters with defaults and annotations (configure() shows them)
        pass

    def _initialize(self) -> None:
        pass

    def _start(self) -> None:
        pass

    def _stop(self) -> None:
        pass

    def _close(self) -> None:
        pass

    def after_input_connect(self, inputname: str) -> None:
        """Called by an input of ``inputs`` once connected (its ``on_connect``): refuses what
        ``_input_specs`` does not accept (see acqflow.dataflow.streams.inputcheck) by raising, which
        leaves the input unconnected.  Subclasses extend it (calling this first), e.g. to
        derive output specs."""
        self.check_input(inputname)

    def check_input(self, inputname: str) -> None:
        """Raise ValueError naming node, input and bad value if the connected input breaks
        its ``_input_specs`` entry."""
        check_accepts(self.inputs[inputname].params, self._input_specs.get(inputname, {}),
                      f"node {self.name!r} input {inputname!r}")

    def after_output_configure(self, outputname: str) -> None:
        """Called once an output is configured."""

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name!r} {self.state}>"


install_configure(Node)

"""Nodes' configure() shows its _configure's real signature and docstring (help, inspect,
IDEs), refuses an unknown keyword in one line naming it, and keeps the life-cycle."""
import inspect
import pydoc

import pytest

from acqflow.dataflow import Node, NodeStateError
from acqflow.dataflow.graph.configsig import configure_signature, passes_kwargs_to


class Gain(Node):
    def _configure(self, gain: float = 1.0, offset: float = 0.0) -> None:
        """``gain`` multiplies, then ``offset`` adds."""
        self.gain, self.offset = gain, offset


class LoudGain(Gain):                   # forwards its **kwargs to super()._configure
    def _configure(self, loud: bool = True, gain: float = 10.0, **kwargs) -> None:
        self.loud = loud
        super()._configure(gain=gain, **kwargs)


class Base(Node):                       # forwards to a hook subclasses fill in
    @passes_kwargs_to("_configure_more")
    def _configure(self, rate: float = 30.0, **kwargs) -> None:
        self.rate = rate
        self._configure_more(**kwargs)

    def _configure_more(self) -> None:
        pass


class More(Base):
    def _configure_more(self, width: int = 3) -> None:
        self.width = width


class Anything(Node):                   # consumes arbitrary keywords itself
    def _configure(self, **extra) -> None:
        self.extra = extra


def params(cls):
    return {n: (p.kind, p.default) for n, p in inspect.signature(cls.configure).parameters.items()}


def test_configure_shows_the_real_parameters_defaults_annotations_and_docstring():
    sig = inspect.signature(Gain.configure)
    assert list(sig.parameters) == ["self", "gain", "offset"]
    assert sig.parameters["gain"].kind is inspect.Parameter.KEYWORD_ONLY
    assert sig.parameters["gain"].default == 1.0 and sig.parameters["gain"].annotation is float
    assert "``gain`` multiplies" in Gain.configure.__doc__
    text = pydoc.render_doc(Gain.configure, renderer=pydoc.plaintext)
    assert "gain: float = 1.0" in text and "offset" in text
    assert list(inspect.signature(Gain().configure).parameters) == ["gain", "offset"]   # bound


def test_forwarded_kwargs_show_the_parameters_they_reach():
    assert params(LoudGain) == {"self": (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.empty),
                                "loud": (inspect.Parameter.KEYWORD_ONLY, True),
                                "gain": (inspect.Parameter.KEYWORD_ONLY, 10.0),   # its own default
                                "offset": (inspect.Parameter.KEYWORD_ONLY, 0.0)}
    assert list(params(More)) == ["self", "rate", "width"]
    assert list(params(Base)) == ["self", "rate"]
    assert list(params(Node)) == ["self"]
    any_sig = inspect.signature(Anything.configure)
    assert [p.kind for p in any_sig.parameters.values()][-1] is inspect.Parameter.VAR_KEYWORD
    assert configure_signature(More) == inspect.signature(More.configure)


def test_configure_still_runs_the_life_cycle_and_records_config():
    node = More()
    node.configure(rate=10.0, width=5)
    assert (node.rate, node.width, node.state) == (10.0, 5, "configured")
    assert node.config == {"rate": 10.0, "width": 5}
    node = LoudGain()
    node.configure(offset=2.0)
    assert (node.gain, node.offset, node.loud) == (10.0, 2.0, True)
    node.initialize()
    with pytest.raises(NodeStateError, match="cannot configure"):
        node.configure(gain=1.0)
    node.close()
    node = Anything()
    node.configure(whatever=1)
    assert node.extra == {"whatever": 1}


@pytest.mark.parametrize("cls", [Gain, LoudGain, More, Node])
def test_an_unknown_keyword_is_one_line_naming_it_and_changes_nothing(cls):
    node = cls()
    with pytest.raises(TypeError) as info:
        node.configure(gian=2)
    message = str(info.value)
    assert "\n" not in message and "'gian'" in message and f"{cls.__name__}.configure()" in message
    assert node.state == "new" and node.config == {}


def test_a_configure_override_with_kwargs_gets_the_signature_too():
    class Checked(Gain):
        def configure(self, **kwargs) -> None:
            super().configure(**kwargs)
            self.checked = True

    assert list(params(Checked)) == ["self", "gain", "offset"]
    node = Checked()
    node.configure(gain=3.0)
    assert node.checked and node.gain == 3.0
    with pytest.raises(TypeError, match="'nope'"):
        node.configure(nope=1)

"""Real signatures on nodes' ``configure``: help(), ``inspect.signature`` and IDEs show
each node's own parameters, not ``**kwargs``.

``Node.__init_subclass__`` calls :func:`install_configure` for every subclass: the class
gets a ``configure`` that checks the keywords and calls the inherited one (so the
life-cycle and ``self.config`` are unchanged), with the signature and docstring of its
``_configure``.  A ``_configure`` whose ``**kwargs`` go on to ``super()._configure``
shows the parameters of both; one whose ``**kwargs`` go to another hook says so with
:func:`passes_kwargs_to` (e.g. ViewerNode's to ``_configure_viewer``); one that does
neither takes arbitrary keywords (e.g. StreamConverter's output stream params).
"""
from __future__ import annotations

import inspect
from typing import Any, Callable, TypeVar

from ..shortrepr import short_repr

__all__ = ["passes_kwargs_to", "install_configure", "configure_signature", "refuse_unknown"]

_F = TypeVar("_F", bound=Callable[..., Any])
_KW_ONLY = inspect.Parameter.KEYWORD_ONLY
_VAR_KW = inspect.Parameter.VAR_KEYWORD
_VAR_POS = inspect.Parameter.VAR_POSITIONAL


def passes_kwargs_to(hook: str) -> Callable[[_F], _F]:
    """Mark a configure hook whose ``**kwargs`` go to ``self.<hook>(**kwargs)`` (not to
    ``super()``), so ``configure``'s signature lists that hook's parameters too."""
    def mark(func: _F) -> _F:
        func._passes_kwargs_to = hook  # type: ignore[attr-defined]
        return func
    return mark


def _signature(func: Callable[..., Any]) -> inspect.Signature:
    try:              # real annotations where they resolve (help shows int, not 'int')
        return inspect.signature(func, eval_str=True)
    except Exception:             # noqa: BLE001 - e.g. a name imported for type checking only
        return inspect.signature(func)


def _hook_parameters(cls: type, name: str, after: type | None, docs: list[str]
                     ) -> list[inspect.Parameter] | None:
    """Parameters of ``cls``'s hook ``name`` (the first definition after ``after`` in the
    MRO), following where its ``**kwargs`` go; None when no class defines it."""
    mro = cls.__mro__
    for klass in mro[mro.index(after) + 1 if after is not None else 0:]:
        if name in klass.__dict__:
            func = klass.__dict__[name]
            break
    else:
        return None
    func = getattr(func, "__func__", func)
    if func.__doc__:
        docs.append(inspect.cleandoc(func.__doc__))
    params = list(_signature(func).parameters.values())[1:]          # without self
    own = [p for p in params if p.kind not in (_VAR_KW, _VAR_POS)]
    var_kw = [p for p in params if p.kind is _VAR_KW]
    if not var_kw:
        return own
    target = getattr(func, "_passes_kwargs_to", None)
    code = getattr(func, "__code__", None)
    if target:
        rest = _hook_parameters(cls, target, None, docs)
    elif code is not None and name in code.co_names:       # super()._configure(**kwargs)
        rest = _hook_parameters(cls, name, klass, docs)
    else:                                  # its own arbitrary keywords (e.g. stream params)
        rest = None
    if rest is None:
        return own + var_kw
    names = {p.name for p in own}          # a subclass's own default wins over its base's
    return own + [p for p in rest if p.name not in names]


def configure_signature(cls: type) -> inspect.Signature:
    """The keyword parameters ``cls().configure`` accepts (self first), from its ``_configure``."""
    sig = cls.__dict__.get("_configure_signature")
    if sig is None:
        try:
            sig, _ = _build(cls)
        except (TypeError, ValueError):   # a hook inspect cannot read: any keyword goes
            sig = inspect.Signature([inspect.Parameter("self", inspect.Parameter.POSITIONAL_OR_KEYWORD),
                                     inspect.Parameter("kwargs", _VAR_KW)])
    return sig


def _build(cls: type) -> tuple[inspect.Signature, str]:
    docs: list[str] = []
    params = _hook_parameters(cls, "_configure", None, docs) or []
    self_param = inspect.Parameter("self", inspect.Parameter.POSITIONAL_OR_KEYWORD)
    shown = [p if p.kind is _VAR_KW else p.replace(kind=_KW_ONLY) for p in params]
    shown.sort(key=lambda p: p.kind is _VAR_KW)                      # **kwargs last
    sig = inspect.Signature([self_param, *shown], return_annotation=None)
    if not docs and cls.__doc__:
        docs.append(inspect.cleandoc(cls.__doc__))
    impls = [getattr(k.__dict__["configure"], "_configure_impl", k.__dict__["configure"])
             for k in cls.__mro__ if "configure" in k.__dict__]
    head = next((inspect.cleandoc(f.__doc__).split("\n\n")[0] for f in impls if f.__doc__),
                "Set the node's parameters.")
    doc = "\n\n".join([head, *docs])
    return sig, doc


def refuse_unknown(cls: type, kwargs: dict[str, Any]) -> None:
    """TypeError naming every keyword ``cls.configure`` does not take (one line)."""
    sig = configure_signature(cls)
    params = list(sig.parameters.values())[1:]
    if any(p.kind is _VAR_KW for p in params):
        return
    names = [p.name for p in params]
    bad = [k for k in kwargs if k not in names]
    if bad:
        raise TypeError(f"{cls.__name__}.configure() takes no parameter "
                        f"{', '.join(short_repr(k) for k in bad)} "
                        f"(parameters: {', '.join(names) or 'none'})")


def install_configure(cls: type) -> None:
    """Give ``cls`` a ``configure`` with its ``_configure``'s signature and docstring
    that refuses unknown keywords, then calls the ``configure`` it inherits or defines."""
    impl = cls.__dict__.get("configure") or getattr(cls, "configure")
    impl = getattr(impl, "_configure_impl", impl)
    if not any(p.kind is _VAR_KW for p in inspect.signature(impl).parameters.values()):
        return                           # a configure written with real parameters: keep it
    try:
        sig, doc = _build(cls)
    except (TypeError, ValueError):       # a hook inspect cannot read: keep the inherited one
        return
    cls._configure_signature = sig  # type: ignore[attr-defined]

    def configure(self: Any, **kwargs: Any) -> None:
        refuse_unknown(type(self), kwargs)
        impl(self, **kwargs)

    configure.__signature__ = sig  # type: ignore[attr-defined]
    configure.__doc__ = doc
    configure.__qualname__ = f"{cls.__qualname__}.configure"
    configure.__module__ = cls.__module__
    configure._configure_impl = impl  # type: ignore[attr-defined]
    cls.configure = configure  # type: ignore[attr-defined]

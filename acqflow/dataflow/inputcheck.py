"""What an input accepts, declared in a node's ``_input_specs`` and checked in one place.

An input spec holds stream params an output must match (``streamtype``, ``dtype``,
``shape``, ``transfermode``: see :func:`acqflow.dataflow.spec.check_compatible`) and
these acceptance keys:

- ``streamtype``: a name, or a tuple of the names accepted;
- ``ndim``: number of dimensions of ``shape`` (time first), an int or a tuple of them;
- ``dtype_kinds``: numpy kinds accepted (e.g. ``"fiu"``); ``dtypes``: dtypes accepted;
- ``min_channels``: fewest channels (``shape[1]``).

``InputStream.connect`` and graph checks refuse a mismatch with a ValueError naming the
node, the input and the bad value.
"""
from __future__ import annotations

from typing import Any

from .errors import StreamError
from .paramcheck import non_negative_number
from .spec import check_compatible, make_dtype

__all__ = ["ACCEPT_KEYS", "stream_spec", "check_accepts", "check_input", "check_spin",
           "output_params"]

#: keys of an input spec that say what is accepted (not stream params themselves)
ACCEPT_KEYS = ("ndim", "dtype_kinds", "dtypes", "min_channels")


def stream_spec(spec: dict[str, Any]) -> dict[str, Any]:
    """The part of an input spec that is plain stream params (what InputStream keeps)."""
    return {k: v for k, v in spec.items()
            if k not in ACCEPT_KEYS and not (k == "streamtype" and isinstance(v, (tuple, list)))}


def check_accepts(params: dict[str, Any], spec: dict[str, Any], where: str) -> None:
    """Raise ValueError, starting with ``where``, if ``params`` break ``spec``'s acceptance
    keys; a param not known yet (absent) is not checked."""
    kinds = spec.get("streamtype")
    kind = params.get("streamtype")
    if isinstance(kinds, (tuple, list)) and "streamtype" in params and kind not in kinds:
        raise ValueError(f"{where}: streamtype {kind!r} is not accepted (needs {' or '.join(kinds)})")
    shape = params.get("shape")
    ndim = spec.get("ndim")
    if ndim is not None and "shape" in params:
        allowed = (ndim,) if isinstance(ndim, int) else tuple(ndim)
        if shape is None or len(shape) not in allowed:
            raise ValueError(f"{where}: shape {shape!r} is not accepted (needs a fixed "
                             f"{' or '.join(map(str, allowed))}-D shape, time first)")
    if "dtype" in params and ("dtype_kinds" in spec or "dtypes" in spec):
        dt = make_dtype(params["dtype"])
        if "dtype_kinds" in spec and dt.kind not in spec["dtype_kinds"]:
            raise ValueError(f"{where}: dtype {dt} is not accepted (needs a numeric dtype of kind "
                             f"{spec['dtype_kinds']!r})")
        if "dtypes" in spec and all(dt != make_dtype(d) for d in spec["dtypes"]):
            raise ValueError(f"{where}: dtype {dt} is not accepted (needs {' or '.join(spec['dtypes'])})")
    least = spec.get("min_channels")
    if least is not None and "shape" in params and (shape is None or len(shape) < 2 or shape[1] < least):
        raise ValueError(f"{where}: shape {shape!r} has fewer than {least} channel(s)")


def check_input(params: dict[str, Any], spec: dict[str, Any], output_name: str = "output",
                input_name: str = "input") -> None:
    """Every check of an input spec against an output's params (graph files use this)."""
    check_compatible(params, stream_spec(spec), output_name=output_name, input_name=input_name)
    check_accepts(params, spec, input_name)


def check_spin(ms: Any) -> float:
    """An input's ``spin`` (a finite number of ms >= 0), or a ValueError naming the bad value."""
    return non_negative_number("spin", ms, " ms") + 0.0        # -0.0 -> 0.0


def output_params(output: Any) -> dict[str, Any]:
    """A copy of the params of an OutputStream, of a proxy to one, or of a params dict (what
    ``InputStream.connect`` takes); StreamError when it has none configured."""
    if isinstance(output, dict):
        return dict(output)
    params = output.params
    if not isinstance(params, dict) and hasattr(params, "_get_value"):
        params = params._get_value()
    if not isinstance(params, dict) or "url" not in params:
        raise StreamError(f"cannot connect to {output!r}: it has no configured stream params")
    return dict(params)

"""The oscilloscopes' ``params``: a pyqtgraph Parameter tree whose changes take effect at once.

The names and values are pyacq's (``xsize``, ``mode``, ``scale_mode``, ``ylim_min``/``ylim_max``,
``decimation_method``, ``decimate``/``auto_decimate``, ``refresh_interval``, ...), so
``viewer.params['decimation_method'] = 'mean'`` works as in pyacq; ``by_channel_params``
holds ``ch{i}``: ``gain``, ``offset``, ``visible``.  A refused value is logged and the
tree set back (an exception in a Qt slot would abort the process under PyQt5).
"""
from __future__ import annotations

import logging
from typing import Any

from ..dataflow.paramcheck import one_of

import numpy as np
from pyqtgraph.parametertree import Parameter

__all__ = ["MODES", "DECIMATION_METHODS", "SCALE_MODES", "build_params", "sync_channels", "decimated_traces"]

log = logging.getLogger(__name__)

MODES = ("scroll", "scan")      # here, not in oscilloscope.py: the control bar needs them too
DECIMATION_METHODS = ("min_max", "pure_decimate", "mean")
SCALE_MODES = ("by_channel", "same_for_all", "real_scale")


def _global_children(osc: Any) -> list[dict]:
    children = [
        {"name": "xsize", "type": "float", "value": osc.xsize, "step": 0.1, "limits": [1e-3, 3600.]},
        {"name": "ylim_max", "type": "float", "value": 10.},
        {"name": "ylim_min", "type": "float", "value": -10.},
        {"name": "scale_mode", "type": "list", "value": osc.scale_mode, "limits": list(SCALE_MODES)},
        {"name": "background_color", "type": "color", "value": osc.background},
        {"name": "refresh_interval", "type": "int", "value": int(round(1000 / osc.refresh_rate)),
         "limits": [5, 1000]},
        {"name": "mode", "type": "list", "value": osc.mode, "limits": ["scan", "scroll"]},
        {"name": "auto_decimate", "type": "bool", "value": True},
        {"name": "decimate", "type": "int", "value": 1, "limits": [1, None]},
        {"name": "decimation_method", "type": "list", "value": osc.decimation_method,
         "limits": list(DECIMATION_METHODS)},
        {"name": "display_labels", "type": "bool", "value": True},
        {"name": "show_bottom_axis", "type": "bool", "value": True},
        {"name": "show_left_axis", "type": "bool", "value": True},
    ]
    if not getattr(osc, "scalable", True):          # lanes of bits: no scaling to choose
        children = [c for c in children if c["name"] != "scale_mode"]
    return children


def build_params(osc: Any) -> tuple[Parameter, Parameter]:
    """(params, by_channel_params) for an initialized Oscilloscope, wired to it."""
    params = Parameter.create(name="Global options", type="group", children=_global_children(osc))
    scalable = getattr(osc, "scalable", True)
    chans = [{"name": f"ch{i}", "type": "group", "children": ([
        {"name": "gain", "type": "float", "value": float(osc.gains[i]), "step": 0.1},
        {"name": "offset", "type": "float", "value": float(osc.offsets[i]), "step": 0.1}] if scalable else [])
        + [{"name": "visible", "type": "bool", "value": bool(osc.visible[i])}]}
        for i in range(len(osc.gains))]
    by_channel = Parameter.create(name="AnalogSignals", type="group", children=chans)

    def on_global(_p, changes) -> None:
        for param, change, value in changes:
            if change != "value":
                continue
            try:
                _apply(osc, param.name(), value)
            except (ValueError, TypeError) as exc:
                log.error("%s: params[%r] = %r refused: %s", osc.name, param.name(), value, exc)

    def on_channel(_p, changes) -> None:
        for param, change, value in changes:
            if change == "value":
                c = int(param.parent().name()[2:])
                osc.set_channel(c, **{param.name(): value})

    params.sigTreeStateChanged.connect(on_global)
    by_channel.sigTreeStateChanged.connect(on_channel)
    return params, by_channel


def _apply(osc: Any, name: str, value: Any) -> None:
    """Make one global parameter take effect."""
    item = osc.plot.getPlotItem()
    if name == "xsize":
        osc.set_xsize(value)
    elif name == "mode":
        osc.set_mode(value)
    elif name == "scale_mode":
        osc.set_scale_mode(value)
    elif name in ("ylim_min", "ylim_max"):
        osc.set_ylim(osc.params["ylim_min"], osc.params["ylim_max"])
    elif name == "background_color":
        osc.plot.setBackground(value)
    elif name == "refresh_interval":
        osc.set_refresh_rate(1000.0 / int(value))
    elif name in ("auto_decimate", "decimate"):
        osc.decimate = None if osc.params["auto_decimate"] else int(osc.params["decimate"])
        osc.env = None
    elif name == "decimation_method":
        one_of(*DECIMATION_METHODS)("decimation_method", value)
        osc.decimation_method = value
        osc._redraw()
    elif name in ("display_labels", "show_left_axis"):
        item.showAxis("left", bool(osc.params["show_left_axis"]))
        item.getAxis("left").setStyle(showValues=bool(osc.params["display_labels"]))
    elif name == "show_bottom_axis":
        item.showAxis("bottom", bool(value))


def sync_channels(osc: Any) -> None:
    """Show the gains/offsets/visibility in use in ``by_channel_params`` (no feedback)."""
    tree = getattr(osc, "by_channel_params", None)
    if tree is None:
        return
    tree.blockSignals(True)
    try:
        for i, group in enumerate(tree.children()):
            values = {"gain": float(osc.gains[i]), "offset": float(osc.offsets[i]),
                      "visible": bool(osc.visible[i])}
            for child in group.children():          # a viewer may keep other per-channel values
                if child.name() in values:
                    child.setValue(values[child.name()])
    finally:
        tree.blockSignals(False)


def decimated_traces(osc: Any) -> tuple[np.ndarray, np.ndarray] | None:
    """(x, y (points, lanes)) of the window by ``pure_decimate`` (every k-th sample) or ``mean``
    (of each bucket of k), read from the ring; None when nothing can be read."""
    env = osc.env
    k, sr, head = env.k, osc.sample_rate, env.next
    ring = osc.readers["signals"].ring
    start = max(head - env.window, ring.first_index())
    b0, b1 = -(-start // k), head // k
    if b1 <= b0:
        return None
    try:
        data = np.asarray(osc.transform(ring[b0 * k:b1 * k]), np.float32)
    except (IndexError, Exception):          # overwritten meanwhile: the next refresh draws
        return None
    if osc.decimation_method == "mean":
        y = data.reshape(b1 - b0, k, data.shape[1]).mean(axis=1)
    else:
        y = data[::k]
    idx = np.arange(b0, b1) * k
    if osc.mode == "scroll":
        return (idx - head) / sr, y
    x = (idx % env.window) / sr
    order = np.argsort(x, kind="stable")
    x, y = x[order], y[order]
    newest = int(np.flatnonzero(order == len(order) - 1)[0])
    if newest + 1 < len(y):
        y[newest + 1] = np.nan                  # break the trace at the cursor
    return x, y

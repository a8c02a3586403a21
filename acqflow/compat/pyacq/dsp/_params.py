"""A pyqtgraph ``Parameter`` tree as ``node.params``, as pyacq's nodes expose it.

A value the node refuses is logged and the tree set back to the value in use: an
exception raised in a Qt slot would abort the process under PyQt5.
"""
from __future__ import annotations

import logging
from typing import Callable

__all__ = ["make_params"]

log = logging.getLogger(__name__)


def make_params(name: str, children: list[dict], on_change: Callable[[dict], None]):
    """A group Parameter; ``on_change({name: value})`` runs for each changed value.

    ``on_change`` raises ValueError to refuse: the old values are restored.
    """
    from pyqtgraph.parametertree import Parameter
    params = Parameter.create(name=name, type="group", children=[dict(c) for c in children])
    current = {c["name"]: c["value"] for c in children}

    def changed(_param, changes) -> None:
        values = {p.name(): data for p, change, data in changes if change == "value"}
        if not values:
            return
        try:
            on_change(values)
        except ValueError as exc:
            log.error("%s: refused %s: %s", name, values, exc)
            params.blockSignals(True)
            try:
                for key in values:
                    params[key] = current[key]
            finally:
                params.blockSignals(False)
            return
        current.update(values)

    params.sigTreeStateChanged.connect(changed)
    return params

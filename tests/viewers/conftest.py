"""Viewer test helpers: offscreen Qt, waiting on the event loop, pixels, screenshots."""
import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SHOTS = os.path.join(ROOT, "test-output", "viewers")


@pytest.fixture(scope="session")
def qapp():
    from acqflow.viewers import get_app
    return get_app()


def shot(viewer_or_widget, name: str) -> np.ndarray:
    """Save test-output/viewers/<name>.png and return the RGBA pixels."""
    from acqflow.viewers import grab_array, save_png
    widget = getattr(viewer_or_widget, "widget", None) or viewer_or_widget
    save_png(widget, os.path.join(SHOTS, name + ".png"))
    return grab_array(widget)


def color_mask(img: np.ndarray, rgb, tol: int = 30) -> np.ndarray:
    """Pixels within ``tol`` of colour ``rgb`` (each channel)."""
    return np.all(np.abs(img[..., :3].astype(int) - np.asarray(rgb)[:3]) <= tol, axis=-1)


def to_pixel(viewbox, view_widget, top_widget, x: float, y: float) -> tuple[int, int]:
    """Image pixel (column, row) in a grab of ``top_widget`` of data point (x, y) of ``viewbox``
    (grabs are at the device pixel ratio, 1.04 on the offscreen platform)."""
    from pyqtgraph.Qt import QtCore
    p = view_widget.mapFromScene(viewbox.mapViewToScene(QtCore.QPointF(x, y)))
    if view_widget is not top_widget:
        p = view_widget.mapTo(top_widget, p)
    ratio = top_widget.devicePixelRatioF()
    return int(round(p.x() * ratio)), int(round(p.y() * ratio))


def close_all(*nodes):
    """Stop then close nodes (sources first is the caller's order)."""
    for n in nodes:
        if n.state == "running":
            n.stop()
    for n in reversed(nodes):
        n.close()

"""Progress bars (tqdm, imported lazily): shown on a terminal, silent otherwise."""
from __future__ import annotations

from typing import Any

__all__ = ["progress_bar"]


class _Silent:
    """Stand-in with tqdm's used surface when no bar is wanted (or tqdm is missing)."""
    n = 0

    def update(self, n: int = 1) -> None:
        self.n += n

    def close(self) -> None:
        pass

    def __enter__(self) -> "_Silent":
        return self

    def __exit__(self, *exc: Any) -> None:
        pass


def progress_bar(total: int | None, desc: str, unit: str = "B",
                 progress: bool | None = None) -> Any:
    """A tqdm bar: ``progress=None`` shows it only when stderr is a terminal,
    False never, True always.  Without tqdm installed, a silent counter."""
    if progress is False:
        return _Silent()
    try:
        from tqdm.auto import tqdm
    except ImportError:  # pragma: no cover - tqdm comes with the storage extra
        return _Silent()
    scale = unit == "B"
    return tqdm(total=total, desc=desc, unit=unit, unit_scale=scale,
                unit_divisor=1024 if scale else 1000, leave=False,
                disable=None if progress is None else False)

"""Future for asynchronous RPC calls (a concurrent.futures.Future)."""
from __future__ import annotations

import concurrent.futures
import threading
from typing import Any

__all__ = ["Future"]


class Future(concurrent.futures.Future):
    """Result of an ``_sync='async'`` call.

    In the thread that made the call, ``result()``/``exception()`` drive that
    thread's sockets (so requests to its local server keep being served) until
    the reply comes.  Other threads wait for the owner thread to receive it.
    ``timeout=None`` means the call's timeout (never forever).
    """

    def __init__(self, client: Any, req_id: int, action: str, timeout: float | None):
        super().__init__()
        self._client = client
        self.req_id = req_id
        self.action = action
        self.call_timeout = timeout
        self._owner = threading.get_ident()

    def _resolve(self, result: Any, error: BaseException | None) -> None:
        """Complete the future (ignored if it was cancelled or already done)."""
        if self.done():
            return
        try:
            if error is not None:
                self.set_exception(error)
            else:
                self.set_result(result)
        except concurrent.futures.InvalidStateError:
            pass                          # cancelled by another thread meanwhile

    def _drive(self, timeout: float | None) -> float | None:
        if timeout is None:
            timeout = self.call_timeout
        if not self.done() and threading.get_ident() == self._owner:
            self._client._wait_for(self, timeout)
        return timeout

    def result(self, timeout: float | None = None) -> Any:
        """The call's return value; raises its exception, or TimeoutError."""
        return super().result(self._drive(timeout))

    def exception(self, timeout: float | None = None) -> BaseException | None:
        """The call's exception (or None); raises TimeoutError."""
        return super().exception(self._drive(timeout))

    def cancel(self) -> bool:
        """Forget the reply (the remote call is not interrupted); False once it came.
        (The future stays pending until then, so that cancel() may apply.)"""
        if not super().cancel():
            return False
        self._client._futures.pop(self.req_id, None)
        return True

"""Skip markers for pyacq tests that need parts other branches bring."""
import pytest

from acqflow.dataflow import InputStream

#: pyacq's fake receivers poll ``InputStream.socket`` (pyacq's zmq socket): without it each
#: timer tick raises in a Qt slot, which PyQt5 turns into an abort of the process.
needs_socket = pytest.mark.skipif(not hasattr(InputStream(), "socket"),
                                  reason="InputStream.socket (pyacq's) comes with the streams branch")

"""Skip markers for pyacq tests that need parts other branches bring."""
import pytest

from pyacq.core.stream import InputStream

#: pyacq's fake receivers poll ``InputStream.socket`` (pyacq's zmq socket) and then recv():
#: without it each timer tick raises in a Qt slot, which PyQt5 turns into an abort of the
#: process.  (An acqflow stream also carries heartbeats: a socket that polls readable on one
#: would make the following recv() block the GUI thread.)
needs_socket = pytest.mark.skipif(
    not hasattr(InputStream(), "socket"),
    reason="pyacq.core.stream.InputStream.socket (pyacq's, polling readable on data only) "
           "is not provided yet (streams helper)")

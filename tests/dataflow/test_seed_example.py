"""The "A Simple Example" of pyacq's streams document, as written, with acqflow."""
import contextlib
import io
import os
import re

from acqflow.testing import wait_for

EXAMPLE = '''\
import numpy as np
import pyacq
import threading

data = np.array([[1,2], [3,4], [5,6]])

# Create and configure the output stream (sender)
out = pyacq.OutputStream()
out.configure(dtype=data.dtype)

# Create the input stream (receiver) and connect it to
# the output stream
inp = pyacq.InputStream()
inp.connect(out)

# Start a background thread that just receives and prints
# data from the input stream
def receiver():
    global inp
    while True:
        d = inp.recv()
        print("Received: %s" % repr(d))

thread = threading.Thread(target=receiver, daemon=True)
thread.start()

# Send data through the stream
out.send(data)
'''

SEED = os.path.join(os.path.dirname(__file__), "..", "..", "..", "shared", "seeds", "pyacq-streams.rst")


def test_example_text_is_the_seed_text():
    if not os.path.exists(SEED):
        return   # the seed lives beside the repository, not in it
    text = open(SEED).read()
    block = text.split("we pass an array from one thread to another::")[1].split("If we run")[0]
    lines = [line[4:] if line.strip() else "" for line in block.splitlines()]
    seed_code = re.sub(r"\n{2,}", "\n\n", "\n".join(lines)).strip()
    assert seed_code == re.sub(r"\n{2,}", "\n\n", EXAMPLE).strip()


def test_simple_example_runs_as_written():
    out = io.StringIO()
    namespace = {"__name__": "example"}
    with contextlib.redirect_stdout(out):
        exec(compile(EXAMPLE.replace("pyacq", "acqflow"), "example", "exec"), namespace)
        wait_for(lambda: "Received" in out.getvalue(), timeout=10)
        # the example keeps sending as long as we like
        namespace["out"].send(namespace["data"])
        wait_for(lambda: out.getvalue().count("Received") == 2, timeout=10)
    text = out.getvalue()
    assert text.startswith("Received: (3, array([[1, 2],\n       [3, 4],\n       [5, 6]]))")
    assert "Received: (6, array([[1, 2]" in text
    # The example's thread loops forever on recv(); closing the output would end it
    # with StreamClosed, so the stream is left to the end of the test process.

"""``pyacq.core.tests``: pyacq's test node types (``fakenodes``), kept as pyacq ships them so
pyacq's tests and node groups can import ``pyacq.core.tests.fakenodes``."""

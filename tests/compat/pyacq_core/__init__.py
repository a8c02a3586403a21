"""pyacq's own core tests (pyacq/core/tests), adapted only by import mapping and install().

Each file says which pyacq file it comes from and what was mapped.  ``fakenodes`` is
registered in node groups as ``tests.compat.pyacq_core.fakenodes`` (pyacq:
``pyacq.core.tests.fakenodes``).
"""

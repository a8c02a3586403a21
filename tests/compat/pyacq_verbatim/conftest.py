"""pyacq's own test files, copied unchanged (each names its pyacq commit in its first line).

They run on acqflow with nothing but ``acqflow.compat.pyacq.install()`` (tests/compat/conftest.py)
and ``pyacq.core.tests.fakenodes`` (shipped in the compat package, as pyacq ships it).  The
tests that must stay skipped are listed here with the reason, and skipped by this hook, not by
editing the files.
"""
import pytest

#: test node id suffix -> why it is skipped on acqflow
SKIPPED = {
    "dsp/tests/test_sosfilter.py::test_openclsosfilter":
        "OpenCL engine: acqflow's SosFilter has no OpenCL engine (pyopencl is not a dependency; "
        "pyacq skips it too without pyopencl)",
    "dsp/tests/test_overlapfiltfilt.py::test_openclsosfilter":
        "OpenCL engine: acqflow's OverlapFiltfilt has no OpenCL engine (pyopencl is not a "
        "dependency; pyacq skips it too without pyopencl)",
}


def pytest_collection_modifyitems(config, items):
    for item in items:
        for suffix, why in SKIPPED.items():
            if item.nodeid.endswith(suffix):
                item.add_marker(pytest.mark.skip(reason=why))

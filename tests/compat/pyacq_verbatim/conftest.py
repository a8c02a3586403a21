"""pyacq's own test files, copied unchanged (each names its pyacq commit in its first line).

They run on acqflow with nothing but ``acqflow.compat.pyacq.install()`` (tests/compat/conftest.py),
``pyacq.core.tests.fakenodes`` (shipped in the compat package, as pyacq ships it) and, for the
processes acqflow does not start (pyqtgraph.multiprocess children), the ``.pth`` line of
``acqflow compat install-pyacq`` in a temporary site directory that every child process
adds (a ``sitecustomize`` on PYTHONPATH): the real environment is left as it is.  The tests
that must stay skipped, and the ones expected to fail, are listed here with the reason and
marked by this hook, not by editing the files.
"""
import os

import pytest

from acqflow.compat.pth import install_pth

#: test node id suffix -> why it is skipped on acqflow
SKIPPED = {
    "dsp/tests/test_sosfilter.py::test_openclsosfilter":
        "OpenCL engine: acqflow's SosFilter has no OpenCL engine (pyopencl is not a dependency; "
        "pyacq skips it too without pyopencl)",
    "dsp/tests/test_overlapfiltfilt.py::test_openclsosfilter":
        "OpenCL engine: acqflow's OverlapFiltfilt has no OpenCL engine (pyopencl is not a "
        "dependency; pyacq skips it too without pyopencl)",
}


#: test node id suffix -> the difference kept on purpose that makes it fail (strict xfail: a
#: pass is reported, so the list stays true); docs/pyacq.md explains each
EXPECTED_FAILURES = {
    "core/rpc/tests/test_rpc.py::test_rpc":
        "asserts arr_prox.shape._get_value() == [10]: acqflow returns tuples as tuples, (10,)",
    "core/tests/test_tools.py::test_streamconverter":
        "configures the relay's output with pyacq 0.1's transfermode='sharedarray': the relay "
        "nodes are acqflow's own classes, their outputs take acqflow's arguments",
}
SKIPPED["core/tests/test_tools.py::test_stream_splitter"] = (
    "asserts ChannelSplitter chunks are not C-contiguous (pyacq's channel-major views): "
    "acqflow's streams are time first and contiguous (a skip, not an xfail: the assertion "
    "runs in a Qt slot, reported at teardown)")


def pytest_collection_modifyitems(config, items):
    for item in items:
        for suffix, why in SKIPPED.items():
            if item.nodeid.endswith(suffix):
                item.add_marker(pytest.mark.skip(reason=why))
        for suffix, why in EXPECTED_FAILURES.items():
            if item.nodeid.endswith(suffix):
                item.add_marker(pytest.mark.xfail(reason=why, strict=True))


@pytest.fixture(autouse=True)
def in_a_temporary_directory(tmp_path, monkeypatch):
    """pyacq's tests write into the current directory (``./test_rec``): run each in its own."""
    monkeypatch.chdir(tmp_path)


@pytest.fixture(scope="package", autouse=True)
def pyacq_pth_for_other_processes(tmp_path_factory):
    """``acqflow compat install-pyacq --site TMP`` for the child processes of these tests
    (undone after them: tests elsewhere see the environment as it is)."""
    root = tmp_path_factory.mktemp("pyacq-site")
    site, path_dir = root / "site", root / "path"
    site.mkdir()
    path_dir.mkdir()
    install_pth(str(site))
    (path_dir / "sitecustomize.py").write_text(f"import site\nsite.addsitedir({str(site)!r})\n")
    previous = os.environ.get("PYTHONPATH")
    os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(path_dir), previous]))
    yield site
    if previous is None:
        os.environ.pop("PYTHONPATH", None)
    else:
        os.environ["PYTHONPATH"] = previous

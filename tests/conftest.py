"""Suite-wide set-up: offscreen Qt, hypothesis profiles, a check that no shared memory leaks,
a private recording cache and config for every test, and one S3 server (moto) per session."""
import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest  # noqa: E402
from hypothesis import settings  # noqa: E402

# Hypothesis profiles (docs/testing.md): `ci` runs every test's own max_examples (written as
# `max_examples=examples(N)`, acqflow.testing.examples) and 200 where a test sets none; `dev`, the
# quick inner loop, at most 10.  CI=true loads `ci`, anything else `dev`; --hypothesis-profile
# NAME or HYPOTHESIS_PROFILE=NAME choose.  No deadlines: speed is measured by `acqflow bench`.
settings.register_profile("ci", max_examples=200, deadline=None, print_blob=True)
settings.register_profile("dev", max_examples=10, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE")
                      or ("ci" if os.environ.get("CI", "").lower() in ("true", "1") else "dev"))

SHM_DIR = "/dev/shm"
_PREFIX = "acqflow_"


def _segments() -> set[str]:
    try:
        return {n for n in os.listdir(SHM_DIR) if n.startswith(_PREFIX)}
    except FileNotFoundError:
        return set()


def pytest_sessionstart(session):
    session.config._acqflow_shm_before = _segments()


def pytest_sessionfinish(session, exitstatus):
    """Fail the run when a segment created during it is still in /dev/shm (under pytest-xdist,
    each worker checks its own and the controller fails the run: pytest_testnodedown)."""
    import gc
    gc.collect()
    leaked = _segments() - session.config._acqflow_shm_before
    mine = sorted(n for n in leaked if n.split("_")[1] == str(os.getpid()))
    if hasattr(session.config, "workeroutput"):          # an xdist worker: tell the controller
        session.config.workeroutput["acqflow_leaked"] = mine
    mine += getattr(session.config, "_acqflow_worker_leaks", [])
    if mine:
        session.config._acqflow_leaked = mine
        print(f"\nLEAKED shared memory segments: {mine}")
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node, error):
    """(xdist controller) Collect the segments a worker leaked, for pytest_sessionfinish."""
    leaks = getattr(node.config, "_acqflow_worker_leaks", [])
    leaks += getattr(node, "workeroutput", {}).get("acqflow_leaked", [])
    node.config._acqflow_worker_leaks = leaks


def pytest_collection_modifyitems(config, items):
    """Mark the tests tests/markers.py lists as slow."""
    from tests.markers import is_slow
    here = os.path.dirname(os.path.abspath(__file__))
    for item in items:
        rel = os.path.relpath(str(item.path), here).replace(os.sep, "/")
        if is_slow(rel, getattr(item, "originalname", None) or item.name.split("[")[0]):
            item.add_marker(pytest.mark.slow)


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config, log):
    """--dist loadgroup with the groups of tests/markers.py, read from each test's id by the
    controller: pytest-xdist's own loadgroup renames node ids in a way pytest 9 ignores (every
    xdist_group mark is then silently without effect)."""
    if config.getvalue("dist") != "loadgroup":
        return None
    from xdist.scheduler import LoadGroupScheduling

    from tests.markers import group_of_nodeid

    class MarkersGroupScheduling(LoadGroupScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return group_of_nodeid(nodeid) or super()._split_scope(nodeid)

    return MarkersGroupScheduling(config, log)


S3_BUCKET = "acqflow-test"


@pytest.fixture(scope="session")
def s3():
    """(storage_options, s3fs filesystem) of a moto S3 server holding S3_BUCKET."""
    s3fs = pytest.importorskip("s3fs")
    moto_server = pytest.importorskip("moto.server")
    server = moto_server.ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    options = {"key": "testing", "secret": "testing", "use_listings_cache": False,
               "client_kwargs": {"endpoint_url": f"http://{host}:{port}",
                                 "region_name": "us-west-2"}}
    fs = s3fs.S3FileSystem(**options)
    if not fs.exists(S3_BUCKET):    # moto's state is per process: another server may have made it
        fs.mkdir(S3_BUCKET)
    yield options, fs
    server.stop()


@pytest.fixture
def short_tmp_path():
    """A temporary directory with a short path, for TMPDIR of processes that make ipc sockets
    there: a socket path holds at most 107 bytes, and tmp_path is long (longer still under
    pytest-xdist, .../popen-gw0/...)."""
    import shutil
    import tempfile
    from pathlib import Path
    path = tempfile.mkdtemp(prefix="af-")
    yield Path(path)
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(autouse=True)
def _private_cache_env(tmp_path_factory, monkeypatch):
    """Tests, and the processes they start, never touch the user's cache or config."""
    base = tmp_path_factory.mktemp("acqflow-cache-env")
    monkeypatch.setenv("ACQFLOW_CACHE_DIR", str(base / "cache"))
    monkeypatch.setenv("ACQFLOW_CONFIG", str(base / "no-config.json"))
    monkeypatch.delenv("ACQFLOW_CACHE_SIZE_BYTES", raising=False)

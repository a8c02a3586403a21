"""Suite-wide set-up: offscreen Qt, a check that no shared memory leaks, a private
recording cache and config for every test, and one S3 server (moto) per session."""
import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest  # noqa: E402

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
    """Fail the run when a segment created during it is still in /dev/shm."""
    import gc
    gc.collect()
    leaked = _segments() - session.config._acqflow_shm_before
    mine = {n for n in leaked if n.split("_")[1] == str(os.getpid())}
    if mine:
        session.config._acqflow_leaked = sorted(mine)
        print(f"\nLEAKED shared memory segments: {sorted(mine)}")
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


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


@pytest.fixture(autouse=True)
def _private_cache_env(tmp_path_factory, monkeypatch):
    """Tests, and the processes they start, never touch the user's cache or config."""
    base = tmp_path_factory.mktemp("acqflow-cache-env")
    monkeypatch.setenv("ACQFLOW_CACHE_DIR", str(base / "cache"))
    monkeypatch.setenv("ACQFLOW_CONFIG", str(base / "no-config.json"))
    monkeypatch.delenv("ACQFLOW_CACHE_SIZE_BYTES", raising=False)

"""Storage tests never touch the user's cache or config (both point into tmp dirs);
one real S3 server (moto, 127.0.0.1) for the whole session."""
import pytest

BUCKET = "acqflow-test"


@pytest.fixture(scope="session")
def s3():
    """(storage_options, s3fs filesystem) of a moto S3 server holding BUCKET."""
    s3fs = pytest.importorskip("s3fs")
    moto_server = pytest.importorskip("moto.server")
    server = moto_server.ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    options = {"key": "testing", "secret": "testing", "use_listings_cache": False,
               "client_kwargs": {"endpoint_url": f"http://{host}:{port}",
                                 "region_name": "us-west-2"}}
    fs = s3fs.S3FileSystem(**options)
    if not fs.exists(BUCKET):    # moto's state is per process: another server may have made it
        fs.mkdir(BUCKET)
    yield options, fs
    server.stop()


@pytest.fixture(autouse=True)
def _private_cache_env(tmp_path_factory, monkeypatch):
    base = tmp_path_factory.mktemp("acqflow-cache-env")
    monkeypatch.setenv("ACQFLOW_CACHE_DIR", str(base / "cache"))
    monkeypatch.setenv("ACQFLOW_CONFIG", str(base / "no-config.json"))
    monkeypatch.delenv("ACQFLOW_CACHE_SIZE_BYTES", raising=False)

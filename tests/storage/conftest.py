"""Storage tests never touch the user's cache or config (both point into tmp dirs);
the real S3 server (moto, 127.0.0.1) is the session fixture of tests/conftest.py."""
import pytest

from tests.conftest import S3_BUCKET as BUCKET  # noqa: F401  (the s3 fixture is in tests/conftest.py)


@pytest.fixture(autouse=True)
def _private_cache_env(tmp_path_factory, monkeypatch):
    base = tmp_path_factory.mktemp("acqflow-cache-env")
    monkeypatch.setenv("ACQFLOW_CACHE_DIR", str(base / "cache"))
    monkeypatch.setenv("ACQFLOW_CONFIG", str(base / "no-config.json"))
    monkeypatch.delenv("ACQFLOW_CACHE_SIZE_BYTES", raising=False)

"""LocalCache: config resolution (env > JSON file > defaults), LRU by bytes, stats,
clear, corrupted entries, and two real processes sharing one cache directory."""
import json
import subprocess
import sys
from pathlib import Path

import pytest

from acqflow.storage.cache import LocalCache, default_cache
from acqflow.storage.cacheconfig import (DEFAULT_SIZE_BYTES, CacheConfigError,
                                         default_cache_dir, load_cache_config, parse_size)
from tests.storage.cache_proc import content

ROOT = Path(__file__).resolve().parents[2]


def entries_on_disk(d: Path) -> int:
    return sum(p.stat().st_size for p in d.iterdir() if not p.name.startswith("."))


def test_config_defaults_file_and_env_precedence(tmp_path):
    cfg = load_cache_config(env={}, config_path=tmp_path / "missing.json")
    assert cfg.cache_dir == default_cache_dir() and cfg.size_bytes == DEFAULT_SIZE_BYTES
    assert DEFAULT_SIZE_BYTES == 34359738368 and cfg.source == "defaults"
    f = tmp_path / "cache.json"
    f.write_text(json.dumps({"cache_dir": str(tmp_path / "from-file"), "cache_size_bytes": "1G"}))
    cfg = load_cache_config(env={"ACQFLOW_CONFIG": str(f)})
    assert cfg.cache_dir == tmp_path / "from-file" and cfg.size_bytes == 1 << 30
    env = {"ACQFLOW_CONFIG": str(f), "ACQFLOW_CACHE_DIR": str(tmp_path / "env"),
           "ACQFLOW_CACHE_SIZE_BYTES": "12345"}
    cfg = load_cache_config(env=env)           # env wins over the file
    assert cfg.cache_dir == tmp_path / "env" and cfg.size_bytes == 12345
    assert "ACQFLOW_CACHE_SIZE_BYTES" in cfg.source
    cfg = load_cache_config(env={**env, "ACQFLOW_CACHE_SIZE_BYTES": "-1"})
    assert not cfg.enabled and default_cache(cfg) is None


@pytest.mark.parametrize("value", ["lots", "1.5G", "-2", "12 apples"])
def test_bad_env_value_names_variable_and_value(value, tmp_path):
    with pytest.raises(CacheConfigError) as err:
        load_cache_config(env={"ACQFLOW_CACHE_SIZE_BYTES": value},
                          config_path=tmp_path / "none.json")
    assert "ACQFLOW_CACHE_SIZE_BYTES" in str(err.value) and repr(value) in str(err.value)


@pytest.mark.parametrize("text, words", [
    ('{"cache_size_bytes": "huge"}', ["cache_size_bytes", "'huge'"]),
    ('{"cache_dir": 3}', ["cache_dir", "3"]),
    ('{"cache_sise_bytes": 10}', ["unknown", "cache_sise_bytes"]),
    ("{not json", ["not valid JSON"]),
    ("[1, 2]", ["JSON object"]),
])
def test_bad_config_file_names_key_and_value(text, words, tmp_path):
    f = tmp_path / "cache.json"
    f.write_text(text)
    with pytest.raises(CacheConfigError) as err:
        load_cache_config(env={"ACQFLOW_CONFIG": str(f)})
    assert str(f) in str(err.value)
    for w in words:
        assert w in str(err.value)


def test_parse_size_units():
    assert parse_size("32G", "x") == 32 << 30 and parse_size("512MB", "x") == 512 << 20
    assert parse_size(" 7 ", "x") == 7 and parse_size(-1, "x") == -1
    with pytest.raises(CacheConfigError):
        parse_size(True, "x")


def test_localcache_uses_config_and_refuses_disabled(tmp_path, monkeypatch):
    monkeypatch.setenv("ACQFLOW_CACHE_DIR", str(tmp_path / "c"))
    monkeypatch.setenv("ACQFLOW_CACHE_SIZE_BYTES", "5M")
    c = LocalCache()
    assert c.cache_dir == tmp_path / "c" and c.max_bytes == 5 << 20
    assert default_cache() is default_cache()           # one per (dir, size) per process
    monkeypatch.setenv("ACQFLOW_CACHE_SIZE_BYTES", "-1")
    with pytest.raises(CacheConfigError, match="disabled"):
        LocalCache()
    assert default_cache() is None


def test_lru_by_bytes_stats_and_clear(tmp_path):
    c = LocalCache(tmp_path, max_bytes=10_000)
    for k in range(4):
        c.put(f"k{k}", bytes([k]) * 2000)
    st = c.stats()
    assert st["entries"] == 4 and st["current_size"] == 4 * 2020
    assert st["load_factor"] == pytest.approx(4 * 2020 / 10_000)
    assert c.get("k0") == bytes([0]) * 2000           # k0 is now the most recent
    c.put("k4", b"x" * 3000)                            # over the cap: evict to 90 %
    assert "k1" not in c and "k2" not in c and "k0" in c and "k4" in c
    st = c.stats()
    assert st["current_size"] <= 9000 and st["evictions"] == 2
    assert st["current_size"] == entries_on_disk(tmp_path)
    (tmp_path / "not-mine.txt").write_text("keep")    # foreign files are never touched
    c.clear()
    assert c.stats()["entries"] == 0 and c.stats()["current_size"] == 0
    assert entries_on_disk(tmp_path) == 4 and c.get("k0") is None


def test_corrupted_entry_is_never_returned(tmp_path):
    c = LocalCache(tmp_path, max_bytes=1 << 20)
    c.put("a", b"A" * 500)
    path = tmp_path / c._name("a")
    raw = bytearray(path.read_bytes())
    raw[-1] ^= 0xFF
    path.write_bytes(bytes(raw))
    assert c.get("a") is None and c.corrupt == 1 and not path.exists()
    assert c.stats()["entries"] == 0
    c.put("b", b"B" * 100)
    path = tmp_path / c._name("b")
    path.write_bytes(path.read_bytes()[:10])           # torn
    assert c.get("b") is None and c.corrupt == 2


def test_size_recounted_when_another_instance_evicts(tmp_path):
    a = LocalCache(tmp_path, max_bytes=50_000)
    b = LocalCache(tmp_path, max_bytes=50_000)        # own flock: like another process
    for k in range(10):
        a.put(f"a{k}", b"a" * 4000)
    for k in range(10):
        b.put(f"b{k}", b"b" * 4000)
    assert a.get("b9") == b"b" * 4000 and b.get("a0") is None   # a's oldest evicted by b
    assert a.stats()["current_size"] == b.stats()["current_size"] == entries_on_disk(tmp_path)
    assert entries_on_disk(tmp_path) <= 50_000


def test_two_processes_share_one_cache(tmp_path):
    cap = 150_000                                       # ~60 keys x ~12 kB: constant eviction
    cmd = [sys.executable, "-m", "tests.storage.cache_proc", str(tmp_path), str(cap)]
    procs = [subprocess.Popen(cmd + [str(seed), "3000"], cwd=ROOT, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for seed in (1, 2)]
    results = []
    for p in procs:
        out, err = p.communicate(timeout=120)
        assert p.returncode == 0, err
        results.append(json.loads(out))
    for r in results:
        assert r["bad"] == 0 and r["corrupt"] == 0
        assert r["hits"] > 0 and r["evictions"] > 0
    c = LocalCache(tmp_path, max_bytes=cap)
    assert entries_on_disk(tmp_path) <= cap
    assert c.stats()["current_size"] == entries_on_disk(tmp_path)
    for k in range(60):
        data = c.get(f"k{k}")
        assert data is None or data == content(f"k{k}")
    assert c.corrupt == 0
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".tmp-")]

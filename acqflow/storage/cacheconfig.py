"""Where the local cache lives and how big it may grow: defaults, JSON file, environment.

Resolution order (FiftyOne media-cache style): built-in defaults, then the JSON
config file (``$ACQFLOW_CONFIG``, else ``~/.config/acqflow/cache.json``), then the
environment variables ``ACQFLOW_CACHE_DIR`` / ``ACQFLOW_CACHE_SIZE_BYTES``, which
win.  A size of ``-1`` disables the cache.  Bad values raise :class:`CacheConfigError`
naming the variable or key and the value.
"""
from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

from acqflow.dataflow.paramcheck import must_be

from .errors import StorageError

__all__ = ["CacheConfig", "CacheConfigError", "load_cache_config", "parse_size",
           "DEFAULT_SIZE_BYTES", "default_config_path", "default_cache_dir"]

DEFAULT_SIZE_BYTES = 32 << 30          # 32 GiB (34359738368), as FiftyOne's media cache
ENV_DIR = "ACQFLOW_CACHE_DIR"
ENV_SIZE = "ACQFLOW_CACHE_SIZE_BYTES"
ENV_CONFIG = "ACQFLOW_CONFIG"
_KEYS = {"cache_dir", "cache_size_bytes"}
_UNITS = {"": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40}


class CacheConfigError(StorageError, ValueError):
    """A cache setting (environment variable or config-file key) has a bad value."""


@dataclass(frozen=True)
class CacheConfig:
    """Resolved cache settings; ``size_bytes == -1`` means the cache is disabled."""
    cache_dir: Path
    size_bytes: int
    source: str = "defaults"            # where the values came from (for stats/messages)

    @property
    def enabled(self) -> bool:
        """False when the size is -1."""
        return self.size_bytes != -1


def default_cache_dir() -> Path:
    """``~/.cache/acqflow`` (``$XDG_CACHE_HOME/acqflow`` when that is set)."""
    base = os.environ.get("XDG_CACHE_HOME")
    return (Path(base) if base else Path.home() / ".cache") / "acqflow"


def default_config_path(env: Mapping[str, str] | None = None) -> Path:
    """``$ACQFLOW_CONFIG`` or ``~/.config/acqflow/cache.json``."""
    env = os.environ if env is None else env
    if env.get(ENV_CONFIG):
        return Path(env[ENV_CONFIG]).expanduser()
    return Path.home() / ".config" / "acqflow" / "cache.json"


def parse_size(value: Any, name: str) -> int:
    """Bytes from an int or a string like ``"34359738368"``, ``"32G"``, ``"512MB"``, ``-1``.

    Suffixes K/M/G/T are powers of 1024.  ``name`` (the variable or key) is put in
    the error message.
    """
    if isinstance(value, bool):
        must_be(name, "a number of bytes (-1 disables the cache)", value, CacheConfigError)
    if isinstance(value, int):
        n = value
    elif isinstance(value, float) and value.is_integer():
        n = int(value)
    elif isinstance(value, str):
        m = re.fullmatch(r"\s*(-?\d+)\s*([kmgtKMGT]?)(?:i?[bB])?\s*", value)
        if not m:
            must_be(name, "a number of bytes such as 34359738368 or 32G (-1 disables the cache)", value,
                    CacheConfigError)
        n = int(m.group(1)) * _UNITS[m.group(2).lower()]
    else:
        must_be(name, "a number of bytes (-1 disables the cache)", value, CacheConfigError)
    if n < -1:
        must_be(name, ">= 0, or -1 to disable the cache", value, CacheConfigError)
    return n


def _read_file(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text()
    except FileNotFoundError:
        return {}
    except OSError as exc:
        raise CacheConfigError(f"cannot read cache config file {path}: {exc}") from None
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise CacheConfigError(f"cache config file {path} is not valid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise CacheConfigError(f"cache config file {path} must hold a JSON object, "
                               f"got {type(data).__name__}")
    unknown = set(data) - _KEYS
    if unknown:
        raise CacheConfigError(f"cache config file {path}: unknown key(s) "
                               f"{', '.join(sorted(unknown))} (known: {', '.join(sorted(_KEYS))})")
    return data


def load_cache_config(env: Mapping[str, str] | None = None,
                      config_path: str | os.PathLike | None = None) -> CacheConfig:
    """Resolve the cache settings: defaults < JSON file < environment."""
    env = os.environ if env is None else env
    path = Path(config_path) if config_path is not None else default_config_path(env)
    data = _read_file(path)
    cache_dir, size, sources = default_cache_dir(), DEFAULT_SIZE_BYTES, []
    if "cache_dir" in data:
        if not isinstance(data["cache_dir"], str) or not data["cache_dir"]:
            must_be(f"cache config file {path}: key 'cache_dir'", "a non-empty string", data["cache_dir"],
                    CacheConfigError)
        cache_dir = Path(data["cache_dir"]).expanduser()
        sources.append(str(path))
    if "cache_size_bytes" in data:
        size = parse_size(data["cache_size_bytes"], f"{path}: key 'cache_size_bytes'")
        sources.append(str(path))
    if env.get(ENV_DIR):
        cache_dir = Path(env[ENV_DIR]).expanduser()
        sources.append(ENV_DIR)
    if env.get(ENV_SIZE, "").strip():
        size = parse_size(env[ENV_SIZE], ENV_SIZE)
        sources.append(ENV_SIZE)
    return CacheConfig(cache_dir, size, ", ".join(dict.fromkeys(sources)) or "defaults")

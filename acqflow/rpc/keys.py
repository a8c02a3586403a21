"""CurveZMQ key files: ``acqflow keys DIR`` and helpers to load them.

Layout of a keys directory (copy it to every host of a deployment)::

    DIR/server.key, DIR/server.key_secret     the servers' key pair
    DIR/<client>.key, DIR/<client>.key_secret a client (manager) key pair
    DIR/authorized/<client>.key               public keys allowed to connect
"""
from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import zmq
import zmq.auth

__all__ = ["KeyPair", "generate", "load_server_keys", "load_client_keys", "authorized_dir",
           "set_default_client_keys", "default_client_keys", "set_client_keys_for",
           "client_keys_for"]

ENV_KEYS = "ACQFLOW_KEYS"


@dataclass(frozen=True)
class KeyPair:
    """A Curve key pair, both halves z85-encoded bytes (secret may be None)."""
    public: bytes
    secret: bytes | None


def authorized_dir(keys_dir: str | os.PathLike) -> Path:
    """Directory holding the public keys of authorised clients."""
    return Path(keys_dir) / "authorized"


def _create_pair(keys_dir: Path, name: str) -> None:
    public, secret = zmq.auth.create_certificates(str(keys_dir), name)
    os.chmod(secret, 0o600)


def generate(keys_dir: str | os.PathLike, client: str = "client", force: bool = False) -> Path:
    """Create the server pair (if missing) and an authorised client pair named ``client``."""
    if not zmq.has("curve"):
        raise RuntimeError("this libzmq has no CURVE support")
    d = Path(keys_dir)
    d.mkdir(parents=True, exist_ok=True)
    os.chmod(d, 0o700)
    if force or not (d / "server.key_secret").exists():
        _create_pair(d, "server")
    if client == "server" or "/" in client:
        raise ValueError(f"bad client key name {client!r}")
    if force or not (d / f"{client}.key_secret").exists():
        _create_pair(d, client)
    auth = authorized_dir(d)
    auth.mkdir(exist_ok=True)
    shutil.copyfile(d / f"{client}.key", auth / f"{client}.key")
    return d


def _load(path: Path) -> KeyPair:
    if not path.exists():
        raise FileNotFoundError(f"no Curve key file {path} (create keys with `acqflow keys DIR`)")
    public, secret = zmq.auth.load_certificate(str(path))
    return KeyPair(public, secret)


def load_server_keys(keys_dir: str | os.PathLike) -> KeyPair:
    """The server key pair of a keys directory."""
    return _load(Path(keys_dir) / "server.key_secret")


def server_public_key(keys_dir: str | os.PathLike) -> bytes:
    """The server public key of a keys directory (all a client needs of the server)."""
    return _load(Path(keys_dir) / "server.key").public


def load_client_keys(keys_dir: str | os.PathLike, name: str = "client") -> KeyPair:
    """A client key pair of a keys directory."""
    return _load(Path(keys_dir) / f"{name}.key_secret")


_default: KeyPair | None = None


def set_default_client_keys(keys: KeyPair | str | os.PathLike | None, name: str = "client") -> None:
    """Client keys used when a proxy or address names a Curve server (a pair or a keys dir)."""
    global _default
    _default = keys if isinstance(keys, KeyPair) or keys is None else load_client_keys(keys, name)


_by_server: dict[bytes, KeyPair] = {}


def _key_bytes(server_key: str | bytes) -> bytes:
    return server_key.encode("ascii") if isinstance(server_key, str) else bytes(server_key)


def set_client_keys_for(server_key: str | bytes, keys: KeyPair) -> None:
    """Client keys to use with the Curve server ``server_key`` (and the processes it
    spawns), so one process can talk to several hosts with different key directories."""
    _by_server[_key_bytes(server_key)] = keys


def client_keys_for(server_key: str | bytes) -> KeyPair | None:
    """The keys registered for ``server_key``, else the default client keys."""
    return _by_server.get(_key_bytes(server_key)) or default_client_keys()


def default_client_keys() -> KeyPair | None:
    """The default client keys: set_default_client_keys(), else $ACQFLOW_KEYS/client.*."""
    if _default is None and os.environ.get(ENV_KEYS):
        set_default_client_keys(os.environ[ENV_KEYS])
    return _default

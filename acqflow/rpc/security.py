"""Socket security: loopback-only unless CurveZMQ, Curve set-up, logged refusals."""
from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

import zmq
from zmq.auth.thread import ThreadAuthenticator

from ..dataflow.private import is_loopback
from .keys import KeyPair, authorized_dir, client_keys_for, load_server_keys

__all__ = ["is_loopback", "check_bind", "secure_server", "secure_client"]

logger = logging.getLogger(__name__)


_warned_open = False


def check_bind(address: str, secure: bool) -> None:
    """Refuse to bind a non-loopback address without Curve keys; warn (once per process)
    about a loopback tcp one, which every local user can connect to."""
    global _warned_open
    if not secure and not is_loopback(address):
        raise PermissionError(f"refusing to bind {address} without CurveZMQ keys: only loopback "
                              "addresses may be unencrypted (pass keys_dir=, see `acqflow keys`)")
    if not secure and address.startswith("tcp://") and not _warned_open:
        _warned_open = True
        logger.warning("RPC server on %s without CurveZMQ keys: every local user can run code in "
                       "this process through it (omit the address for a private ipc socket)", address)


class _Authenticator(ThreadAuthenticator):
    """ZAP handler that re-reads the authorised keys and logs every refusal."""

    def __init__(self, context: zmq.Context, keys_dir: Path):
        super().__init__(context, log=logger.getChild("zap"))
        self.keys_dir = keys_dir
        self._peer = ""

    async def handle_zap_message(self, msg: list[bytes]) -> None:
        self._peer = msg[3].decode("utf-8", "replace") if len(msg) > 3 else "?"
        await super().handle_zap_message(msg)

    def _allowed_keys(self) -> set[bytes]:
        found = {load_server_keys(self.keys_dir).public}   # the host's own processes
        for path in sorted(authorized_dir(self.keys_dir).glob("*.key")):
            try:
                public, _ = zmq.auth.load_certificate(str(path))
                found.add(public)
            except Exception as exc:  # a bad file must not open the door
                logger.warning("ignoring unreadable key file %s: %s", path, exc)
        return found

    def callback(self, domain: str, client_key: bytes) -> bool:
        """Credentials provider: is this z85 public key authorised?"""
        if client_key in self._allowed_keys():
            return True
        logger.warning("refused CURVE client key %s from %s: not in %s",
                       client_key.decode("ascii", "replace"), self._peer,
                       authorized_dir(self.keys_dir))
        return False


def secure_server(sock: zmq.Socket, context: zmq.Context,
                  keys: str | os.PathLike) -> tuple[Any, str]:
    """Make ``sock`` a Curve server accepting only authorised clients (call before bind).

    Returns the authenticator (stop it when closing) and the z85 server public key.
    """
    keys_dir = Path(keys)
    pair = load_server_keys(keys_dir)
    auth = _Authenticator(context, keys_dir)
    auth.start()
    auth.configure_curve_callback(domain="*", credentials_provider=auth)
    sock.curve_secretkey = pair.secret
    sock.curve_publickey = pair.public
    sock.curve_server = True
    return auth, pair.public.decode("ascii")


def secure_client(sock: zmq.Socket, server_key: str | bytes,
                  client_keys: KeyPair | None = None) -> None:
    """Make ``sock`` a Curve client of the server with public key ``server_key``."""
    keys = client_keys or client_keys_for(server_key)
    if keys is None or keys.secret is None:
        raise PermissionError("this server requires CurveZMQ: give client keys "
                              "(keys.set_default_client_keys(DIR) or $ACQFLOW_KEYS)")
    sock.curve_serverkey = server_key.encode("ascii") if isinstance(server_key, str) else server_key
    sock.curve_publickey = keys.public
    sock.curve_secretkey = keys.secret

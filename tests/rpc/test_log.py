"""acqflow.rpc.log: pyacq's log helpers (log server, sorted coloured handler, names)."""
import io
import logging
import subprocess
import sys
import textwrap

import pytest

from acqflow.rpc import ProcessSpawner, log

from .util import wait_for

pytestmark = pytest.mark.timeout(90)


def test_names():
    log.set_process_name("main_process")
    log.set_thread_name("main_thread")
    assert log.get_process_name() == "main_process" and log.get_thread_name() == "main_thread"
    assert log.get_thread_name(12345) == "thread-3039"
    log.set_host_name("bench-rig")
    assert log.get_host_name() == "bench-rig"


def test_handler_sorts_and_colours():
    stream = io.StringIO()
    handler = log.RPCLogHandler(stream, delay=60, color=True)
    logger = logging.getLogger("acqflow.test.rpclog")
    logger.propagate = False
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    try:
        late = logger.makeRecord(logger.name, logging.WARNING, __file__, 1, "second", (), None)
        early = logger.makeRecord(logger.name, logging.ERROR, __file__, 1, "first", (), None)
        early.created = late.created - 1
        logger.handle(late)
        logger.handle(early)
        assert stream.getvalue() == ""            # held for sorting
        handler.flush_records()
        lines = stream.getvalue().splitlines()
        assert "first" in lines[0] and "second" in lines[1]
        assert "\x1b[1;31m" in lines[0] and "\x1b[1;33m" in lines[1]    # error red, warning yellow
        assert f"[{log.get_host_name()}:" in handler.header(early)
        plain = io.StringIO()
        h2 = log.RPCLogHandler(plain, delay=0)
        h2.handle(early)
        h2.flush_records()
        assert "\x1b" not in plain.getvalue()       # not a terminal: no colours
    finally:
        logger.removeHandler(handler)


CHILD_SENDS = textwrap.dedent("""
    import logging, sys
    from acqflow.rpc import log
    log.set_process_name("remote_proc")
    log.set_thread_name("remote_thread")
    log.set_logger_address(sys.argv[1])
    logging.getLogger("pyacq.test").warning("hello from %s", "afar")
    logging.shutdown()
""")


def test_log_server_receives_records_of_another_process():
    got = []

    class Keep(logging.Handler):
        def emit(self, record):
            got.append(record)

    target = logging.getLogger("acqflow.test.logserver")
    target.propagate = False
    target.addHandler(Keep())
    server = log.start_log_server(target)
    assert log.get_logger_address() == server.address
    out = subprocess.run([sys.executable, "-c", CHILD_SENDS, server.address],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert wait_for(lambda: got, timeout=30)
    rec = got[0]
    assert rec.getMessage() == "hello from afar" and rec.levelno == logging.WARNING
    assert (rec.process_name, rec.thread_name) == ("remote_proc", "remote_thread")
    stream = io.StringIO()
    assert log.RPCLogHandler(stream, delay=0).header(rec).endswith(":remote_proc:remote_thread]")
    log.stop_log_server()


def test_spawned_process_knows_its_name_and_logger_address():
    with ProcessSpawner(name="named-child") as p:
        rlog = p.client._import("acqflow.rpc.log")
        assert rlog.get_process_name() == "named-child"
        assert rlog.get_logger_address() == log.LogReceiver.instance().address


def test_stop_log_server_lets_another_start():
    """Regression: a test module's log server left running made the next start_log_server fail."""
    first = log.start_log_server("acqflow.test.first")
    log.stop_log_server()
    assert not first._thread.is_alive()
    second = log.start_log_server("acqflow.test.second")
    assert log.get_logger_address() == second.address
    log.stop_log_server()

"""``pyacq.core.rpc.log`` onto ``acqflow.rpc.log``, and pyacq's ``log_exceptions()``."""
import logging
import sys
import threading

from acqflow.rpc.log import (LogSender, LogServer, RPCLogHandler, get_host_name,  # noqa: F401
                             get_logger_address, get_process_name, get_thread_name,
                             set_host_name, set_logger_address, set_process_name,
                             set_thread_name, start_log_server)

__all__ = ["get_logger_address", "set_logger_address", "get_host_name", "set_host_name",
           "get_process_name", "set_process_name", "get_thread_name", "set_thread_name",
           "start_log_server", "LogSender", "LogServer", "RPCLogHandler", "log_exceptions"]


def log_exceptions() -> None:
    """Log uncaught exceptions (of this process and its threads) on the root logger, as
    pyacq's; the previous hooks still run after."""
    previous, previous_thread = sys.excepthook, threading.excepthook

    def hook(*exc_info) -> None:
        logging.getLogger().error("Unhandled exception:", exc_info=exc_info)
        previous(*exc_info)

    def thread_hook(args) -> None:
        logging.getLogger().error("Unhandled exception in thread %s:", args.thread,
                                  exc_info=(args.exc_type, args.exc_value, args.exc_traceback))
        previous_thread(args)

    sys.excepthook, threading.excepthook = hook, thread_hook

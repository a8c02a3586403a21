"""``pyacq.core.rpc.log`` onto ``acqflow.rpc.log``."""
from acqflow.rpc.log import (LogSender, LogServer, RPCLogHandler, get_host_name,  # noqa: F401
                             get_logger_address, get_process_name, get_thread_name,
                             set_host_name, set_logger_address, set_process_name,
                             set_thread_name, start_log_server)

__all__ = ["get_logger_address", "set_logger_address", "get_host_name", "set_host_name",
           "get_process_name", "set_process_name", "get_thread_name", "set_thread_name",
           "start_log_server", "LogSender", "LogServer", "RPCLogHandler"]

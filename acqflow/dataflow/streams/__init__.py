"""Streams: OutputStream/InputStream, their wire format, transports, ring buffers, shared
memory, wake-ups, stream params and each stream's time model (numpy and pyzmq only)."""

"""Objects the rpc tests create in child processes (importable there via sys.path)."""
import os
import threading

import numpy as np


class Unserializable:
    """A plain object: always travels as a proxy."""

    def __init__(self, value=0):
        self.value = value

    def get(self):
        return self.value


class Thing:
    """Assorted remote behaviours."""

    def __init__(self, x=1):
        self.x = x
        self.child = Unserializable(x * 10)
        self.items = {"a": 1}
        self.log = []

    def add(self, a, b=0):
        return a + b

    def echo(self, value):
        return value

    def fail(self, message="boom"):
        raise ValueError(message)

    def record(self, value):
        self.log.append(value)

    def make(self, value=0):
        return Unserializable(value)

    def same_child(self):
        return self.child

    def call_back(self, proxy, *args):
        """Call ``proxy(*args)`` from this process (a third party calling the owner)."""
        return proxy(*args)

    def get_value_of(self, proxy):
        return proxy._get_value()

    def is_local(self, obj):
        return isinstance(obj, Unserializable)

    def sleep(self, seconds):
        threading.Event().wait(seconds)
        return seconds

    def pid(self):
        return os.getpid()

    def thread_name(self):
        return threading.current_thread().name

    def sum(self, arr):
        return float(np.asarray(arr).sum())


class Bouncer:
    """Two bouncers in two processes call each other back ``n`` times (re-entrancy)."""

    def __init__(self, name):
        self.name = name
        self.depth = 0
        self.max_depth = 0

    def bounce(self, n, other, trail=()):
        self.depth += 1
        self.max_depth = max(self.max_depth, self.depth)
        try:
            trail = tuple(trail) + (self.name,)
            if n <= 0:
                return trail
            return other.bounce(n - 1, self, trail)
        finally:
            self.depth -= 1

"""LiveView: plain appended lines off a terminal, an in-place redraw (rich.live) on one."""
from __future__ import annotations

import io
import os
import pty

from acqflow.manager.console import LiveView


def test_off_a_terminal_each_block_is_appended_as_plain_lines():
    out = io.StringIO()
    with LiveView(out, end="\n\n") as view:
        view.show("frame one\nrow")
        view.show("frame two\nrow")
    assert out.getvalue() == "frame one\nrow\n\nframe two\nrow\n\n"


def test_on_a_terminal_the_block_is_redrawn_in_place():
    master, slave = pty.openpty()
    try:
        with os.fdopen(slave, "w", closefd=False) as out:
            with LiveView(out) as view:
                view.show("frame one\nrow")
                view.show("frame two\nrow")
            out.flush()
        chunks = []
        while True:
            data = os.read(master, 65536)
            chunks.append(data)
            if b"frame two" in b"".join(chunks) and len(data) < 65536:
                break
        text = b"".join(chunks).decode()
    finally:
        os.close(slave)
        os.close(master)
    first, second = text.index("frame one"), text.index("frame two")
    # between the two frames: cursor up and erase line (the old block is replaced, not scrolled)
    assert "\x1b[1A" in text[first:second] and "\x1b[2K" in text[first:second], repr(text)
    assert text.count("frame one") == 1

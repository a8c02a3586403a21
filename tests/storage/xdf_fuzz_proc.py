"""Fuzz the XDF importer under an address-space limit, in its own process.

``python -m tests.storage.xdf_fuzz_proc TMPDIR LIMIT_MB EXAMPLES`` damages a valid file
(byte changes, truncation, a chunk length rewritten, hostile chunks spliced in: huge sample
counts, huge channel counts, huge string lengths) and imports each result.  Every import
must give a one-line StorageError or a recording holding exactly what pyxdf reads of the
file's complete, consistent chunks; a MemoryError or any other exception fails (exit != 0).
Prints ``ok N imported M refused`` at the end.
"""
import logging
import resource
import struct
import sys


def main() -> None:
    tmp, limit_mb, examples = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    resource.setrlimit(resource.RLIMIT_AS, (limit_mb << 20, limit_mb << 20))
    from hypothesis import HealthCheck, given, settings, strategies as st

    from acqflow.storage import StorageError, open_recording
    from acqflow.storage.import_xdf import from_xdf
    from acqflow.storage.xdf_scan import _readable, scan_xdf
    from tests.storage.xdf_build import (assert_holds, boundaries, header, pyxdf_streams,
                                         samples, small_valid_xdf)
    logging.disable(logging.CRITICAL)
    data = small_valid_xdf(tmp)
    ends = [4] + boundaries(data)
    hostile = [samples(1, b"\x00\x01\x00" * 3, 30_000_000),            # strings: 3e7 claimed
               samples(1, b"\x08" + b"\0" * 16, 2**40),                  # numeric: 2**40 claimed
               samples(3, b"\x00\x08" + struct.pack("<Q", 2**62), 1),    # a 2**62-byte string
               header(9, "wide", 2_000_000, "float32"),                  # 2e6 channels
               header(10, "huge", 2**40, "double64"),
               b"\x08" + struct.pack("<Q", 2**60) + b"\x03\x00"]         # a 2**60-byte chunk
    ops = st.one_of(
        st.tuples(st.just("set"), st.integers(0, len(data) - 1), st.integers(0, 255)),
        st.tuples(st.just("cut"), st.integers(0, len(data)), st.just(0)),
        st.tuples(st.just("length"), st.sampled_from(ends[:-1]), st.integers(0, 2**64 - 1)),
        st.tuples(st.just("splice"), st.sampled_from(ends), st.integers(0, len(hostile) - 1)))
    counts = {"imported": 0, "refused": 0}
    runs = iter(range(10**9))

    @settings(max_examples=examples, deadline=None, suppress_health_check=list(HealthCheck),
              database=None)
    @given(st.lists(ops, min_size=1, max_size=3))
    def check(changes):
        bad = bytearray(data)
        for op, pos, arg in changes:
            pos = min(pos, len(bad))
            if op == "set" and pos < len(bad):
                bad[pos] = arg
            elif op == "cut":
                del bad[pos:]
            elif op == "length" and pos < len(bad):
                width = bad[pos] if bad[pos] in (1, 4, 8) else 1
                bad[pos:pos + 1 + width] = b"\x08" + arg.to_bytes(8, "little")
            elif op == "splice":
                bad[pos:pos] = hostile[arg]
        k = next(runs)
        path = f"{tmp}/bad{k}.xdf"
        with open(path, "wb") as f:
            f.write(bad)
        try:
            rec = open_recording(from_xdf(path, f"{tmp}/out{k}"))
        except StorageError as exc:
            assert "\n" not in str(exc) and path in str(exc), str(exc)
            counts["refused"] += 1
            return
        counts["imported"] += 1
        with _readable(scan_xdf(path)) as kept:
            assert_holds(rec, pyxdf_streams(kept))
    check()
    print(f"ok {counts['imported']} imported {counts['refused']} refused", flush=True)


if __name__ == "__main__":
    main()

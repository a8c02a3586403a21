"""atheris fuzz target for the RPC decoders (run by test_fuzz.py, or by hand with more runs):

    python tests/rpc/fuzz_atheris.py -runs=1000000
"""
import sys

import atheris

with atheris.instrument_imports():
    from acqflow.rpc import JsonSerializer, MsgpackSerializer, SerializationError

MSGPACK, JSON = MsgpackSerializer(), JsonSerializer()


def one_input(data: bytes) -> None:
    """Decoding must either work or raise SerializationError."""
    fdp = atheris.FuzzedDataProvider(data)
    split = fdp.ConsumeIntInRange(0, len(data))
    rest = fdp.ConsumeBytes(len(data))
    body, buffer = rest[:split], rest[split:]
    for ser, buffers in ((MSGPACK, [buffer]), (JSON, [])):
        try:
            ser.loads(body, buffers)
        except SerializationError:
            pass


if __name__ == "__main__":
    atheris.Setup(sys.argv, one_input)
    atheris.Fuzz()

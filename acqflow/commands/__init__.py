"""The ``acqflow`` command line: one module per sub-command (``acqflow.commands.run`` for
``acqflow run``, ...), each with ``main(argv) -> int``; ``dispatch`` picks the sub-command.
Run it as ``acqflow ...`` or ``python -m acqflow.commands ...``."""
from .dispatch import COMMANDS, main

__all__ = ["main", "COMMANDS"]

"""``python -m acqflow.commands ...``: the ``acqflow`` command."""
import sys

from .dispatch import main

sys.exit(main())

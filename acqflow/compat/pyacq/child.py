"""Imported at the start of every spawned process (``ACQFLOW_CHILD_IMPORTS``, set by
``install()``): installs the pyacq aliases there when the parent had them."""
from . import install_from_env

install_from_env()

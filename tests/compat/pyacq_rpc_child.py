"""Imported by the spawned processes of test_pyacq_rpc: installs the pyacq aliases there."""
import acqflow.compat.pyacq

acqflow.compat.pyacq.install()

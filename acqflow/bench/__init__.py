"""Every benchmark and the soak test, on one harness (``acqflow bench <area>``, dispatched by
acqflow.commands.bench).  Benchmarks may import anything in acqflow; nothing in the working
packages imports ``acqflow.bench``."""

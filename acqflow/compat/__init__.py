"""Compatibility layers: other projects' module trees as thin aliases onto acqflow."""

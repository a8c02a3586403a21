"""acqflow's root exception (a leaf module, so that every layer can import it)."""

__all__ = ["Error"]


class Error(Exception):
    """Base of every exception acqflow defines: ``except acqflow.Error`` catches them all."""

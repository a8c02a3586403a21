"""acqflow's root exception (a leaf module, so that every layer can import it)."""

__all__ = ["Error", "first_line"]


class Error(Exception):
    """Base of every exception acqflow defines: ``except acqflow.Error`` catches them all."""


def first_line(exc: BaseException, limit: int = 300) -> str:
    """The first line of an error's message, without a (remote) traceback, cut at ``limit``
    characters (its type's name when it has none): a one-line report of any error."""
    text = str(exc).strip().splitlines()
    return text[0][:limit] if text else type(exc).__name__

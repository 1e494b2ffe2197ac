"""The command line: ``autograd-gates EXPRESSION name=value ...``."""

from .command import main, run

__all__ = ["main", "run"]

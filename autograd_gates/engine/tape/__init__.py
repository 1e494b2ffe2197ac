"""The tape: trace a circuit once, replay it over a whole batch with numpy.

``Tape`` (in ``tape.py``) is the public face. One idea per module beneath it: ``recording``
(a circuit becomes a program), ``arrays`` (each gate's array forms), ``interpreter`` (replay op by
op, and find a refused sample), ``compiler`` (replay as generated straight-line code) and
``fusion`` (layers replayed as matrix products).
"""

from .recording import Op, Program, record
from .tape import LEVELS, Tape, TapeGradients, TraceMismatchError

__all__ = ["LEVELS", "Op", "Program", "Tape", "TapeGradients", "TraceMismatchError", "record"]

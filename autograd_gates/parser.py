"""Kept so that `import autograd_gates.parser` keeps working: the parser lives in engine/formula.py."""

import sys

from .engine import formula as _module

sys.modules[__name__] = _module

"""Kept so that `import autograd_gates.strategies` keeps working: the module now lives in a layer folder."""

import sys

from .checks import strategies as _module

sys.modules[__name__] = _module

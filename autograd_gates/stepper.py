"""Kept so that `import autograd_gates.stepper` keeps working: the module now lives in a layer folder."""

import sys

from .show import stepper as _module

sys.modules[__name__] = _module

"""Kept so that `import autograd_gates.activations` keeps working: the module now lives in a layer folder."""

import sys

from .models import activations as _module

sys.modules[__name__] = _module

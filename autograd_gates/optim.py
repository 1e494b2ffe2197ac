"""Kept so that `import autograd_gates.optim` keeps working: the module now lives in a layer folder."""

import sys

from .models import optim as _module

sys.modules[__name__] = _module

"""Kept so that `import autograd_gates.training` keeps working: the module now lives in a layer folder."""

import sys

from .models import training as _module

sys.modules[__name__] = _module

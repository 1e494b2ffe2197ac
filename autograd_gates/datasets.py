"""Kept so that `import autograd_gates.datasets` keeps working: the module now lives in a layer folder."""

import sys

from .models import datasets as _module

sys.modules[__name__] = _module

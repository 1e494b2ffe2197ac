"""Kept so that `import autograd_gates.losses` keeps working: the module now lives in a layer folder."""

import sys

from .models import losses as _module

sys.modules[__name__] = _module

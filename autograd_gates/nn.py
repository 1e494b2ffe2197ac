"""Kept so that `import autograd_gates.nn` keeps working: the module now lives in a layer folder."""

import sys

from .models import nn as _module

sys.modules[__name__] = _module

"""Checks of gradients: numerical derivatives, ``gradcheck`` and hypothesis strategies."""

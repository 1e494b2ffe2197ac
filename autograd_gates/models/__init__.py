"""The slides' models built from gates: activations, losses, neurons and MLPs, optimizers, training, data."""

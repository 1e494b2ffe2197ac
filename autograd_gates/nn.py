"""``autograd_gates.nn``: the building blocks (``models/nn.py``: Module, Neuron, Layer, MLP) and the
slides' classic models (``models/classic.py``: Perceptron, Adaline, SigmoidNeuron), under the name
users have always imported. It sits above both, so the building blocks never import the training
loop that the classic models use."""

from .models.classic import Adaline, Perceptron, SigmoidNeuron
from .models.nn import MLP, Layer, Module, Neuron

__all__ = ["Module", "Neuron", "Layer", "MLP", "Perceptron", "Adaline", "SigmoidNeuron"]

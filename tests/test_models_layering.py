"""The models folder keeps its arrows pointing down: a module imports only the ones below it.

Issue 8: models/nn.py imported models/training.py (for SigmoidNeuron.fit and the data checks), so
the building blocks depended on the training loop. The order below is the layering: each module of
autograd_gates/models may import (from the same folder) only modules listed before it.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

MODELS = Path(__file__).resolve().parents[1] / "autograd_gates" / "models"

# Bottom to top. data: checks of data sets and the training warnings; persistence: save/load;
# nn: Neuron, Layer, MLP; tape_training: the loop's per-sample losses on the tape;
# training: the generic loop; classic: models that train themselves.
LAYERS = [
    "data", "persistence", "activations", "losses", "optim", "datasets", "nn", "tape_training", "training",
    "classic",
]


def _siblings_imported(module: str) -> set[str]:
    tree = ast.parse((MODELS / f"{module}.py").read_text(encoding="utf-8"))
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level == 1:  # from .x import ... / from . import x
            if node.module:
                found.add(node.module.split(".")[0])
            else:
                found.update(alias.name for alias in node.names)
    return found


def test_every_module_of_the_folder_is_placed():
    assert {p.stem for p in MODELS.glob("*.py")} - {"__init__"} == set(LAYERS)


@pytest.mark.parametrize("module", LAYERS)
def test_imports_point_down(module):
    below = set(LAYERS[: LAYERS.index(module)])
    assert _siblings_imported(module) <= below, f"models/{module}.py imports from above it"


def test_the_building_blocks_load_without_the_training_loop():
    code = (
        "import sys, autograd_gates.models.nn as nn; nn.MLP(2, [3, 1], seed=0)([0.1, 0.2]); "
        "print(' '.join(m for m in sys.modules if m.startswith('autograd_gates.models.')))"
    )
    printed = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    loaded = {name.rsplit(".", 1)[1] for name in printed.split()}
    assert "nn" in loaded and not loaded & {"training", "classic", "data"}

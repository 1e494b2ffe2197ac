"""Saving a model's parameters to a JSON file and loading them back."""

from __future__ import annotations

import json

import pytest

from autograd_gates import Value, datasets
from autograd_gates.models.persistence import load_parameters, save_parameters
from autograd_gates.nn import MLP, Adaline, Neuron, Perceptron, SigmoidNeuron
from autograd_gates.training import fit


def _values(model):
    return [p.data for p in model.parameters()]


def test_round_trip_is_exact(tmp_path):
    X, y = datasets.moons(30, seed=0)
    model = MLP(2, [8, 8, 1], seed=0)
    fit(model, X, datasets.signed(y), l2=1e-4, epochs=5, progress=False)
    path = model.save(tmp_path / "moons.json")
    fresh = MLP(2, [8, 8, 1], seed=99)
    assert _values(fresh) != _values(model)
    fresh.load(path)
    assert _values(fresh) == _values(model)  # bit for bit
    assert [fresh(x).data for x in X] == [model(x).data for x in X]


def test_the_file_is_readable_json_with_labels(tmp_path):
    model = Neuron(2, "tanh", weights=[0.5, -0.25], bias=0.125, name="n")
    document = json.loads(model.save(tmp_path / "n.json").read_text())
    assert document["format"] == "autograd_gates.parameters" and document["version"] == 1
    assert document["model"] == "Neuron(2, activation='tanh')"
    assert document["parameters"] == [
        {"label": "n.w0", "value": 0.5},
        {"label": "n.w1", "value": -0.25},
        {"label": "n.b", "value": 0.125},
    ]


@pytest.mark.parametrize("make", [Perceptron, Adaline, SigmoidNeuron], ids=lambda m: m.__name__)
def test_the_classic_models_save_and_load(make, tmp_path):
    X, y = datasets.and_gate()
    model = make(2, seed=0)
    model.fit(X, y, epochs=50) if make is not SigmoidNeuron else model.fit(X, y, epochs=5, progress=False)
    fresh = make(2, seed=1)
    fresh.load(model.save(tmp_path / "m.json"))
    assert fresh.weights.tolist() == model.weights.tolist() and fresh.bias == model.bias


def test_a_model_of_another_size_is_refused_and_left_alone(tmp_path):
    path = MLP(2, [16, 16, 1], seed=0).save(tmp_path / "big.json")
    small = MLP(2, [8, 1], seed=0)
    before = _values(small)
    with pytest.raises(
        ValueError,
        match=r"holds 337 parameters but the model has 33: .*big\.json was saved from MLP\(Layer\(2 -> 16, "
        r".*this model is MLP\(Layer\(2 -> 8",
    ):
        small.load(path)
    assert _values(small) == before


def test_a_model_of_another_shape_with_as_many_parameters_is_refused(tmp_path):
    """2-3-1 and 1-4-1 both hold 13 parameters: the labels tell them apart."""
    path = MLP(2, [3, 1], seed=0).save(tmp_path / "a.json")
    other = MLP(1, [4, 1], seed=0)
    assert len(other.parameters()) == len(MLP(2, [3, 1]).parameters()) == 13
    before = _values(other)
    with pytest.raises(
        ValueError, match=r"parameter 1 is 'L1\.n0\.w1' in .*a\.json but 'L1\.n0\.b' in the model"
    ):
        other.load(path)
    assert _values(other) == before


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("not json", "is not a parameters file: it is not JSON"),
        ('{"parameters": []}', 'it has no "format"'),
        (
            '{"format": "autograd_gates.parameters", "version": 2, "parameters": []}',
            "version 2 of the format",
        ),
        (
            '{"format": "autograd_gates.parameters", "version": 1, "parameters": '
            '[{"label": "w0", "value": 1.0}, {"label": "w1", "value": NaN}, {"label": "b", "value": 0.0}]}',
            r"parameters\[1\] \('w1'\) has value nan; a finite number is needed",
        ),
        (
            '{"format": "autograd_gates.parameters", "version": 1, "parameters": '
            '[{"label": "w0", "value": 1.0}, {"label": "w1", "value": "2"}, {"label": "b", "value": 0.0}]}',
            r"parameters\[1\] \('w1'\) has value '2'",
        ),
    ],
)
def test_a_bad_file_is_refused_before_any_change(tmp_path, text, message):
    path = tmp_path / "bad.json"
    path.write_text(text)
    model = Neuron(2, weights=[0.5, 0.5])
    with pytest.raises(ValueError, match=message):
        model.load(path)
    assert _values(model) == [0.5, 0.5, 0.0]


def test_save_and_load_any_object_with_parameters(tmp_path):
    class Line:
        def __init__(self):
            self.a, self.b = Value(2.0, "a"), Value(-1.0, "b")

        def parameters(self):
            return [self.a, self.b]

    path = save_parameters(Line(), tmp_path / "line.json")
    line = Line()
    line.a.data = 0.0
    load_parameters(line, path)
    assert (line.a.data, line.b.data) == (2.0, -1.0)
    with pytest.raises(TypeError, match="model must have .parameters()"):
        save_parameters(object(), tmp_path / "x.json")


def test_a_failed_save_leaves_the_old_file(tmp_path):
    path = Neuron(1, weights=[1.0]).save(tmp_path / "n.json")
    good = path.read_text()

    class Broken:
        def parameters(self):
            return [Value(1.0)]

        def __repr__(self):
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        save_parameters(Broken(), path)
    assert path.read_text() == good
    assert [p.name for p in tmp_path.iterdir()] == ["n.json"]  # no temporary file left behind

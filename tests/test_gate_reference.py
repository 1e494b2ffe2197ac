"""The committed gate reference (docs/gates.md) is exactly what the gate table generates."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from gate_helpers import apply_gate

from autograd_gates import Value, register_gate, unregister_gate
from autograd_gates.engine.gates import GATES, gate_examples, pow_gate
from autograd_gates.show.reference import (
    gate_section,
    kink_points,
    main,
    render,
    sample_operands,
    value_syntax,
)

ROOT = Path(__file__).resolve().parents[1]
COMMITTED = ROOT / "docs" / "gates.md"


def test_committed_reference_matches_the_gate_table() -> None:
    assert COMMITTED.exists(), "run  python -m autograd_gates.show.reference docs/gates.md"
    assert COMMITTED.read_text(encoding="utf-8") == render(), (
        "docs/gates.md is stale: regenerate it with  python -m autograd_gates.show.reference docs/gates.md"
    )


def test_every_table_gate_is_in_the_reference() -> None:
    text = render()
    for gate in gate_examples():
        assert f"`{gate.rule}`" in text, gate.name
        assert gate.domain in text, gate.name
    for name in GATES:
        assert f"### `{name}`" in text


@pytest.mark.parametrize("gate", gate_examples(), ids=lambda g: g.symbol)
def test_worked_example_agrees_with_backward(gate) -> None:
    """The numbers the reference shows are what Value's backward pass computes."""
    point = sample_operands(gate)
    leaves = [Value(v, name) for v, name in zip(point, gate.operands)]
    node = _apply(gate, leaves)
    node.backward()
    section = gate_section(gate)
    assert f"x = {node.data:.6g}." in section
    for leaf in leaves:
        assert f"| {leaf.grad:.6g} |" in section, (gate.symbol, leaf.label, leaf.grad)


def _apply(gate, leaves):
    """Build the gate with the Value syntax users call (operators and methods)."""
    return apply_gate(gate, *leaves)


def test_conventions_at_kinks_are_the_documented_ones() -> None:
    tie = "at a = 1, b = 1, where two pieces meet: da = 0.5 * dx, db = 0.5 * dx"
    assert tie in gate_section(GATES["max"])
    assert "at a = 0, where two pieces meet: da = 0 * dx" in gate_section(GATES["relu"])
    assert "at a = 0, b = 0.5, where two pieces meet: da = 0.5 * dx, db = 0 * dx" in gate_section(
        GATES["leaky_relu"]
    )
    assert "at a = 0, where two pieces meet: da = 0 * dx" in gate_section(GATES["abs"])
    assert "outside its domain" in gate_section(pow_gate(-1))
    assert kink_points(GATES["mul"]) == []
    assert "none needed" in gate_section(GATES["exp"])


def test_value_syntax_of_number_exponents() -> None:
    assert value_syntax(pow_gate(2)) == "`a ** 2`"
    assert value_syntax(pow_gate(-0.5)) == "`a ** (-0.5)`"


def test_a_gate_without_a_method_is_reached_through_apply_gate() -> None:
    new_gate = register_gate("hypot_like", lambda a, b: a * a + b * b, ("2 * a", "2 * b"))
    try:
        assert value_syntax(new_gate) == "`apply_gate('hypot_like', a, b)`"
        section = gate_section(new_gate)
        assert "### `hypot_like`" in render()  # a registered gate joins the reference
    finally:
        unregister_gate("hypot_like")
    assert "| `a` | `da = 2 * a * dx` | 4 | 4 |" in section  # at a = 2, b = -3
    assert "none needed" in section


def test_check_mode_reports_a_stale_file(tmp_path, capsys) -> None:
    stale = tmp_path / "gates.md"
    stale.write_text("# an old reference\n", encoding="utf-8")
    assert main(["--check", str(stale)]) == 1
    assert "stale" in capsys.readouterr().err
    assert main([str(stale)]) == 0
    assert main(["--check", str(stale)]) == 0


def test_an_unwritable_path_is_a_usage_error(tmp_path, capsys) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main([str(tmp_path / "no-such-folder" / "gates.md")])
    assert exit_info.value.code == 2
    assert "cannot write" in capsys.readouterr().err
    assert not (tmp_path / "no-such-folder").exists()


def test_command_line_prints_the_reference() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "autograd_gates.show.reference"],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    )
    assert result.stdout == render()

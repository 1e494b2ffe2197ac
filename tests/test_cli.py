"""The ``autograd-gates`` command, run as a subprocess: default, arguments, outputs, bad input, exit codes."""

from __future__ import annotations

import functools
import os
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

import autograd_gates
from autograd_gates.cli import command as cli
from autograd_gates.engine.gates import GATES

ROOT = Path(autograd_gates.__file__).resolve().parents[1]


def run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    env.pop("AUTOGRAD_GATES_DOT", None)
    return subprocess.run(
        [sys.executable, "-m", "autograd_gates", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        cwd=cwd,
    )


SLIDES_LINES = [
    "x1 = a * b + c = 2 * (-3) + 10 = 4",
    "x2 = x1 * d    = 4 * (-2)      = -8",
    "x = x2 ** 2    = (-8) ** 2     = 64",
    "dx2 = 2 * x2 * dx = 2 * (-8) * 1 = -16",
    "dx1 = d * dx2     = (-2) * (-16) = 32",
    "dd = x1 * dx2     = 4 * (-16)    = -64",
    "da = b * dx1      = (-3) * 32    = -96",
    "db = a * dx1      = 2 * 32       = 64",
    "dc = 1 * dx1      = 1 * 32       = 32",
]


def test_no_arguments_runs_the_slides_example() -> None:
    done = run()
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "x = ((a * b + c) * d) ** 2   at a = 2, b = -3, c = 10, d = -2" in out  # the tree, printed
    assert "\nx = 64\n" in out
    table = [line.split() for line in out.split("gradients:\n")[1].split("\n\n")[0].splitlines()]
    assert table == [
        ["input", "value", "dx/d(input)"],
        ["a", "2", "-96"],
        ["b", "-3", "64"],
        ["c", "10", "32"],
        ["d", "-2", "-64"],
    ]
    lines = [line.strip() for line in out.splitlines()]
    for expected in SLIDES_LINES:
        assert expected in lines


def test_explicit_arguments_give_the_same_result() -> None:
    default = run()
    explicit = run("((a*b + c)*d)**2", "a=2", "b=-3", "c=10", "d=-2")
    assert explicit.returncode == 0 and explicit.stdout == default.stdout


def test_values_alone_rerun_the_slides_example() -> None:
    done = run("a=3", "--no-derivation")
    assert done.returncode == 0
    assert "at a = 3, b = -3, c = 10, d = -2" in done.stdout and "\nx = 4\n" in done.stdout
    assert "derivation" not in done.stdout


def test_other_expressions_and_formats() -> None:
    done = run("a*a + b*b + c*c", "a=1", "b=2", "c=3", "--markdown")
    assert done.returncode == 0
    assert "| `da = a * dx + a * dx` | `1 * 1 + 1 * 1` | 2 |" in done.stdout
    done = run("a*b + c", "a=2", "b=-3", "c=10", "--every-gate")
    assert "x1 = a * b" in done.stdout and "x = x1 + c" in done.stdout


def test_outputs_are_written(tmp_path: Path) -> None:
    done = run(
        "sigmoid(w*x + b)",
        "w=2",
        "x=-1",
        "b=0.5",
        "--svg",
        "c.svg",
        "--png",
        "c.png",
        "--html",
        "steps.html",
        "--latex",
        "d.tex",
        "--rules",
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    svg = ET.parse(tmp_path / "c.svg").getroot()
    texts = {t.text for t in svg.iter("{http://www.w3.org/2000/svg}text")}
    assert {"w", "x", "b", "data 2", "data -1", "data 0.5"} <= texts
    assert (tmp_path / "c.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "const STEPS" in (tmp_path / "steps.html").read_text(encoding="utf-8")
    tex = (tmp_path / "d.tex").read_text(encoding="utf-8")
    assert tex.startswith(r"\begin{align*}") and tex.rstrip().endswith(r"\end{align*}")
    for name in ("c.svg", "c.png", "steps.html", "d.tex"):
        assert f"wrote {name}" in done.stderr


def test_latex_to_stdout() -> None:
    done = run("1/a", "a=2", "--latex", "-", "--no-derivation")
    assert done.returncode == 0
    assert r"da &= \frac{-1}{a \cdot a} \cdot dx = \frac{-1}{2 \cdot 2} \cdot 1 = -0.25" in done.stdout


def test_gradcheck_pass_and_inconclusive() -> None:
    done = run("((a*b + c)*d)**2", "a=2", "b=-3", "c=10", "d=-2", "--gradcheck")
    assert done.returncode == 0 and "gradcheck: pass" in done.stdout
    tie = run("max(a, b)", "a=1", "b=1", "--gradcheck")
    assert tie.returncode == 0 and "gradcheck: inconclusive" in tie.stdout


def test_gradcheck_failure_exits_1(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # Break the mul gate's rule (sign flipped) for the length of this test: the check must say so.
    mul = GATES["mul"]
    right = mul.partials
    object.__setattr__(mul, "partials", lambda a, b, x: (-b, a))
    try:
        status = cli.main(["a*b", "a=2", "b=3", "--gradcheck", "--no-derivation"])
    finally:
        object.__setattr__(mul, "partials", right)
    out = capsys.readouterr().out
    assert status == 1 and "gradcheck: fail" in out and "mul" in out


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["a.exp()"], "attribute access ('.') is not allowed"),
        (["__import__('os')"], "strings are not allowed"),
        (["open(a)"], "unknown function 'open'"),
        (["a ** 100000", "a=2"], "a ** 100000 overflows a float"),
        (["a*b", "a=1"], "no value for b; add b=<number>"),
        (["a*b", "a=1", "b=2", "c=3"], "'c' does not appear"),
        (["a*b", "a=1", "b=two"], "'two' is not a number"),
        (["a*b", "a=1", "b=inf"], "must be finite"),
        (["a*b", "a=1", "a=2", "b=1"], "a is given twice"),
        (["a*b", "a=1", "7"], "expected NAME=VALUE"),
        (["log(a)", "a=-1"], "log gate"),
        (["a/(b-1)", "a=1", "b=1"], "div gate"),
        (["1e300 * 1e300"], "mul gate (x = a * b) refused a = 1e+300, b = 1e+300: a * b overflows"),
        (["--no-such-flag"], "unrecognized arguments"),
    ],
)
def test_bad_input_exits_2_with_a_clear_message(args: list[str], fragment: str) -> None:
    done = run(*args)
    assert done.returncode == 2
    assert fragment in done.stderr
    assert done.stdout == "" and "Traceback" not in done.stderr


def test_bad_expression_shows_a_caret() -> None:
    done = run("a*b + c.real", "a=1", "b=2", "c=3")
    assert done.returncode == 2
    lines = done.stderr.splitlines()
    assert lines[-2] == "a*b + c.real"
    assert lines[-1] == " " * 7 + "^"


def test_missing_renderer_exits_3(tmp_path: Path) -> None:
    done = run("a*b", "a=1", "b=2", "--svg", "c.svg", "--renderer", str(tmp_path / "no-dot"), cwd=tmp_path)
    assert done.returncode == 3
    assert "could not write c.svg" in done.stderr and not (tmp_path / "c.svg").exists()
    assert "x = 2" in done.stdout  # the rest of the work is still printed


def test_an_expression_starting_with_minus() -> None:
    for args in (
        ["-a*b", "a=1", "b=2"],
        ["--no-derivation", "--", "-a*b", "a=1", "b=2"],
    ):
        done = run(*args)
        assert done.returncode == 0, (args, done.stderr)
        assert "\nx = -2\n" in done.stdout


def test_help_shows_examples() -> None:
    done = run("--help")
    assert done.returncode == 0
    assert "examples:" in done.stdout and 'autograd-gates "((a*b + c)*d)**2" a=2 b=-3' in done.stdout
    assert "exit codes:" in done.stdout


def test_console_script_points_at_the_same_main() -> None:
    pyproject = (ROOT / "pyproject.toml").read_text(encoding="utf-8")  # (tomllib needs Python 3.11)
    scripts = pyproject.split("[project.scripts]", 1)[1].split("\n[", 1)[0]
    assert 'autograd-gates = "autograd_gates.cli:main"' in scripts
    from autograd_gates import __main__

    assert __main__.main is cli.main


# -- outputs: files written whole, "-" for standard output ------------------------------------------


def run_bytes_in(*args: str, cwd: Path) -> subprocess.CompletedProcess[bytes]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    env.pop("AUTOGRAD_GATES_DOT", None)
    return subprocess.run(
        [sys.executable, "-m", "autograd_gates", *args], capture_output=True, timeout=120, env=env, cwd=cwd
    )


def test_dash_writes_any_output_to_standard_output_alone(tmp_path: Path) -> None:
    """'-' is standard output for every output; the report then goes to stderr, so stdout is the file."""
    expression = ["a*b + c", "a=2", "b=-3", "c=10"]
    run_bytes = functools.partial(run_bytes_in, cwd=tmp_path)
    svg = run_bytes(*expression, "--svg", "-")
    assert svg.returncode == 0, svg.stderr
    assert ET.fromstring(svg.stdout).tag.endswith("svg") and b"x = a * b + c" in svg.stderr
    png = run_bytes(*expression, "--png", "-")  # stdout is a pipe here, so binary is fine
    assert png.returncode == 0 and png.stdout[:8] == b"\x89PNG\r\n\x1a\n"
    page = run_bytes(*expression, "--html", "-")
    assert page.returncode == 0 and page.stdout.startswith(b"<!DOCTYPE html>")
    dot = run_bytes(*expression, "--dot", "-")
    assert dot.returncode == 0 and dot.stdout.startswith(b"digraph circuit {")
    latex = run_bytes(*expression, "--latex", "-")
    assert latex.returncode == 0 and latex.stdout.startswith(b"\\begin{align*}")
    assert latex.stdout.rstrip().endswith(b"\\end{align*}") and b"gradients:" in latex.stderr
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["--svg", ""], "--svg needs a file name, or - for standard output"),
        (["--latex", ""], "--latex needs a file name"),
        (["--svg", "-", "--latex", "-"], "only one output can go to standard output"),
    ],
)
def test_output_paths_are_checked_before_any_work(args: list[str], fragment: str, tmp_path: Path) -> None:
    done = run("a*b", "a=1", "b=2", *args, cwd=tmp_path)
    assert done.returncode == 2 and fragment in done.stderr and done.stdout == ""
    assert list(tmp_path.iterdir()) == []


@pytest.mark.skipif(os.name != "posix", reason="needs a pseudo-terminal")
def test_binary_output_is_not_sent_to_a_terminal() -> None:
    import pty

    leader, follower = pty.openpty()
    try:
        env = dict(os.environ, PYTHONPATH=str(ROOT))
        done = subprocess.run(
            [sys.executable, "-m", "autograd_gates", "a*b", "a=1", "b=2", "--png", "-"],
            stdout=follower,
            stderr=subprocess.PIPE,
            text=True,
            timeout=120,
            env=env,
        )
    finally:
        os.close(follower)
        os.close(leader)
    assert done.returncode == 2 and "--png -: a PNG is binary" in done.stderr


_WRITE_UNDER_LIMIT = """
import resource, signal, sys
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # past the limit a write fails with EFBIG
resource.setrlimit(resource.RLIMIT_FSIZE, (200, 200))
from autograd_gates.cli import main
sys.exit(main(sys.argv[1:]))
"""


@pytest.mark.skipif(os.name != "posix", reason="needs RLIMIT_FSIZE")
def test_a_failed_write_keeps_the_old_files(tmp_path: Path) -> None:
    names = ("part.svg", "part.png", "part.html", "part.tex", "part.gv")
    for name in names:
        (tmp_path / name).write_text(f"old {name}\n")
    env = dict(os.environ, PYTHONPATH=str(ROOT), PYTHONDONTWRITEBYTECODE="1")
    env.pop("AUTOGRAD_GATES_DOT", None)
    outputs = ["--svg", "part.svg", "--png", "part.png", "--html", "part.html", "--latex", "part.tex"]
    done = subprocess.run(
        [sys.executable, "-c", _WRITE_UNDER_LIMIT, "a=2", *outputs, "--dot", "part.gv"],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
        env=env,
    )
    assert done.returncode == 3, done.stderr
    for name in names:
        assert f"could not write {name}" in done.stderr
    assert {p.name: p.read_text() for p in tmp_path.iterdir()} == {n: f"old {n}\n" for n in names}


# -- messages, expressions starting with "-", large circuits -----------------------------------------


def test_control_characters_in_arguments_are_escaped_in_messages(tmp_path: Path) -> None:
    cases = [
        (["a+b", "a=1", "b=\x1b[31m1"], "b=\\x1b[31m1"),
        (["a+b", "a=1", "b=2", "--svg", "missing/\x1b]0;x\x07.svg"], "missing/\\x1b]0;x\\x07.svg"),
        (["a+b", "a=1", "b=2", "--nope\x1b[2J"], "--nope\\x1b[2J"),
        (["a+b", "a=1", "b=2", "c\x1b=3"], "c\\x1b=3"),
    ]
    for args, shown in cases:
        done = run(*args, cwd=tmp_path)
        assert done.returncode in (2, 3), (args, done.stderr)
        assert "\x1b" not in done.stderr and "\x07" not in done.stderr and shown in done.stderr, done.stderr
        assert "\x1b" not in done.stdout


@pytest.mark.parametrize(
    ("args", "value"),
    [
        (["--a", "a=1"], "1"),
        (["-h*a", "h=2", "a=3"], "-6"),
        (["-r*a", "r=2", "a=3"], "-6"),
        (["-exp(a)", "a=0"], "-1"),
        (["-a", "a=2"], "-2"),
        (["--no-derivation", "-a*b", "a=1", "b=2"], "-2"),
        (["-a*b", "a=1", "b=2", "--no-derivation"], "-2"),
        (["--svg", "c.svg", "--", "-a*b", "a=1", "b=2"], "-2"),
    ],
)
def test_an_expression_may_start_with_minus(args: list[str], value: str, tmp_path: Path) -> None:
    done = run(*args, cwd=tmp_path)
    assert done.returncode == 0, (args, done.stderr)
    assert f"\nx = {value}\n" in done.stdout


def test_options_after_an_expression_starting_with_minus_still_work(tmp_path: Path) -> None:
    done = run("-a*b", "a=1", "b=2", "--svg", "c.svg", "--no-derivation", cwd=tmp_path)
    assert done.returncode == 0 and (tmp_path / "c.svg").exists() and "derivation" not in done.stdout
    typo = run("a*b", "a=1", "b=2", "--svgg", "c.svg", cwd=tmp_path)
    assert typo.returncode == 2 and "unrecognized arguments: --svgg" in typo.stderr
    assert "did you mean --svg?" in typo.stderr


def test_a_circuit_too_large_to_draw_is_refused_quickly(tmp_path: Path) -> None:
    """a + a + ... + a (100 terms) kept the renderer busy past its 60 s timeout: now refused at once."""
    fan = "+".join(["a"] * 100)
    done = run(fan, "a=1", "--svg", "c.svg", "--html", "c.html", "--dot", "c.gv", cwd=tmp_path)
    assert done.returncode == 3, done.stderr
    assert "could not write c.svg: the circuit is too large to draw" in done.stderr
    assert "'a', which feeds 99 gates" in done.stderr and "--dot PATH" in done.stderr
    assert not (tmp_path / "c.svg").exists()
    page = (tmp_path / "c.html").read_text(encoding="utf-8")
    assert "No picture: the circuit is too large to draw" in page and "const STEPS" in page
    assert "wrote c.html (without the picture" in done.stderr
    assert len(re.findall(r"^  \w+ -> \w+ ", (tmp_path / "c.gv").read_text(), re.M)) == 3 * 99


def test_gradcheck_replays_the_built_circuit_instead_of_rebuilding_it(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """--gradcheck evaluates f about 4 times per input; each call went through the parser again
    (its tree walk, its variables), several times the cost of applying the gates (measured: 200
    inputs 8 s). Now the expression is built once and each call replays the circuit's gates."""
    builds = []
    real_build = cli.build
    counted = lambda *args, **kwargs: builds.append(1) or real_build(*args, **kwargs)  # noqa: E731
    monkeypatch.setattr(cli, "build", counted)
    n = 30
    expression = "+".join(f"a{i}" for i in range(n))
    status = cli.main([expression, *(f"a{i}={i / 10}" for i in range(n)), "--gradcheck", "--no-derivation"])
    assert status == 0 and "gradcheck: pass" in capsys.readouterr().out
    assert len(builds) == 1  # was 1 + about 4 per input


@pytest.mark.parametrize(
    "text",
    [
        "((a*b + c)*d)**2",
        "sigmoid(w*x + 2) - 1/(a - 3) + a**b",
        "leaky_relu(a, 0.1) * max(a, b) + exp(-a) + 2**a + abs(b) + elu(c, 1.0) + tanh(-a*b)",
        "a",
    ],
)
def test_the_replayed_circuit_is_the_parsed_expression(text: str) -> None:
    parsed = cli.parse(text)
    names = list(parsed.variables)
    base = {n: 0.3 + 0.2 * i for i, n in enumerate(names)}
    leaves = {n: cli.Value(v, n) for n, v in base.items()}
    f = cli._ExpressionFunction(parsed, cli.build(parsed, leaves), leaves)
    for shift in (0.0, 0.125, 0.5):
        values = [cli.Value(v + shift, n) for n, v in base.items()]
        expected = cli.build(parsed, dict(zip(names, [cli.Value(v.data, n) for v, n in zip(values, names)])))
        got = f(*values)
        assert got.data == expected.data
        assert [node.gate.name if node.gate else None for node in cli.topological_order(got)] == [
            node.gate.name if node.gate else None for node in cli.topological_order(expected)
        ]

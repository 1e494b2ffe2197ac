"""Drawing: the DOT text, real SVG and PNG rendering (graphviz-pure, no system Graphviz needed),
the renderer search and its error, the PNG size cap, and the step-by-step HTML page."""

from __future__ import annotations

import json
import os
import re
import shutil
import struct
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

import autograd_gates
from autograd_gates import Value, draw_dot, maximum
from autograd_gates.show import drawing as drawing_module
from autograd_gates.show.drawing import (
    ENV_VAR,
    Drawing,
    DrawingTooLarge,
    RendererNotFound,
    RenderError,
    find_renderer,
)
from autograd_gates.show.limits import drawing_size
from autograd_gates.show.trace import explain
from autograd_gates.stepper import stepper_html, stepper_steps, write_stepper

SVG_NS = "{http://www.w3.org/2000/svg}"
PACKAGE_PARENT = str(Path(autograd_gates.__file__).resolve().parents[1])


def slides_circuit() -> tuple[Value, list[Value]]:
    a, b, c, d = (Value(v, n) for v, n in ((2.0, "a"), (-3.0, "b"), (10.0, "c"), (-2.0, "d")))
    x = ((a * b + c) * d) ** 2
    x.backward()
    return x, [a, b, c, d]


def svg_groups(svg: bytes) -> dict[str, list[str]]:
    """Each SVG group with an id (node or edge), mapped to the texts drawn in it."""
    root = ET.fromstring(svg)
    groups = {}
    for g in root.iter(f"{SVG_NS}g"):
        if g.get("id"):
            groups[g.get("id")] = [t.text or "" for t in g.iter(f"{SVG_NS}text")]
    return groups


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", data[16:24])


@pytest.fixture(autouse=True)
def _no_renderer_override(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(ENV_VAR, raising=False)


# -- DOT text ---------------------------------------------------------------------------------


def test_dot_source_has_values_gates_and_ordered_edges() -> None:
    x, _ = slides_circuit()
    source = draw_dot(x).source
    assert source.startswith("digraph circuit {") and "rankdir=LR" in source
    assert 'label="{ a | data 2 | grad -96 }"' in source
    assert 'label="{ x | data 64 | grad 1 }"' in source
    assert 'label="{ x1 | data 4 | grad 32 }"' in source  # named as explain() names it
    assert 'label="{ a * b | data -6 | grad 32 }"' in source  # folded into x1 by the trace
    assert source.count('class="gate"') == 4
    assert source.count('class="input"') == 4 and source.count('class="output"') == 1
    assert 'label="**2"' in source and 'label="*"' in source and 'label="+"' in source
    # operand a is drawn before operand b, and each edge says which one it is
    assert source.index('v0 -> g2 [id="e0_2_0", label="a"]') < source.index(
        'v1 -> g2 [id="e1_2_1", label="b"]'
    )


def test_dot_source_is_deterministic() -> None:
    assert draw_dot(slides_circuit()[0]).source == draw_dot(slides_circuit()[0]).source


def test_every_gate_mode_and_rules_on_edges() -> None:
    x, _ = slides_circuit()
    source = draw_dot(x, inline_sums=False, show_rules=True).source
    assert 'label="{ x1 | data -6 | grad 32 }"' in source
    # the same term as the trace's line "da = b * dx1 = (-3) * 32 = -96", in the circuit's names
    assert r'label="da = b * dx1\n= (-3) * 32 = -96"' in source
    assert r'label="dx3 = 2 * x3 * dx\n= 2 * (-8) * 1 = -16"' in source


def test_a_conditional_rule_on_an_edge_keeps_its_parentheses() -> None:
    a, b = Value(2.0, "a"), Value(3.0, "b")
    x = maximum(a, b)
    x.backward()
    source = draw_dot(x, show_rules=True).source
    rule = "(1 if b > a else 1 / 2 if a == b else 0) * dx"
    numbers = "(1 if 3 > 2 else 1 / 2 if 2 == 3 else 0) * 1 = 1"
    assert f'label="db = {rule}\\n= {numbers}"' in source


def test_constants_and_special_characters() -> None:
    label = 'w{1}|"<in>"\\ end\\'  # record structure, quotes and backslashes, drawn as typed
    a = Value(1.0, label)
    drawing = draw_dot(3 * a - 1)
    assert 'class="constant"' in drawing.source
    groups = svg_groups(drawing.pipe("svg"))
    assert groups["v1"] == [label, "data 1", "grad 0"]
    assert ["const", "data 3"] in groups.values()


def test_bad_arguments() -> None:
    with pytest.raises(TypeError, match="needs a Value"):
        draw_dot(3.0)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="rankdir"):
        draw_dot(Value(1.0), rankdir="XY")
    with pytest.raises(ValueError, match="unknown format"):
        draw_dot(Value(1.0)).pipe("gif")
    with pytest.raises(ValueError, match="timeout"):
        Drawing("digraph {}", timeout=0)
    for bad in (0, -1, 1.5, True, "10"):
        with pytest.raises(ValueError, match="max_nodes must be a positive int, or None"):
            draw_dot(Value(1.0), max_nodes=bad)
        with pytest.raises(ValueError, match="max_memory_mb must be a positive int"):
            Drawing("digraph {}", max_memory_mb=bad)


# -- real rendering --------------------------------------------------------------------------------


def test_svg_renders_with_labels_values_and_gradients() -> None:
    x, _ = slides_circuit()
    svg = draw_dot(x).pipe("svg")
    groups = svg_groups(svg)
    assert groups["v0"] == ["a", "data 2", "grad -96"]
    assert groups["v1"] == ["b", "data -3", "grad 64"]
    assert groups["v7"] == ["x", "data 64", "grad 1"]
    texts = {t for ts in groups.values() for t in ts}
    assert {"c", "data 10", "grad 32", "d", "grad -64", "x1", "x2", "data -8", "grad -16"} <= texts
    assert {"*", "+", "**2"} <= texts
    assert "e0_2_0" in groups and "o7" in groups  # edges keep their ids


def test_png_renders_and_is_capped() -> None:
    x, _ = slides_circuit()
    width, height = png_size(draw_dot(x).pipe("png"))
    assert width > 400 and height > 50
    w, h = png_size(draw_dot(x, max_png_pixels=300).pipe("png"))
    assert max(w, h) <= 300 and w / h == pytest.approx(width / height, rel=0.1)


def test_large_graph_png_stays_under_the_cap() -> None:
    xs = [Value(i / 10, f"w{i}") for i in range(60)]
    total = xs[0]
    for v in xs[1:]:
        total = total + v * v
    width, height = png_size(draw_dot(total, max_png_pixels=1200).pipe("png"))
    assert max(width, height) <= 1200


def test_render_writes_by_suffix(tmp_path: Path) -> None:
    x, _ = slides_circuit()
    drawing = draw_dot(x)
    assert drawing.render(tmp_path / "c.svg").read_bytes().lstrip().startswith(b"<?xml")
    assert png_size(drawing.render(tmp_path / "c.png").read_bytes())[0] > 0
    assert drawing.render(tmp_path / "c.gv").read_text() == drawing.source
    assert drawing.save(tmp_path / "d.dot").read_text() == drawing.source


def test_jupyter_display_is_svg() -> None:
    bundle = draw_dot(slides_circuit()[0])._repr_mimebundle_()
    assert bundle["image/svg+xml"].lstrip().startswith("<?xml") and "text/plain" in bundle


def test_to_graphviz_keeps_the_source() -> None:
    drawing = draw_dot(slides_circuit()[0])
    assert drawing.to_graphviz().source == drawing.source


# -- finding the renderer -----------------------------------------------------------------------


@pytest.mark.skipif(os.name != "posix", reason="runs Python with a minimal POSIX environment")
def test_graphviz_pure_is_found_without_an_activated_venv() -> None:
    # PATH without this interpreter's scripts folder, as in a Jupyter kernel of an unactivated venv
    code = (
        "from autograd_gates.show.drawing import find_renderer; r = find_renderer(); "
        "print(r.found_by); print(r.path)"
    )
    env = {
        "PATH": os.pathsep.join(["/usr/bin", "/bin"]),
        "PYTHONPATH": PACKAGE_PARENT,
        "HOME": str(Path.home()),
    }
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    found_by, path = done.stdout.splitlines()
    if shutil.which("dot", path=env["PATH"]) and "graphviz-pure" not in found_by:  # pragma: no cover
        return  # no graphviz-pure here, but a system dot: also fine
    assert "graphviz-pure" in found_by and Path(path).is_file()


def test_no_renderer_says_what_it_looked_for(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(drawing_module, "_graphviz_pure_candidates", lambda: [])
    monkeypatch.setattr(drawing_module.shutil, "which", lambda name, *a, **k: None)
    x, _ = slides_circuit()
    drawing = draw_dot(x)
    with pytest.raises(RendererNotFound) as info:
        drawing.pipe("svg")
    message = str(info.value)
    for needle in (
        ENV_VAR,
        "graphviz-pure",
        "'dot' on PATH",
        "pip install --force-reinstall graphviz-pure",
        "apt-get install graphviz",
        "drawing.source",
    ):
        assert needle in message
    assert "grad -96" in drawing.source  # the DOT text needs no renderer
    bundle = drawing._repr_mimebundle_()
    assert list(bundle) == ["text/plain"] and "RendererNotFound" in bundle["text/plain"]
    with pytest.raises(RendererNotFound):
        drawing.render("never-written.svg")
    assert not Path("never-written.svg").exists()


def test_named_renderer_must_exist(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    with pytest.raises(RendererNotFound, match="not an executable"):
        find_renderer(tmp_path / "no-such-dot")
    monkeypatch.setenv(ENV_VAR, str(tmp_path / "no-such-dot"))
    with pytest.raises(RendererNotFound, match=ENV_VAR):
        find_renderer()


def test_renderer_by_path_and_by_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    found = find_renderer()
    assert find_renderer(found.path).found_by == "argument"
    monkeypatch.setenv(ENV_VAR, str(found.path))
    assert find_renderer().found_by == f"${ENV_VAR}"
    assert b"<svg" in draw_dot(slides_circuit()[0]).pipe("svg")


@pytest.mark.skipif(os.name != "posix", reason="uses small shell scripts as fake renderers")
def test_failing_and_hanging_renderers(tmp_path: Path) -> None:
    failing = tmp_path / "failing-dot"
    failing.write_text("#!/bin/sh\necho 'Error: something broke' >&2\nexit 3\n")
    hanging = tmp_path / "hanging-dot"
    hanging.write_text("#!/bin/sh\nexec sleep 30\n")
    for script in (failing, hanging):
        script.chmod(0o755)
    x, _ = slides_circuit()
    with pytest.raises(RenderError, match="exit code 3.*something broke"):
        draw_dot(x, renderer=failing).pipe("svg")
    with pytest.raises(RenderError, match="did not finish within 0.5 s") as svg:
        draw_dot(x, renderer=hanging, timeout=0.5).pipe("svg")
    assert "format='svg'" not in str(svg.value) and "drawing.source" in str(svg.value)
    with pytest.raises(RenderError, match="did not finish within 0.5 s") as png:
        draw_dot(x, renderer=hanging, timeout=0.5).pipe("png")
    assert "try format='svg'" in str(png.value)


def test_pdf_needs_system_graphviz() -> None:
    renderer = find_renderer()
    if "graphviz-pure" not in renderer.found_by:  # pragma: no cover - a system dot can write PDF
        return
    with pytest.raises(RenderError, match="pdf"):
        draw_dot(slides_circuit()[0]).pipe("pdf")


# -- the step-by-step page -------------------------------------------------------------------------


def test_stepper_steps_follow_the_derivation() -> None:
    x, leaves = slides_circuit()
    steps = stepper_steps(x)
    derivation = explain(x, inline_sums=False)
    assert len(steps) == 2 + len(derivation.backward)
    assert steps[1]["target"] == "v7" and steps[1]["grad"] == "1"
    assert steps[2]["formula"] == "dx3 = 2 * x3 * dx = 2 * (-8) * 1 = -16"
    assert steps[2]["rules"] == ["pow gate: x = a ** 2  ->  da = 2 * a * dx"]
    assert steps[2]["gates"] == ["g7"] and steps[2]["upstream"] == ["v7"] and "e6_7_0" in steps[2]["edges"]
    final = {s["target"]: s["grad"] for s in steps if s["target"]}
    assert [final[f"v{i}"] for i in (0, 1, 3, 5)] == ["-96", "64", "32", "-64"]


def test_stepper_page_is_self_contained(tmp_path: Path) -> None:
    x, _ = slides_circuit()
    path = write_stepper(x, tmp_path / "steps.html")
    page = path.read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>") and "<svg" in page
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", page)
    assert "<link" not in page and "<script src" not in page and "@import" not in page
    data = re.search(r"const STEPS = (.*);\n", page).group(1)
    assert json.loads(data) == stepper_steps(x)
    assert "dx3 = 2 * x3 * dx = 2 * (-8) * 1 = -16" in page


def test_stepper_without_renderer_still_has_the_steps(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(drawing_module, "_graphviz_pure_candidates", lambda: [])
    monkeypatch.setattr(drawing_module.shutil, "which", lambda name, *a, **k: None)
    page = stepper_html(slides_circuit()[0])
    assert "No picture: no Graphviz renderer was found" in page and "const STEPS" in page


@pytest.mark.skipif(shutil.which("node") is None, reason="needs node to run the page's script")
def test_stepper_script_runs(tmp_path: Path) -> None:
    """Run the page's script under node with a tiny stand-in for the DOM, through every step."""
    x, _ = slides_circuit()
    page = stepper_html(x)
    script = page[page.index("<script>") + 8 : page.index("</script>")]
    harness = (
        """
const els = {};
function el(id) {
  if (!els[id]) els[id] = {id, textContent: "", classes: new Set(), children: [], innerHTML: "",
    classList: {add(c) { els[id].classes.add(c); },
                remove(...cs) { cs.forEach(c => els[id].classes.delete(c)); }},
    querySelectorAll() { return []; }, querySelector() { return el(id + "/grad"); }, appendChild() {}};
  return els[id];
}
globalThis.document = {
  getElementById: el, createElement: () => ({}), addEventListener() {},
  querySelectorAll: (sel) => sel.startsWith("tr[") ? ["row-v0", "row-v1", "row-v7"].map(el)
    : sel.startsWith(".hl") ? Object.values(els).filter(e => e.classes.size) : [],
};
"""
        + script
        + """
for (let k = 0; k < STEPS.length; k++) show(k);
const classes = id => [...el(id).classes].sort();
console.log(JSON.stringify([current, el("counter").textContent, el("row-v0/grad").textContent,
  el("formula").textContent, ["v0", "v1", "v2", "g2", "v7", "row-v1"].map(classes)]));
"""
    )
    (tmp_path / "run.js").write_text(harness)
    done = subprocess.run(["node", str(tmp_path / "run.js")], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    current, counter, grad_a, formula, classes = json.loads(done.stdout)
    steps = stepper_steps(x)
    assert current == len(steps) - 1 and counter == f"step {current} of {current}"
    # The last step computes db = a * dx1 through the first mul gate (g2, output v2 = x1).
    assert formula == steps[-1]["formula"] == "db = a * dx1 = 2 * 32 = 64"
    assert grad_a == "-96"
    assert classes == [[], ["hl-target"], ["hl-upstream"], ["hl-gate"], [], ["now"]]


def test_ipython_displays_the_svg() -> None:
    interactiveshell = pytest.importorskip("IPython.core.interactiveshell")
    shell = interactiveshell.InteractiveShell.instance()
    data, _ = shell.display_formatter.format(draw_dot(slides_circuit()[0]))
    assert "grad &#45;96" in data["image/svg+xml"]  # Graphviz writes "-" as an entity


# -- failed writes lose nothing -----------------------------------------------------------------

_WRITE_UNDER_LIMIT = """
import resource, signal, sys
from autograd_gates import Value, draw_dot
from autograd_gates.stepper import write_stepper
a, b, c, d = Value(2.0, "a"), Value(-3.0, "b"), Value(10.0, "c"), Value(-2.0, "d")
x = ((a * b + c) * d) ** 2
x.backward()
drawing = draw_dot(x)
svg = drawing.pipe("svg")  # rendered before the limit: the write is what is tested
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # past the limit a write fails with EFBIG
resource.setrlimit(resource.RLIMIT_FSIZE, (1000, 1000))
failed = []
for name, write in [
    ("part.svg", lambda p: drawing.render(p)),
    ("part.png", lambda p: drawing.render(p)),
    ("part.gv", lambda p: drawing.save(p)),
    ("part.html", lambda p: write_stepper(x, p)),
    ("new.svg", lambda p: drawing.render(p)),
]:
    try:
        write(name)
    except OSError as exc:
        failed.append(name)
print(" ".join(failed))
"""


@pytest.mark.skipif(os.name != "posix", reason="needs RLIMIT_FSIZE")
def test_a_failed_write_keeps_the_old_file_and_leaves_nothing(tmp_path: Path) -> None:
    """Past a file-size limit, every write fails, the old files are intact and no temporary is left."""
    old = {name: f"old {name}\n".encode() for name in ("part.svg", "part.png", "part.gv", "part.html")}
    for name, content in old.items():
        (tmp_path / name).write_bytes(content)
    env = dict(os.environ, PYTHONPATH=PACKAGE_PARENT, PYTHONDONTWRITEBYTECODE="1")
    env.pop(ENV_VAR, None)
    command = [sys.executable, "-c", _WRITE_UNDER_LIMIT]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120, cwd=tmp_path, env=env)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["part.svg", "part.png", "part.gv", "part.html", "new.svg"]
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == old  # nothing new, nothing cut


def test_writes_replace_the_file_whole(tmp_path: Path) -> None:
    x, _ = slides_circuit()
    target = tmp_path / "c.svg"
    target.write_text("old")
    target.chmod(0o640)
    draw_dot(x).render(target)
    assert target.read_bytes().lstrip().startswith(b"<?xml") and (target.stat().st_mode & 0o777) == 0o640
    link = tmp_path / "link.html"
    link.symlink_to(tmp_path / "real.html")
    write_stepper(x, link)  # written through the link, which stays a link
    assert link.is_symlink() and (tmp_path / "real.html").read_text().startswith("<!DOCTYPE html>")
    with pytest.raises(IsADirectoryError):
        draw_dot(x).render(tmp_path)  # a folder is refused, not replaced
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c.svg", "link.html", "real.html"]


# -- limits: decided before the renderer runs ----------------------------------------------------


def fan(n: int) -> Value:
    """``a + a + ... + a``, n terms: ``a`` feeds a gate at every level."""
    a = Value(1.0, "a")
    x = a
    for _ in range(n - 1):
        x = x + a
    x.backward()
    return x


def test_drawing_size_counts_what_the_layout_costs() -> None:
    x, _ = slides_circuit()
    size = drawing_size(x)
    assert (size.nodes, size.edges, size.skipped_ranks) == (12, 11, 0)  # 8 boxes, 4 gates
    assert "11 edges" in repr(draw_dot(x))
    for n in (3, 20, 100):
        size = drawing_size(fan(n))
        # a's edge to the k-th gate (k >= 2) skips 2k - 2 columns: (n - 1)(n - 2) in all
        assert size.skipped_ranks == size.busiest_skipped_ranks == (n - 1) * (n - 2)
        assert size.busiest.label == "a" and size.busiest_uses == n - 1
    # An input used once sits next to its gate, wherever that is: no skipped column.
    xs = [Value(float(i), f"a{i}") for i in range(50)]
    total = xs[0]
    for v in xs[1:]:
        total = total + v
    assert drawing_size(total).skipped_ranks == 0


def test_a_circuit_past_a_limit_is_refused_before_the_renderer_runs(tmp_path: Path) -> None:
    """a + a + ... + a with 100 terms kept the renderer busy past its 60 s timeout; 1,000 took 7 GB."""
    never = tmp_path / "never-run"
    never.write_text("#!/bin/sh\ntouch ran\nexit 1\n")
    never.chmod(0o755)
    drawing = draw_dot(fan(100), renderer=never)
    with pytest.raises(DrawingTooLarge) as refused:
        drawing.pipe("svg")
    message = str(refused.value)
    assert "skip 9,702 columns" in message and "max_skipped_ranks=1,000" in message
    assert "'a', which feeds 99 gates at different depths" in message
    assert "drawing.source" in message and "max_skipped_ranks=None" in message
    assert isinstance(refused.value, RenderError)  # callers that catch RenderError catch this too
    with pytest.raises(DrawingTooLarge):
        drawing.render(tmp_path / "c.svg")
    assert not (tmp_path / "c.svg").exists() and not (tmp_path / "ran").exists()
    assert drawing.source.startswith("digraph") and "DrawingTooLarge" in repr(drawing._repr_mimebundle_())
    x, _ = slides_circuit()
    with pytest.raises(DrawingTooLarge, match=r"12 boxes and gates \(limit: max_nodes=5\)"):
        draw_dot(x, max_nodes=5).pipe("svg")
    with pytest.raises(DrawingTooLarge, match=r"11 edges \(limit: max_edges=10\)"):
        draw_dot(x, max_edges=10).pipe("svg")
    page = stepper_html(fan(100), renderer=never)
    assert "No picture: the circuit is too large to draw" in page and "const STEPS" in page


def test_limits_can_be_lifted_or_raised() -> None:
    draw_dot(fan(100), max_skipped_ranks=None).check_size()  # lifted: only the timeout and memory cap
    draw_dot(fan(100), max_skipped_ranks=10_000).check_size()
    assert b"<svg" in draw_dot(fan(12), max_skipped_ranks=200).pipe("svg")
    with pytest.raises(DrawingTooLarge):
        draw_dot(fan(12), max_skipped_ranks=100).pipe("svg")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="RLIMIT_AS is enforced on Linux only")
def test_the_renderer_runs_under_a_memory_cap() -> None:
    x, _ = slides_circuit()
    with pytest.raises(RenderError, match="memory cap") as capped:
        draw_dot(x, max_memory_mb=1).pipe("svg")
    assert "max_memory_mb=" in str(capped.value)
    assert b"<svg" in draw_dot(x, max_memory_mb=256).pipe("svg")

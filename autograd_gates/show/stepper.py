"""The backward pass, step by step, as one self-contained HTML page.

``write_stepper(root, "backward.html")`` writes a page that needs no network: the
circuit's SVG (drawn by ``drawing.py``), a small script and the steps are all inline.
Each step is one line of ``explain(root, inline_sums=False)``: the page highlights the
gradient being computed (red), the gate whose local rule gives it (its rule from the
gate table is printed), the upstream gradient it multiplies (blue), and fills in the
new ``grad`` in the picture and in the table. Arrow keys or the buttons move between
steps. Without a renderer the page still has the steps and the table, and says why
the picture is missing.
"""

from __future__ import annotations

import html
import os
from pathlib import Path

from ..engine.value import Value, topological_order
from .drawing import Drawing, RendererNotFound, RenderError, dot_source
from .escape import printable, script_json
from .files import write_file
from .limits import MAX_EDGES, MAX_MEMORY_MB, MAX_NODES, MAX_SKIPPED_RANKS, drawing_size
from .trace import BackwardStep, Derivation, explain, format_number, node_names

__all__ = ["stepper_html", "write_stepper", "stepper_steps"]


def stepper_steps(root: Value) -> list[dict[str, object]]:
    """The steps the page walks through, as plain data (what the page's script reads).

    Each step has ``title``, ``formula`` (with numbers), ``rules`` (the gate table's rule
    of every gate used), ``target`` (the SVG id of the value whose gradient is set),
    ``grad`` (its new text), ``gates``, ``edges`` and ``upstream`` (SVG ids to highlight).
    """
    return _steps(explain(root, inline_sums=False), topological_order(root))


def _steps(derivation: Derivation, order: list[Value]) -> list[dict[str, object]]:
    ids = {node: i for i, node in enumerate(order)}
    root = order[-1]  # a topological order ends with its root
    steps: list[dict[str, object]] = [
        {
            "title": "Forward pass done: every value is known, no gradient yet",
            "formula": "; ".join(f"{s.rule} = {format_number(s.value)}" for s in derivation.forward),
            "rules": [],
            "target": None,
            "grad": None,
            "gates": [],
            "edges": [],
            "upstream": [],
        },
        {
            "title": f"Seed: the output's own gradient, {derivation.seed_name} = "
            f"{format_number(derivation.seed)}",
            "formula": f"{derivation.seed_name} = {format_number(derivation.seed)}",
            "rules": [],
            "target": f"v{ids[root]}",
            "grad": format_number(derivation.seed, 4),
            "gates": [],
            "edges": [],
            "upstream": [],
        },
    ]
    steps += [_step(step, ids) for step in derivation.backward]
    return [_printable_step(step) for step in steps]


def _printable_step(step: dict[str, object]) -> dict[str, object]:
    """The step's texts with control characters escaped (labels are user text)."""
    shown = {k: printable(v) if isinstance(v, str) else v for k, v in step.items()}
    shown["rules"] = [printable(rule) for rule in step["rules"]]
    return shown


def _step(step: BackwardStep, ids: dict[Value, int]) -> dict[str, object]:
    target = step.node
    gates, edges, upstream, rules = [], [], [], []
    for term in step.terms:
        out = term.node
        i = ids[out]
        gates.append(f"g{i}")
        upstream.append(f"v{i}")
        index = term.gate.operands.index(term.operand)
        edges.append(f"e{ids[out.parents[index]]}_{i}_{index}")
        edges.append(f"o{i}")
        rule = f"{term.gate.name} gate: {term.gate.rule}"
        if rule not in rules:
            rules.append(rule)
    paths = f" ({len(step.terms)} paths add up)" if len(step.terms) > 1 else ""
    numbers = step.numbers_text
    return {
        "title": f"{step.name}: the gradient of {step.of}{paths}",
        "formula": f"{step.rule} = {numbers} = {format_number(step.value)}",
        "rules": rules,
        "target": f"v{ids[target]}",
        "grad": format_number(step.value, 4),
        "gates": gates,
        "edges": edges,
        "upstream": upstream,
    }


def stepper_html(
    root: Value,
    *,
    title: str | None = None,
    renderer: str | os.PathLike[str] | None = None,
    timeout: float = 60.0,
    max_nodes: int | None = MAX_NODES,
    max_edges: int | None = MAX_EDGES,
    max_skipped_ranks: int | None = MAX_SKIPPED_RANKS,
    max_memory_mb: int | None = MAX_MEMORY_MB,
) -> str:
    """The page as a string (see ``write_stepper``)."""
    if not isinstance(root, Value):
        raise TypeError(f"stepper_html() needs a Value, got {type(root).__name__} {root!r}")
    derivation = explain(root, inline_sums=False)
    order = topological_order(root)
    drawing = Drawing(
        dot_source(root, inline_sums=False),
        renderer=renderer,
        timeout=timeout,
        size=drawing_size(root),
        max_nodes=max_nodes,
        max_edges=max_edges,
        max_skipped_ranks=max_skipped_ranks,
        max_memory_mb=max_memory_mb,
    )
    try:
        svg = drawing.svg()
        svg = svg[svg.index("<svg") :]  # drop the XML prolog and doctype: inline SVG needs neither
        picture = f'<div id="picture">{svg}</div>'
    except (RendererNotFound, RenderError) as exc:
        picture = f'<div id="picture" class="missing"><p>No picture: {html.escape(str(exc))}</p></div>'
    names = node_names(root, inline_sums=False)
    rows = "\n".join(
        f'<tr id="row-v{i}"><td>{_html(names[n])}</td><td>{html.escape(format_number(n.data))}</td>'
        f'<td class="grad">?</td></tr>'
        for i, n in enumerate(order)
        if n in names
    )
    steps = script_json(_steps(derivation, order))  # no "</script>" nor "<!--" inside the script
    heading = _html(title or f"Backward pass of {names[root]}, step by step")
    text = _html(derivation.text())
    return _PAGE.format(heading=heading, picture=picture, rows=rows, derivation=text, steps=steps)


def _html(text: str) -> str:
    """User text as HTML text: markup escaped, control characters made visible."""
    return html.escape(printable(text))


def write_stepper(
    root: Value,
    path: str | os.PathLike[str],
    *,
    title: str | None = None,
    renderer: str | os.PathLike[str] | None = None,
    timeout: float = 60.0,
    max_nodes: int | None = MAX_NODES,
    max_edges: int | None = MAX_EDGES,
    max_skipped_ranks: int | None = MAX_SKIPPED_RANKS,
    max_memory_mb: int | None = MAX_MEMORY_MB,
) -> Path:
    """Write the step-by-step page for ``root`` to ``path`` (UTF-8) and return the path.

    The ``max_*`` limits are ``draw_dot``'s; a circuit past one gets a page without the
    picture, saying why.
    """
    page = stepper_html(
        root,
        title=title,
        renderer=renderer,
        timeout=timeout,
        max_nodes=max_nodes,
        max_edges=max_edges,
        max_skipped_ranks=max_skipped_ranks,
        max_memory_mb=max_memory_mb,
    )
    return write_file(path, page)  # whole or not at all: a failed write keeps the old file


_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{heading}</title>
<style>
body {{ font-family: Helvetica, Arial, sans-serif; margin: 1.2em; color: #111827; }}
#picture {{ overflow-x: auto; border: 1px solid #e5e7eb; padding: 0.5em; }}
#picture svg {{ max-width: none; height: auto; }}
#picture.missing {{ color: #991b1b; white-space: pre-wrap; }}
#panel {{ margin: 0.8em 0; padding: 0.6em 0.9em; background: #f9fafb; border-left: 4px solid #dc2626; }}
#formula {{ font-family: Menlo, Consolas, monospace; font-size: 1.15em; margin: 0.3em 0; }}
#rules {{ font-family: Menlo, Consolas, monospace; color: #374151; margin: 0; padding-left: 1.2em; }}
button {{ font-size: 1em; margin-right: 0.4em; }}
.hl-target path, .hl-target polygon {{ stroke: #dc2626; stroke-width: 3px; }}
.hl-upstream path, .hl-upstream polygon {{ stroke: #2563eb; stroke-width: 3px; }}
.hl-gate ellipse, .hl-gate polygon {{ stroke: #dc2626; stroke-width: 3px; fill: #fee2e2; }}
.hl-edge path {{ stroke: #dc2626; stroke-width: 2.5px; }}
.hl-edge polygon {{ stroke: #dc2626; fill: #dc2626; }}
table {{ border-collapse: collapse; margin-top: 0.6em; }}
td, th {{ border: 1px solid #d1d5db; padding: 0.15em 0.6em; font-family: Menlo, Consolas, monospace; }}
tr.now td {{ background: #fee2e2; }}
pre {{ background: #f3f4f6; padding: 0.6em; overflow-x: auto; }}
</style>
</head>
<body>
<h2>{heading}</h2>
{picture}
<div id="panel">
  <div><button id="prev">&larr; back</button><button id="next">next &rarr;</button>
  <span id="counter"></span> &mdash; <strong id="title"></strong></div>
  <div id="formula"></div>
  <ul id="rules"></ul>
</div>
<p>Red: the gradient computed now and the gate whose rule gives it; blue: the upstream gradient it
multiplies. Keys: &larr; &rarr;.</p>
<table><thead><tr><th>node</th><th>data</th><th>grad</th></tr></thead><tbody>
{rows}
</tbody></table>
<h3>The whole derivation</h3>
<pre>{derivation}</pre>
<script>
const STEPS = {steps};
let current = 0;
function gradText(id) {{
  const g = document.getElementById(id);
  if (!g) return null;
  for (const t of g.querySelectorAll("text")) if (t.textContent.startsWith("grad")) return t;
  return null;
}}
function show(k) {{
  current = Math.max(0, Math.min(STEPS.length - 1, k));
  document.querySelectorAll(".hl-target, .hl-upstream, .hl-gate, .hl-edge, tr.now").forEach(
    e => e.classList.remove("hl-target", "hl-upstream", "hl-gate", "hl-edge", "now"));
  const known = {{}};
  for (let i = 0; i <= current; i++) if (STEPS[i].target) known[STEPS[i].target] = STEPS[i].grad;
  document.querySelectorAll("g.node").forEach(g => {{
    const t = gradText(g.id);
    if (t) t.textContent = "grad " + (g.id in known ? known[g.id] : "?");
  }});
  document.querySelectorAll("tr[id^=row-]").forEach(r => {{
    const id = r.id.slice(4);
    r.querySelector(".grad").textContent = id in known ? known[id] : "?";
  }});
  const s = STEPS[current];
  const mark = (ids, cls) => ids.forEach(id => {{
    const e = document.getElementById(id);
    if (e) e.classList.add(cls);
  }});
  mark(s.upstream, "hl-upstream"); mark(s.gates, "hl-gate"); mark(s.edges, "hl-edge");
  if (s.target) {{ mark([s.target], "hl-target"); mark(["row-" + s.target], "now"); }}
  document.getElementById("counter").textContent = "step " + current + " of " + (STEPS.length - 1);
  document.getElementById("title").textContent = s.title;
  document.getElementById("formula").textContent = s.formula;
  const rules = document.getElementById("rules");
  rules.innerHTML = "";
  for (const r of s.rules) {{
    const li = document.createElement("li");
    li.textContent = r;
    rules.appendChild(li);
  }}
}}
document.getElementById("prev").onclick = () => show(current - 1);
document.getElementById("next").onclick = () => show(current + 1);
document.addEventListener("keydown", e => {{
  if (e.key === "ArrowRight") show(current + 1);
  if (e.key === "ArrowLeft") show(current - 1);
}});
show(0);
</script>
</body>
</html>
"""

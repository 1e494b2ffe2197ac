"""What ``gradcheck`` reports: a row per input, the suspect gate, and the table a person reads."""

from __future__ import annotations

import math
import textwrap
from dataclasses import dataclass

from .numerical import GradEstimate
from .verdict import FAIL, INCONCLUSIVE, PASS, Tolerance

__all__ = ["InputCheck", "Suspect", "GradcheckReport", "GradcheckError", "GradcheckInconclusive"]


@dataclass(frozen=True)
class InputCheck:
    """One row of the report: one input, its analytic and numerical derivative, the verdict."""

    label: str
    x: float
    analytic: float
    numeric: GradEstimate
    allowed: float
    verdict: str
    note: str = ""  # the hint (fail) or the reason (inconclusive)

    @property
    def difference(self) -> float:
        return abs(self.analytic - self.numeric.value)


@dataclass(frozen=True)
class Suspect:
    """The gate the checker blames, where it sits and why."""

    gate: str  # the gate's name, e.g. "mul"
    node: int  # its index in topological_order(root)
    kind: str  # "local rule" or "accumulation"
    message: str

    def __str__(self) -> str:
        return self.message


@dataclass(frozen=True)
class GradcheckReport:
    """What ``gradcheck`` found. ``str(report)`` is a table a person can act on."""

    outcome: str
    rows: tuple[InputCheck, ...]
    function: str
    value: float
    tolerance: Tolerance
    reproduce: str
    suspect: Suspect | None = None
    diagnosis: str = ""  # what the suspect search concluded when it found no gate to blame

    @property
    def ok(self) -> bool:
        """True only for ``outcome == "pass"``."""
        return self.outcome == PASS

    @property
    def inputs(self) -> tuple[float, ...]:
        return tuple(r.x for r in self.rows)

    @property
    def analytic(self) -> list[float]:
        return [r.analytic for r in self.rows]

    @property
    def numeric(self) -> list[float]:
        return [r.numeric.value for r in self.rows]

    def __str__(self) -> str:
        return _format_report(self)


class GradcheckError(AssertionError):
    """Backward's gradient disagrees with the numerical one. ``.report`` has the details."""

    def __init__(self, report: GradcheckReport) -> None:
        super().__init__(str(report))
        self.report = report


class GradcheckInconclusive(Exception):
    """The numerical derivative cannot be trusted at this point (kink, domain edge, noise)."""

    def __init__(self, report: GradcheckReport) -> None:
        super().__init__(str(report))
        self.report = report


# -- the table --------------------------------------------------------------------------------

_TITLES = {PASS: "PASS", FAIL: "FAIL", INCONCLUSIVE: "INCONCLUSIVE"}


def _wrap(head: str, text: str, width: int = 110) -> str:
    return textwrap.fill(
        text, width, initial_indent="  " + head, subsequent_indent="      ", break_on_hyphens=False
    )


def _format_report(report: GradcheckReport) -> str:
    rows = report.rows
    n_fail = sum(r.verdict == FAIL for r in rows)
    n_unsure = sum(r.verdict == INCONCLUSIVE for r in rows)
    if report.outcome == PASS:
        summary = f"all {len(rows)} input(s) agree"
    elif report.outcome == FAIL and n_fail == 0 and n_unsure == 0:
        summary = f"all {len(rows)} input(s) agree, but a gate's local rule is wrong (its errors cancel in f)"
    elif report.outcome == FAIL and n_fail == 0:
        summary = f"{n_unsure} of {len(rows)} input(s) could not be judged, but a gate is wrong (see suspect)"
    elif report.outcome == FAIL:
        summary = f"{n_fail} of {len(rows)} input(s) disagree"
    else:
        summary = f"{n_unsure} of {len(rows)} input(s) could not be judged"
    lines = [
        f"gradcheck {_TITLES[report.outcome]}: {summary}",
        f"  f = {report.function};  f(x) = {report.value!r}",
    ]
    table = [("input", "value", "analytic", "numeric ± error", "|a - n|", "allowed", "verdict")]
    for r in rows:
        est = r.numeric
        numeric = "n/a" if math.isnan(est.value) else f"{est.value:.12g} ± {est.error:.1e}"
        table.append(
            (
                r.label,
                f"{r.x!r}",
                f"{r.analytic:.12g}",
                numeric,
                "n/a" if math.isnan(est.value) else f"{r.difference:.1e}",
                "n/a" if math.isnan(r.allowed) else f"{r.allowed:.1e}",
                r.verdict.upper() if r.verdict != PASS else r.verdict,
            )
        )
    widths = [max(len(row[c]) for row in table) for c in range(len(table[0]))]
    for row in table:
        lines.append("  " + "  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip())
    for r in rows:
        if r.verdict != PASS and r.note:
            label = "hint" if r.verdict == FAIL else "why"
            lines.append(_wrap(f"{label} ({r.label}): ", r.note))
    if report.suspect is not None:
        lines.append(_wrap("suspect gate: ", report.suspect.message))
    elif report.diagnosis and report.outcome == FAIL:
        lines.append(_wrap("suspect gate: ", f"none found -- {report.diagnosis}"))
    lines.append(f"  rule: {report.tolerance}")
    lines.append(
        "        n: central differences + Richardson, h = eps^(1/3) * max(1, |x|) as a power of two; "
        "error = |D(h) - D(2h)| + rounding"
    )
    lines.append(f"  reproduce: {report.reproduce}")
    return "\n".join(lines)

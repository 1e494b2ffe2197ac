"""The pass rule of ``gradcheck``: three verdicts, and a guess at the bug behind a failure.

Per input, with ``a`` the analytic derivative and ``n ± error`` the numerical one::

    |a - n| <= atol + rtol * max(|a|, |n|) + err_factor * error

``pass``; ``fail`` when it does not hold; ``inconclusive`` when the numerical derivative cannot
be trusted -- a kink or tie inside the stencil whose one-sided slopes differ, a domain edge, a
graph that changes shape, or an estimate too noisy to judge (``error > noise_rtol * |n| + atol``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from .numerical import DOMAIN_EDGE, GRAPH_CHANGES, KINK, GradEstimate

__all__ = ["PASS", "FAIL", "INCONCLUSIVE", "Tolerance", "hint"]

PASS, FAIL, INCONCLUSIVE = "pass", "fail", "inconclusive"


@dataclass(frozen=True)
class Tolerance:
    """The pass rule ``|a - n| <= atol + rtol * max(|a|, |n|) + err_factor * error``."""

    atol: float = 1e-8
    rtol: float = 1e-6
    err_factor: float = 1.0
    noise_rtol: float = 1e-3

    def allowed(self, a: float, n: float, error: float) -> float:
        return self.atol + self.rtol * max(abs(a), abs(n)) + self.err_factor * error

    def judge(self, a: float, estimate: GradEstimate) -> tuple[str, float]:
        """The verdict for analytic ``a`` against ``estimate``, and the allowed error."""
        if estimate.issue in (KINK, DOMAIN_EDGE, GRAPH_CHANGES) or not math.isfinite(a):
            return INCONCLUSIVE, math.nan
        n, error = estimate.value, estimate.error
        allowed = self.allowed(a, n, error)
        if error > self.noise_rtol * abs(n) + self.atol:  # |n|, not max(|a|, |n|): a wild a proves nothing
            return INCONCLUSIVE, allowed
        if abs(a - n) <= allowed:
            return PASS, allowed
        # At a gate's kink the engine follows a convention (relu'(0) = 0, ties split), which
        # can differ from the slope of a function that is smooth there: confirm, never condemn.
        return (INCONCLUSIVE if estimate.join else FAIL), allowed

    def __str__(self) -> str:
        return (
            f"pass if |a - n| <= atol + rtol * max(|a|, |n|) + err_factor * error, "
            f"atol = {self.atol:g}, rtol = {self.rtol:g}, err_factor = {self.err_factor:g}"
        )


def hint(a: float, n: float, allowed: float) -> str:
    """A guess at the kind of bug behind analytic ``a`` against numeric ``n``."""
    if a == 0 and abs(n) > allowed:
        return (
            "analytic is 0: no gradient reaches this input (is part of f computed from .data or "
            "Python floats, or was an accumulated gradient overwritten?)"
        )
    if abs(n) <= allowed:
        return "numeric is 0 but analytic is not: the output does not depend on this input near x"
    if abs(a + n) <= allowed:
        return "analytic = -numeric: a sign error in a backward rule"
    ratio = a / n
    if abs(ratio - 2) <= 1e-3:
        return "analytic = 2 * numeric: a gradient counted twice"
    if abs(ratio - 0.5) <= 1e-3:
        return "analytic = numeric / 2: a use of the input was missed (= instead of +=?)"
    if abs(ratio - 1) <= 1e-2:
        return (
            f"analytic = numeric * {ratio:.8g}: off by {ratio - 1:+.1e} relative, a slightly wrong constant?"
        )
    return f"analytic / numeric = {ratio:.6g}"

"""The cyclic garbage collector, sized to the circuits: why a big graph costs no more per gate.

A circuit holds no reference cycles: every node is freed by reference counting the moment its
root is dropped. Python's cyclic collector does not know that, and its full collections walk
every live node -- a million-node graph is walked again and again while it is built, for
nothing, and the cost per gate grows with the graph. ``backward()`` therefore tells this
module how big its graph was, and the collector's young-generation threshold is raised to a
tenth of the largest graph seen (never above ``MAX_THRESHOLD``): collections become rarer in
proportion, each one still finds whatever cyclic garbage the rest of the program makes, and
building plus backpropagating costs the same per gate at a thousand gates and at a million.

The policy only ever raises the threshold, leaves a disabled collector alone, and is undone by
``restore_collector()``; ``set_collector_policy(False)`` turns it off for good. Nothing else in
the collector's settings is touched.
"""

from __future__ import annotations

import gc

__all__ = ["note_graph_size", "restore_collector", "set_collector_policy", "MAX_THRESHOLD", "FRACTION"]

FRACTION = 10  # young-generation threshold = nodes of the largest graph / FRACTION
MAX_THRESHOLD = 200_000  # young collections of at most this many objects: a few ms each

_enabled = True
_original: tuple[int, ...] | None = None  # the thresholds before the policy first raised them
_largest = 0  # nodes of the largest graph backpropagated so far


def note_graph_size(nodes: int) -> None:
    """Called by ``backward()`` with the size of its graph; raises the threshold if it is large."""
    global _largest, _original
    if nodes <= _largest or not _enabled or not gc.isenabled():
        return  # a graph seen with the collector off (inside fit) is not remembered: act later
    _largest = nodes
    wanted = min(nodes // FRACTION, MAX_THRESHOLD)
    thresholds = gc.get_threshold()
    if wanted > thresholds[0]:
        if _original is None:
            _original = thresholds
        gc.set_threshold(wanted, *thresholds[1:])


def restore_collector() -> None:
    """Put the collector's thresholds back as they were before the policy raised them."""
    global _original, _largest
    if _original is not None:
        gc.set_threshold(*_original)
    _original, _largest = None, 0


def set_collector_policy(enabled: bool) -> None:
    """Turn the policy on or off (off also restores the thresholds)."""
    global _enabled
    _enabled = bool(enabled)
    if not _enabled:
        restore_collector()

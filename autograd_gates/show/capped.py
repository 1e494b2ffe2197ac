"""Run a program with a time limit and a memory cap, so no input can hang or exhaust the machine.

The cap is on the program's address space (``RLIMIT_AS``): an allocation past it fails
and the program stops (Graphviz aborts or crashes; either way it is reported). Where it
is set:

* Linux: ``resource.prlimit`` on the started process, before it is sent any input (it only
  reads its input before laying out), so no code runs between fork and exec;
* other POSIX systems (macOS, BSD): ``setrlimit`` in the child before exec, best effort
  (macOS does not enforce ``RLIMIT_AS``);
* Windows: no cap; the time limit still holds.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Sequence

try:
    import resource
except ImportError:  # pragma: no cover - Windows
    resource = None  # type: ignore[assignment]

__all__ = ["run_capped", "memory_cap_applies", "exited_on_signal"]


def memory_cap_applies() -> bool:
    """Whether this platform can cap a child's memory at all."""
    return resource is not None and hasattr(resource, "RLIMIT_AS")


def _cap(memory_bytes: int) -> tuple[int, int]:
    """The (soft, hard) limit to set: ``memory_bytes``, or less if our own hard limit is lower."""
    _, hard = resource.getrlimit(resource.RLIMIT_AS)
    if hard != resource.RLIM_INFINITY:
        memory_bytes = min(memory_bytes, hard)
    return memory_bytes, memory_bytes


def _set_in_child(memory_bytes: int) -> None:  # pragma: no cover - runs in the forked child
    try:
        resource.setrlimit(resource.RLIMIT_AS, _cap(memory_bytes))
    except (OSError, ValueError):
        pass  # a platform that refuses the limit still runs the program, with the time limit


def run_capped(
    cmd: Sequence[str], data: bytes, *, timeout: float, memory_mb: int | None
) -> subprocess.CompletedProcess[bytes]:
    """Run ``cmd`` with ``data`` on stdin; ``subprocess.TimeoutExpired`` after ``timeout`` s (killed)."""
    memory = memory_mb << 20 if memory_mb is not None and memory_cap_applies() else None
    linux = memory is not None and hasattr(resource, "prlimit")
    preexec = None
    if memory is not None and not linux:
        preexec = lambda: _set_in_child(memory)
    proc = subprocess.Popen(
        list(cmd),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        preexec_fn=preexec,
    )
    with proc:
        if linux:
            try:
                resource.prlimit(proc.pid, resource.RLIMIT_AS, _cap(memory))
            except (OSError, ValueError):
                pass  # e.g. a sandbox that forbids it: the time limit still holds
        try:
            out, err = proc.communicate(data, timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.communicate()
            raise
        except BaseException:
            proc.kill()
            raise
    return subprocess.CompletedProcess(list(cmd), proc.returncode, out, err)


def exited_on_signal(returncode: int) -> bool:
    """A negative return code: the program was killed (an abort or crash, e.g. at the memory cap)."""
    return returncode < 0 or (os.name == "nt" and returncode >= 0xC0000000)

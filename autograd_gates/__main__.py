"""``python -m autograd_gates``: the same command as ``autograd-gates`` (see ``cli/command.py``)."""

from __future__ import annotations

from .cli import main

if __name__ == "__main__":
    raise SystemExit(main())

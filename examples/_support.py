"""What every example shares: its command line, and figures that need matplotlib only if it is there.

Each example is run as ``python examples/NN_name.py OUT_DIR [--quick]``: it prints what it shows,
and writes its figures (PNG) into ``OUT_DIR``. ``--quick`` uses smaller settings for the test suite's
smoke run. Without matplotlib the example still runs and prints, and says how to get the figures.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

try:  # run from a clone without installing: the package sits next to examples/
    import autograd_gates  # noqa: F401
except ImportError:  # pragma: no cover - depends on how the example is launched
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

INSTALL_HINT = (
    "matplotlib is not installed, so no figures were written; "
    "to get them: pip install 'autograd_gates[examples]'"
)
# A figure at most PAGE_WIDTH inches wide, saved at FIGURE_DPI, is at most 700 pixels: the width of a
# docs page, which then shows it at its size, text included, instead of shrinking it.
FIGURE_DPI = 100
PAGE_WIDTH = 7.0


def summary(docstring: str) -> str:
    """The first paragraph of an example's docstring, as one line: what ``--help`` says it does."""
    first = docstring.strip().split("\n\n", 1)[0]
    return " ".join(first.split())


def parse_args(docstring: str) -> argparse.Namespace:
    """The command line every example shares: ``OUT_DIR [--quick]``; creates ``OUT_DIR``.

    ``--help`` shows the first paragraph of ``docstring`` (the example's module docstring).
    """
    parser = argparse.ArgumentParser(description=summary(docstring))
    parser.add_argument("out", type=Path, help="folder the figures are written to (created if missing)")
    parser.add_argument("--quick", action="store_true", help="small settings, for a smoke run")
    args = parser.parse_args()
    try:
        args.out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:  # a file of that name, no permission, ...
        parser.error(f"cannot use {str(args.out)!r} as the output folder: {exc.strerror}")
    return args


def pyplot():
    """matplotlib.pyplot on the headless Agg backend, or None (after saying how to get it)."""
    os.environ.setdefault("MPLBACKEND", "Agg")
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print(INSTALL_HINT)
        return None
    plt.rcParams.update(
        {"figure.dpi": FIGURE_DPI, "axes.grid": True, "grid.alpha": 0.3, "font.size": 9, "legend.fontsize": 8}
    )
    return plt


def save(fig, out: Path, name: str) -> Path:
    """Write ``fig`` as ``out/name`` (a small PNG without a timestamp) and close it."""
    import matplotlib.pyplot as plt

    path = out / name
    fig.tight_layout()
    fig.savefig(path, dpi=FIGURE_DPI, bbox_inches="tight", metadata={"Software": None})  # legends below axes
    plt.close(fig)
    shrink_png(path)
    print(f"figure: {path}")
    return path


def shrink_png(path: Path) -> None:
    """Re-save a PNG with a 256-colour palette: a plot or a drawing looks the same at a third of the size.

    Needs Pillow (which matplotlib depends on); without it the file is left as it is.
    """
    try:
        from PIL import Image
    except ImportError:
        return
    with Image.open(path) as image:
        rgb = image.convert("RGB")
    palette = rgb.quantize(colors=256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
    palette.save(path, optimize=True)


def heading(text: str) -> None:
    """Print ``text`` as an underlined section title."""
    print()
    print(text)
    print("-" * len(text))

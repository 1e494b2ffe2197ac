"""What ``import autograd_gates`` offers is what ``dir()``, tab completion and ``import *`` show.

Some names are imported lazily (``explain``, ``draw_dot``, ``gradcheck`` ... load their layer on first
use), and submodules (``nn``, ``optim`` ...) load when first touched. ``dir(autograd_gates)`` must
still list all of them, and nothing that is not public (``import_module``, ``annotations``).
Run in a fresh interpreter, so that what other tests imported cannot hide a missing name.
"""

from __future__ import annotations

import json
import pkgutil
import subprocess
import sys
from pathlib import Path

import autograd_gates

PACKAGE = Path(autograd_gates.__file__).parent
# The names users rely on (the design's public contract); more may be public, none of these may go.
CONTRACT = {"Value", "maximum", "numerical_grad", "gradcheck", "draw_dot", "explain", "GATES"}
CONTRACT_MODULES = {"nn", "optim", "training", "datasets", "activations", "losses", "strategies", "stepper"}


def _fresh(code: str) -> object:
    """Run ``code`` (which prints JSON) in a new interpreter; return what it printed."""
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return json.loads(done.stdout)


def test_dir_lists_every_public_name_before_any_is_used() -> None:
    listed = set(_fresh("import json, autograd_gates; print(json.dumps(dir(autograd_gates)))"))
    assert CONTRACT <= listed, f"dir(autograd_gates) misses {sorted(CONTRACT - listed)}"
    assert set(autograd_gates.__all__) <= listed, sorted(set(autograd_gates.__all__) - listed)
    assert CONTRACT_MODULES <= listed, f"dir() misses modules {sorted(CONTRACT_MODULES - listed)}"
    assert "__version__" in listed
    helpers = {"import_module", "annotations", "pkgutil"}
    assert not helpers & listed, f"dir(autograd_gates) shows helpers: {sorted(helpers & listed)}"


def test_all_names_the_contract_and_every_one_resolves() -> None:
    assert CONTRACT <= set(autograd_gates.__all__), sorted(CONTRACT - set(autograd_gates.__all__))
    assert len(autograd_gates.__all__) == len(set(autograd_gates.__all__)), "a name is listed twice"
    assert all(not name.startswith("_") for name in autograd_gates.__all__)
    for name in autograd_gates.__all__:
        assert getattr(autograd_gates, name) is not None, name


def test_star_import_binds_the_lazy_names_too() -> None:
    bound = _fresh(
        "import json\nfrom autograd_gates import *\n"
        "print(json.dumps(sorted(n for n in dir() if not n.startswith('_'))))"
    )
    assert set(autograd_gates.__all__) <= set(bound), sorted(set(autograd_gates.__all__) - set(bound))


def test_every_listed_name_resolves_including_the_modules() -> None:
    """A name dir() lists must be there: getattr works for each, submodules load on first use."""
    names = _fresh(
        "import json, types, autograd_gates as ag\n"
        "kinds = {n: type(getattr(ag, n)).__name__ for n in dir(ag) if not n.startswith('_')}\n"
        "print(json.dumps(kinds))"
    )
    modules = {name for name, kind in names.items() if kind == "module"}
    public_files = {m.name for m in pkgutil.iter_modules([str(PACKAGE)]) if not m.name.startswith("_")}
    assert modules == public_files, f"dir() lists {sorted(modules)}, the package has {sorted(public_files)}"


def test_an_unknown_name_is_still_an_attribute_error() -> None:
    try:
        autograd_gates.no_such_name  # noqa: B018
    except AttributeError as exc:
        assert "no_such_name" in str(exc)
    else:
        raise AssertionError("autograd_gates.no_such_name did not raise AttributeError")

"""The documentation site builds from docs/ with mkdocs in strict mode: no broken link, no missing page.

``mkdocs build --strict`` turns every warning into an error: a link to a missing page or anchor,
a nav entry whose file does not exist, a page left out of the nav. mkdocs.yml sets the link
validations to ``warn`` so that strict mode fails on them.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

pytest.importorskip("mkdocs", reason="mkdocs-material is in the test extra: pip install -e '.[test]'")
pytest.importorskip("material", reason="mkdocs-material is in the test extra: pip install -e '.[test]'")


def _build(project: Path, site: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}  # mkdocs-material's banner about its successor
    return subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(site)],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
    )


@pytest.fixture(scope="module")
def built_site(tmp_path_factory) -> Path:
    site = tmp_path_factory.mktemp("site")
    result = _build(ROOT, site)
    assert result.returncode == 0, f"mkdocs build --strict failed:\n{result.stdout}\n{result.stderr}"
    return site


def _nav_pages() -> list[str]:
    text = (ROOT / "mkdocs.yml").read_text(encoding="utf-8")
    return re.findall(r":\s*([\w/.-]+\.md)\s*$", text, flags=re.MULTILINE)


def test_site_builds_in_strict_mode(built_site: Path) -> None:
    assert (built_site / "index.html").exists()


@pytest.mark.parametrize("page", _nav_pages())
def test_every_nav_page_is_rendered(built_site: Path, page: str) -> None:
    folder = page.removesuffix(".md").removesuffix("index")  # a/b.md -> a/b/index.html
    assert (built_site / folder / "index.html").exists(), f"{page} was not rendered"


def test_every_markdown_page_is_in_the_nav() -> None:
    pages = {p.relative_to(ROOT / "docs").as_posix() for p in (ROOT / "docs").rglob("*.md")}
    assert pages == set(_nav_pages()), "docs/ and the nav in mkdocs.yml differ"


def test_figures_are_copied_and_linked(built_site: Path) -> None:
    html = (built_site / "tutorial" / "01-perceptron" / "index.html").read_text(encoding="utf-8")
    assert "figures/perceptron_and_or.png" in html
    assert (built_site / "figures" / "perceptron_and_or.png").exists()


def test_portuguese_tutorial_is_built(built_site: Path) -> None:
    html = (built_site / "pt-BR" / "index.html").read_text(encoding="utf-8")
    assert "taxa de aprendizagem" in html


def test_a_broken_link_fails_the_build(tmp_path: Path) -> None:
    """Strict mode is really on: the same site with one broken link does not build."""
    project = tmp_path / "project"
    shutil.copytree(ROOT / "docs", project / "docs")
    shutil.copy(ROOT / "mkdocs.yml", project / "mkdocs.yml")
    page = project / "docs" / "backward.md"
    broken = page.read_text(encoding="utf-8") + "\nSee [a missing page](no-such-page.md).\n"
    page.write_text(broken, encoding="utf-8")
    result = _build(project, tmp_path / "site")
    assert result.returncode != 0
    assert "no-such-page.md" in result.stdout + result.stderr

"""The front door: a short README whose links into docs/ hold, and an mkdocs.yml whose pages exist.

`mkdocs build --strict` (CI) checks the site itself; these checks need no MkDocs installed.
"""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

README_MAX_LINES = 260

_LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)\)")  # [text](target) and ![alt](target)
_NAV_PAGE = re.compile(r"^\s*-\s+(?:[^:\n]+:\s+)?([^\s:]+\.md)\s*$", re.M)
_CODE = re.compile(r"^```.*?^```", re.M | re.S)  # a fenced code block


def _root() -> Path:
    """The repository root: the nearest folder above this file that holds pyproject.toml."""
    here = Path(__file__).resolve()
    return next(p for p in here.parents if (p / "pyproject.toml").is_file())


def _slug(heading: str) -> str:
    """A heading's anchor as Python-Markdown's toc (MkDocs) and GitHub make it, for plain text."""
    text = unicodedata.normalize("NFKD", heading).encode("ascii", "ignore").decode()
    text = re.sub(r"[^\w\s-]", "", text).strip().lower()
    return re.sub(r"[-\s]+", "-", text)


def _anchors(page: Path) -> set[str]:
    text = _CODE.sub("", page.read_text(encoding="utf-8"))
    return {_slug(m.group(1)) for m in re.finditer(r"^#{1,6}\s+(.+?)\s*#*\s*$", text, re.M)}


def broken_links(markdown: str, base: Path) -> list[str]:
    """The relative links of a Markdown text (outside code blocks) whose file, or whose anchor in
    a Markdown file, does not exist under `base`."""
    markdown = _CODE.sub("", markdown)
    broken = []
    for target in _LINK.findall(markdown):
        if re.match(r"[a-z][a-z0-9+.-]*:", target) or target.startswith("#"):
            continue  # a URL, or an anchor in the README itself
        path, _, anchor = target.partition("#")
        file = base / path
        if not file.exists():
            broken.append(target)
        elif anchor and file.suffix == ".md" and anchor not in _anchors(file):
            broken.append(target)
    return broken


def nav_pages(mkdocs_yml: str) -> list[str]:
    """The pages listed in an mkdocs.yml's nav (paths relative to docs/)."""
    nav = mkdocs_yml[mkdocs_yml.index("\nnav:"):]
    return _NAV_PAGE.findall(nav)


def test_the_readme_is_short():
    lines = (_root() / "README.md").read_text(encoding="utf-8").splitlines()
    assert len(lines) <= README_MAX_LINES, f"README.md has {len(lines)} lines"


def test_the_readme_starts_with_the_two_commands():
    lines = (_root() / "README.md").read_text(encoding="utf-8").splitlines()
    assert lines[2:6] == [
        "```bash",
        "pip install -e . && sentiment-rnn train            # install, then train with the defaults",
        "pip install -e '.[test]' && python -m pytest        # install, then run the tests",
        "```"]


def test_the_readmes_links_into_docs_exist():
    root = _root()
    readme = (root / "README.md").read_text(encoding="utf-8")
    into_docs = [t for t in _LINK.findall(_CODE.sub("", readme)) if t.startswith("docs/")]
    assert len(into_docs) >= 10  # the README points at the pages (links, not code), not at one
    assert broken_links(readme, root) == []


def test_every_page_mkdocs_yml_lists_exists_and_every_page_is_listed():
    root = _root()
    pages = nav_pages((root / "mkdocs.yml").read_text(encoding="utf-8"))
    assert {"index.md", "layout.md", "benchmarks.md", "levers.md", "limits.md",
            "scale.md"} <= set(pages)
    assert [p for p in pages if not (root / "docs" / p).is_file()] == []
    on_disk = {p.relative_to(root / "docs").as_posix() for p in (root / "docs").rglob("*.md")}
    assert on_disk - set(pages) == set()  # a page left out of the nav is a page nobody finds


def test_the_checks_find_what_they_are_for(tmp_path):
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "page.md").write_text("# Page\n\n## The run folder\n", encoding="utf-8")
    readme = ("[ok](docs/page.md) [anchor](docs/page.md#the-run-folder) [web](https://x.org/a)\n"
              "[gone](docs/gone.md) ![gone](docs/gone.png) [bad anchor](docs/page.md#nope)\n"
              "```text\n[in code](docs/not-a-link.md)\n```\n")
    assert broken_links(readme, tmp_path) == ["docs/gone.md", "docs/gone.png",
                                              "docs/page.md#nope"]
    yml = "site_name: x\nnav:\n  - Home: index.md\n  - Part:\n      - Deep: sub/deep.md\n  - plain.md\n"
    assert nav_pages(yml) == ["index.md", "sub/deep.md", "plain.md"]
    assert _slug("Serve: watch the RNN read, in a browser") == "serve-watch-the-rnn-read-in-a-browser"


def test_the_license_is_mit_in_the_file_and_in_the_package_metadata():
    root = _root()
    assert (root / "LICENSE").read_text(encoding="utf-8").startswith("MIT License\n")
    pyproject = (root / "pyproject.toml").read_text(encoding="utf-8")
    assert re.search(r'^license = "MIT"$', pyproject, re.M)
    assert re.search(r'^license-files = \["LICENSE"\]$', pyproject, re.M)


def test_the_changelog_holds_every_release_newest_first():
    text = (_root() / "CHANGELOG.md").read_text(encoding="utf-8")
    headings = re.findall(r"^## (\S+)", text, re.M)
    assert headings == ["Unreleased", "0.4.0", "0.3.0", "0.2.0", "0.1.0"]
    assert "Keep a Changelog" in text.split("## Unreleased")[0]


def test_every_public_name_of_the_package_is_there():
    import sentiment_rnn as sr

    assert {"load", "train", "evaluate", "seal", "Model", "Trace"} <= set(sr.__all__)
    missing = [name for name in sr.__all__ if not hasattr(sr, name)]
    assert missing == []

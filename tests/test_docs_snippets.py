"""Every ``promokit`` command and every Python block of README.md and docs/ runs as
written, so the pages cannot drift from the code.

**What runs.** In ```` ```text ````, ```` ```console ```` and ```` ```sh ```` blocks,
each line that starts with ``$ `` (with its ``\\`` continuation lines) is a command; in
a ```` ```sh ```` block without prompts every line is. A command runs when every
program in it is ``promokit`` (``.venv/bin/promokit``; ``echo``/``cat`` may feed it
through a pipe); others (``pip install``, ``python benchmarks/…``) are not run. Every
```` ```python ```` block runs.

**How.** Each page runs in a temporary directory of its own holding a copy of
``examples/`` (and ``benchmarks/``), its snippets in page order: commands through
``bash`` with this environment's ``promokit`` first on ``PATH`` and
``PROMOKIT_SECRET`` set (as on a shop's servers), Python blocks ``exec``'d in one
namespace per page, so a block may use the names an earlier block of the same page
defined. A store URL in a snippet is the page's: ``sqlite:///shop.db`` is a file in
that directory; a ``redis://`` or ``postgresql://`` URL is pointed at the test server
(``PROMOKIT_REDIS_URL``, ``PROMOKIT_POSTGRES_URL``) in a namespace of its own, and
the page is skipped, saying why, when that server cannot be reached (under
``CI=true`` or ``PROMOKIT_REQUIRE_STORES=1`` it fails instead).

**Markers** — HTML comments on the line before a block, unseen on the rendered page:

- ``<!-- snippet: skip REASON -->``: the block does not run; the reason is required.
- ``<!-- snippet: file NAME -->``: the block is written to ``NAME`` (the page's
  ``cart.json``, a broken ``bad.toml``) instead of being run.
- ``<!-- snippet: setup`` … ``-->``: the Python between them runs before the next
  block, for names the page takes as given (an ``engine``, a priced ``result``).

and at the end of a command, visible to readers: ``# exits N``, the exit code the
page shows (the default is 0).

**What is checked.** Each command exits with its code and each Python block runs
without an exception; neither may write ``Traceback`` or ``internal error``. Output
is *not* compared with the page (tables and times change with the formats; the
pages' results are checked by test_docs_examples.py, test_quickstart.py and
test_readme.py).
"""

from __future__ import annotations

import io
import os
import re
import shlex
import shutil
import socket
import subprocess
import sys
import types
import uuid
from collections.abc import Iterator
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import attrs
import pytest
from conftest import POSTGRES_URL, REDIS_URL, missing_service, with_namespace

from promokit import open_store

ROOT = Path(__file__).resolve().parent.parent
PAGES = (ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md")))
BIN = Path(sys.executable).parent
SHELLS = frozenset({"text", "console", "sh", "shell", "bash"})
#: Programs that may feed promokit through a pipe.
FEEDERS = frozenset({"echo", "cat", "printf"})
SECRET = "docs-snippets-secret-0123456789abcdef"
TIMEOUT = 60

_FENCE = re.compile(r"^(?P<indent>[ \t]*)```(?P<lang>[\w-]*)[^\n]*$")
_MARKER = re.compile(r"^\s*<!--\s*snippet:\s*(?P<what>skip|file|setup)\b(?P<rest>.*)$")
_EXITS = re.compile(r"\s#\s*exits\s+(?P<code>\d+)\b[^\n]*$")
_STORE_URL = re.compile(r"(?P<scheme>redis|rediss|postgresql|postgres)://[^\s\"')]+")


@attrs.frozen
class Snippet:
    page: str
    line: int
    kind: str
    """``command``, ``python``, ``file``, ``setup`` or ``skip``."""
    text: str
    exit_code: int = 0
    note: str = ""
    """The file name of a ``file``, the reason of a ``skip``."""

    @property
    def where(self) -> str:
        return f"{self.page}:{self.line}"


def _runs_promokit(command: str) -> bool:
    """Whether every program of ``command`` is promokit (or feeds it through a pipe)."""
    try:
        words = shlex.split(command, comments=True)
    except ValueError:
        return False
    stages: list[list[str]] = [[]]
    for word in words:
        if word in ("|", "&&", "||", ";"):
            stages.append([])
        else:
            stages[-1].append(word)
    programs = [stage[0] for stage in stages if stage]
    if not programs or Path(programs[-1]).name != "promokit":
        return False
    return all(Path(p).name == "promokit" or p in FEEDERS for p in programs)


def _commands(block: str, lang: str) -> Iterator[tuple[int, str]]:
    """``(line offset, command)`` of the commands of a shell-ish block."""
    lines = block.split("\n")
    prompted = any(line.startswith("$ ") for line in lines)
    if not prompted and lang not in ("sh", "shell", "bash"):
        return
    i = 0
    while i < len(lines):
        line = lines[i]
        start = i
        i += 1
        if prompted:
            if not line.startswith("$ "):
                continue
            line = line[2:]
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        parts = [line]
        while parts[-1].rstrip().endswith("\\") and i < len(lines):
            parts.append(lines[i])
            i += 1
        yield start, "\n".join(parts)


def collect(page: Path, name: str | None = None) -> list[Snippet]:
    """The snippets of ``page`` (called ``name`` in messages) in page order."""
    name = name or page.relative_to(ROOT).as_posix()
    lines = page.read_text(encoding="utf-8").split("\n")
    snippets: list[Snippet] = []
    marker: tuple[str, str, int] | None = None
    i = 0
    while i < len(lines):
        line = lines[i]
        found = _MARKER.match(line)
        if found is not None:
            what, rest, at = found["what"], found["rest"], i + 1
            if what == "setup":
                code: list[str] = []
                i += 1
                while i < len(lines) and lines[i].strip() != "-->":
                    code.append(lines[i])
                    i += 1
                assert i < len(lines), f"{name}:{at}: a setup marker without its -->"
                snippets.append(Snippet(name, at + 1, "setup", "\n".join(code)))
            else:
                note = rest.rsplit("-->", 1)[0].strip()
                assert "-->" in rest, f"{name}:{at}: a marker must end on its own line"
                assert note, f"{name}:{at}: 'snippet: {what}' needs a " + (
                    "reason" if what == "skip" else "file name")
                marker = (what, note, at)
            i += 1
            continue
        fence = _FENCE.match(line)
        if fence is None:
            if line.strip() and marker is not None:
                raise AssertionError(f"{name}:{marker[2]}: the marker is not followed "
                                     f"by a block")
            i += 1
            continue
        indent, lang = fence["indent"], fence["lang"]
        first = i + 2  # the page's line number of the block's first line
        body: list[str] = []
        i += 1
        while i < len(lines) and lines[i].strip() != "```":
            body.append(lines[i][len(indent):] if lines[i].startswith(indent) else lines[i])
            i += 1
        text = "\n".join(body)
        i += 1
        if marker is not None:
            what, note, at = marker
            marker = None
            if what == "skip":
                snippets.append(Snippet(name, first, "skip", text, note=note))
                continue
            snippets.append(Snippet(name, first, "file", text + "\n", note=note))
            continue
        if lang == "python":
            snippets.append(Snippet(name, first, "python", text))
        elif lang in SHELLS:
            for offset, command in _commands(text, lang):
                if not _runs_promokit(command):
                    continue
                exits = _EXITS.search(command)
                code = int(exits["code"]) if exits else 0
                command = re.sub(r"(?<![\w/])\.venv/bin/promokit\b", "promokit", command)
                snippets.append(Snippet(name, first + offset, "command", command,
                                        exit_code=code))
    assert marker is None, f"{name}:{marker[2]}: the marker is not followed by a block"
    return snippets


SNIPPETS = {page.relative_to(ROOT).as_posix(): collect(page) for page in PAGES}
RUNNABLE = [name for name, snippets in SNIPPETS.items()
            if any(s.kind in ("command", "python") for s in snippets)]


# -- stores -------------------------------------------------------------------------


def _server_urls(snippets: list[Snippet]) -> dict[str, str]:
    """The test server URL, in a fresh namespace, for each Redis or PostgreSQL URL the
    page names; skips (or fails under CI) when a server cannot be reached."""
    named = {m.group(0): m["scheme"] for s in snippets if s.kind != "skip"
             for m in _STORE_URL.finditer(s.text)}
    urls: dict[str, str] = {}
    for written, scheme in named.items():
        redis = scheme.startswith("redis")
        server, what, module = ((REDIS_URL, "Redis", "redis") if redis
                                else (POSTGRES_URL, "PostgreSQL", "psycopg"))
        why = None
        try:
            __import__(module)
        except ImportError:
            why = f"{what} snippets need {module!r} (pip install -e '.[test]')"
        if why is None:
            parts = urlsplit(server)
            try:
                socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 0),
                                         timeout=2).close()
            except OSError as error:
                why = f"{what} at {parts.hostname}:{parts.port} is not reachable ({error})"
        if why is not None:
            missing_service(what, f"{snippets[0].page} names {written}: {why}")
        urls[written] = with_namespace(server, f"d{uuid.uuid4().hex[:12]}")
    return urls


def _rewrite(text: str, urls: dict[str, str]) -> str:
    for written in sorted(urls, key=len, reverse=True):
        text = text.replace(written, urls[written])
    return text


# -- running ------------------------------------------------------------------------


def _workdir(tmp_path: Path) -> Path:
    shutil.copytree(ROOT / "examples", tmp_path / "examples")
    (tmp_path / "benchmarks").symlink_to(ROOT / "benchmarks", target_is_directory=True)
    return tmp_path


def _environment() -> dict[str, str]:
    env = {key: value for key, value in os.environ.items()
           if not key.startswith("PROMOKIT_") or key.endswith("_URL")}
    env.update(PATH=f"{BIN}{os.pathsep}{env.get('PATH', '')}", PYTHONIOENCODING="utf-8",
               PROMOKIT_SECRET=SECRET)
    return env


def _run_command(snippet: Snippet, command: str, cwd: Path, env: dict[str, str]) -> None:
    done = subprocess.run(["bash", "-c", command], cwd=cwd, env=env, capture_output=True,
                          text=True, encoding="utf-8", timeout=TIMEOUT, check=False)
    said = f"$ {snippet.text}\nstdout:\n{done.stdout}\nstderr:\n{done.stderr}"
    assert done.returncode == snippet.exit_code, (
        f"{snippet.where}: exits {done.returncode}, the page says {snippet.exit_code} "
        f"(mark an error example '# exits N')\n{said}")
    for bad in ("Traceback", "internal error"):
        assert bad not in done.stderr, f"{snippet.where}: {bad!r} on stderr\n{said}"


def _run_python(snippet: Snippet, code: str, names: dict[str, Any]) -> None:
    out, err = io.StringIO(), io.StringIO()
    compiled = compile("\n" * (snippet.line - 1) + code, snippet.page, "exec")
    try:
        with redirect_stdout(out), redirect_stderr(err):
            exec(compiled, names)
    except Exception as error:
        raise AssertionError(f"{snippet.where}: the {snippet.kind} block raises "
                             f"{type(error).__name__}: {error}\n{code}") from error
    for bad in ("Traceback", "internal error"):
        assert bad not in err.getvalue(), f"{snippet.where}: {bad!r} on stderr"


def _drop(urls: dict[str, str]) -> None:
    for url in urls.values():
        store = open_store(url)
        try:
            store.drop()  # type: ignore[attr-defined]
        finally:
            store.close()


@pytest.mark.parametrize("page", RUNNABLE)
def test_the_snippets_of_a_page_run(page: str, tmp_path: Path,
                                    monkeypatch: pytest.MonkeyPatch) -> None:
    snippets = SNIPPETS[page]
    urls = _server_urls(snippets)
    cwd = _workdir(tmp_path)
    env = _environment()
    for key in [k for k in os.environ if k.startswith("PROMOKIT_") and
                not k.endswith("_URL")]:
        monkeypatch.delenv(key)
    monkeypatch.setenv("PROMOKIT_SECRET", SECRET)
    monkeypatch.chdir(cwd)
    monkeypatch.syspath_prepend(str(cwd))
    # the page's blocks run as one script would, in __main__ (cProfile.run looks there)
    script = types.ModuleType("__main__")
    monkeypatch.setitem(sys.modules, "__main__", script)
    names = script.__dict__
    try:
        for snippet in snippets:
            text = _rewrite(snippet.text, urls)
            if snippet.kind == "file":
                (cwd / snippet.note).parent.mkdir(parents=True, exist_ok=True)
                (cwd / snippet.note).write_text(text, encoding="utf-8")
            elif snippet.kind == "command":
                _run_command(snippet, text, cwd, env)
            elif snippet.kind in ("python", "setup"):
                _run_python(snippet, text, names)
    finally:
        store = names.get("store")
        if hasattr(store, "close"):
            store.close()  # type: ignore[union-attr]
        _drop(urls)


# -- the collector itself -------------------------------------------------------------


def test_snippets_are_found_and_skips_are_few() -> None:
    every = [s for snippets in SNIPPETS.values() for s in snippets]
    commands = [s for s in every if s.kind == "command"]
    python = [s for s in every if s.kind == "python"]
    skipped = [s for s in every if s.kind == "skip"]
    assert len(commands) >= 50 and len(python) >= 25, (len(commands), len(python))
    assert len(skipped) <= 8, [f"{s.where}: {s.note}" for s in skipped]
    # the doc's error examples are marked, and only those
    assert sum(s.exit_code != 0 for s in commands) >= 6


def test_the_collector_reads_the_conventions(tmp_path: Path) -> None:
    page = tmp_path / "probe.md"
    text = """\
```text
$ promokit validate examples/d11.toml
ok: …
$ promokit validate bad.toml            # exits 1
$ pip install promokit
$ promokit game play koi draw examples/d11_games.toml \\
    --store memory:// --customer c1
synopsis: promokit evaluate CAMPAIGNS...
```

<!-- snippet: file bad.toml -->
```toml
x = 1
```

<!-- snippet: skip a fragment -->
```python
raise SystemExit
```

<!-- snippet: setup
engine = 1
-->
```sh
.venv/bin/pip install -e .
.venv/bin/promokit demo         # a scripted story
```
"""
    page.write_text(text, encoding="utf-8")
    found = collect(page, "probe.md")
    assert [(s.kind, s.line, s.exit_code) for s in found] == [
        ("command", 2, 0), ("command", 4, 1), ("command", 6, 0), ("file", 13, 0),
        ("skip", 18, 0), ("setup", 22, 0), ("command", 26, 0)]
    assert found[2].text.endswith("--customer c1")
    assert found[3].note == "bad.toml" and found[3].text == "x = 1\n"
    assert found[4].note == "a fragment"
    assert found[6].text == "promokit demo         # a scripted story"

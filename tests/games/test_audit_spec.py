"""The draw-log verifier specification (docs/games.md, "Verifying a draw log") and
its test vectors (``audit_vectors.json``), held to the code and to an outsider:

- the vectors are what the code makes now, and the docs print them;
- promokit's verifier and ``independent_verifier.py`` (standard library only,
  written from the docs) both pass every vector log and agree on every outcome;
- both reject every tampering the vectors list: an edited header config, a win
  rewritten as ``locked`` with its prize given to a later drawer, a customer's last
  box removed, a reordered log, a cut-off log checked against the published count.
"""

from __future__ import annotations

import ast
import copy
import hashlib
import json
import re
import sys
from pathlib import Path
from typing import Any

import independent_verifier as outsider
import make_audit_vectors as made
import pytest

from promokit.errors import GameError
from promokit.gameplay import verify_log
from promokit.games import DrawLog, pick_weighted
from promokit.games.canonical import canonical_json
from promokit.testing import registry_with

VECTORS: dict[str, Any] = json.loads(made.VECTORS.read_text(encoding="utf-8"))
LOGS = {log["name"]: log for log in VECTORS["logs"]}
REGISTRY = registry_with()


def test_the_vectors_are_what_the_code_makes() -> None:
    """``python tests/games/make_audit_vectors.py`` rewrites them (and the docs)."""
    assert made.dumps(made.build()) == made.VECTORS.read_text(encoding="utf-8")


def test_the_docs_print_the_vectors() -> None:
    assert made.docs_block(VECTORS) in made.DOCS.read_text(encoding="utf-8")


def test_the_independent_verifier_imports_only_the_standard_library() -> None:
    tree = ast.parse(Path(outsider.__file__).read_text(encoding="utf-8"))
    imported = {alias.name.split(".")[0] for node in ast.walk(tree)
                if isinstance(node, ast.Import) for alias in node.names}
    imported |= {(node.module or "").split(".")[0] for node in ast.walk(tree)
                 if isinstance(node, ast.ImportFrom)}
    assert imported and imported <= set(sys.stdlib_module_names) | {"__future__"}


def test_canonical_json_vectors() -> None:
    for example in VECTORS["canonical_json"]:
        assert canonical_json(example["value"]) == example["canonical"]
        assert outsider.jcs(example["value"]) == example["canonical"]
        assert hashlib.sha256(example["canonical"].encode()).hexdigest() == example["sha256"]


def test_the_digest_vector() -> None:
    vector = VECTORS["digest"]
    message = json.loads(vector["message"])
    digest = outsider.digest_of(vector["seed"], message["customer"], message["client_seed"],
                                message["nonce"], message["config_hash"])
    assert outsider.jcs(message) == vector["message"]
    assert digest.hex() == vector["digest"]
    assert outsider.u64(digest, 0) == vector["u"]
    assert vector["u"] * vector["total"] >> 64 == vector["point"]
    assert outsider.pick(digest, vector["weights"]) == vector["pick"]


@pytest.mark.parametrize("name", sorted(LOGS))
def test_promokit_verifies_each_vector_log(name: str) -> None:
    vector = LOGS[name]
    log = DrawLog.loads(vector["log"])
    published = vector["published"]
    assert log.commitment == published["commitment"]
    report = verify_log(log, REGISTRY, draws=published["draws"], head=published["head"])
    assert report.ok, report.problems
    assert [made.outcome(dict(e), log.kind, vector["seed"]) for e in log.entries] == \
        vector["outcomes"]


@pytest.mark.parametrize("name", sorted(LOGS))
def test_the_independent_verifier_passes_each_vector_log(name: str) -> None:
    vector = LOGS[name]
    published = vector["published"]
    assert outsider.verify(vector["log"], draws=published["draws"],
                           head=published["head"]) == []
    assert outsider.replay(vector["log"]) == vector["outcomes"]


# -- tamperings ---------------------------------------------------------------------------------


def tamper(text: str, edits: list[dict[str, Any]]) -> str:
    """Apply a vector's edits to a log's text (see ``make_audit_vectors.TAMPERINGS``)."""
    rows = [json.loads(line) for line in text.splitlines() if line.strip()]
    for edit in edits:
        op = edit["op"]
        if op == "set":
            target = rows[edit["line"] - 1]
            *path, last = edit["path"]
            for key in path:
                target = target[key]
            target[last] = copy.deepcopy(edit["value"])
        elif op == "set-config":
            target = rows[0]["configs"][rows[0]["config_hash"]]
            *path, last = edit["path"]
            for key in path:
                target = target[key]
            target[last] = edit["value"]
        elif op == "delete":
            del rows[edit["line"] - 1]
        elif op == "reverse":
            rows[1:] = rows[:0:-1]
        elif op in ("rechain", "renumber"):
            previous = rows[0]["commitment"]
            for position, entry in enumerate(rows[1:], 1):
                if op == "renumber":
                    entry["position"] = position
                entry["prev"] = previous
                previous = outsider.sha256_of(entry)
            rows[0].update(draws=len(rows) - 1, head=previous)
        else:
            raise AssertionError(f"unknown edit {op!r}")
    return "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows)


@pytest.mark.parametrize("tampering", VECTORS["tamperings"], ids=lambda t: t["name"])
def test_both_verifiers_reject_each_tampering(tampering: dict[str, Any]) -> None:
    vector = LOGS[tampering["log"]]
    published = vector["published"]
    text = tamper(vector["log"], tampering["edits"])
    assert text != vector["log"]
    assert outsider.verify(text, draws=published["draws"], head=published["head"]) != []
    report = verify_log(DrawLog.loads(text), REGISTRY, draws=published["draws"],
                        head=published["head"])
    assert not report.ok


@pytest.mark.parametrize("tampering", [t for t in VECTORS["tamperings"]
                                       if t["name"] != "last-entry-removed"],
                         ids=lambda t: t["name"])
def test_every_tampering_but_a_cut_off_end_shows_in_the_log_alone(
        tampering: dict[str, Any]) -> None:
    """Without the published count and head: only cutting off the end (and re-counting
    the header) needs them."""
    vector = LOGS[tampering["log"]]
    text = tamper(vector["log"], tampering["edits"])
    assert outsider.verify(text) != []
    assert not verify_log(DrawLog.loads(text), REGISTRY).ok


def test_a_cut_off_end_needs_the_published_count() -> None:
    (cut,) = [t for t in VECTORS["tamperings"] if t["name"] == "last-entry-removed"]
    vector = LOGS["lottery"]
    text = tamper(vector["log"], cut["edits"])
    assert outsider.verify(text) == []
    assert verify_log(DrawLog.loads(text), REGISTRY).ok
    assert outsider.verify(text, draws=vector["published"]["draws"]) != []
    assert "the reveal published 8 draw(s), the log holds 7" in verify_log(
        DrawLog.loads(text), REGISTRY, draws=vector["published"]["draws"]).problems


def test_the_header_config_edit_of_the_issue_is_named() -> None:
    """Fault: editing only the header's readable config (a weight 10 → 1) verified."""
    vector = LOGS["lottery"]
    (edit,) = [t for t in VECTORS["tamperings"] if t["name"] == "header-config-weight"]
    problems = verify_log(DrawLog.loads(tamper(vector["log"], edit["edits"])),
                          REGISTRY).problems
    assert problems[0].startswith("the header's config is not the config ")


def test_a_win_rewritten_as_locked_is_named() -> None:
    """Fault: the draw count deciding "locked until draw N" was not covered, so a
    genuine win could be rewritten as locked and its prize given to a later drawer."""
    vector = LOGS["lottery"]
    (edit,) = [t for t in VECTORS["tamperings"] if t["name"] == "win-rewritten-as-locked"]
    problems = verify_log(DrawLog.loads(tamper(vector["log"], edit["edits"])),
                          REGISTRY).problems
    assert "draw 3: position 2 logged, but it is entry 3 of the log (positions go 1, 2, 3 … " \
           "in log order)" in problems
    (kept,) = [t for t in VECTORS["tamperings"]
               if t["name"] == "locked-claimed-after-renumbering"]
    problems = verify_log(DrawLog.loads(tamper(vector["log"], kept["edits"])),
                          REGISTRY).problems
    assert any(p.startswith("draw 3: should award 'koi' (reason None), the log says 'thanks' "
                            "(reason locked)") for p in problems), problems


def test_pick_weighted_refuses_a_total_past_the_bound() -> None:
    """Fault: weights adding up past 2⁶⁴ skewed the probabilities; the total is at most
    10¹⁵, and a weight of 0 is never picked."""
    with pytest.raises(ValueError, match="must add up to 1 … 1,000,000,000,000,000"):
        pick_weighted(b"\x00" * 32, [10**15, 1])
    with pytest.raises(ValueError):
        pick_weighted(b"\x00" * 32, [0, 0])
    assert pick_weighted(b"\xff" * 32, [10**15 - 1, 1]) == 1
    assert pick_weighted(b"\xff" * 32, [3, 0]) == 0
    assert outsider.pick(b"\xff" * 32, [10**15 - 1, 1]) == 1


@pytest.mark.parametrize(("value", "message"), [
    (1.5, "float 1.5 in canonical JSON"),
    (2**53, "beyond ±(2**53 - 1)"),
    ("\ud800", "lone surrogate U+D800"),
    ({1: "a"}, "names must be strings"),
    (b"bytes", "bytes is not a JSON value"),
])
def test_canonical_json_refuses_what_it_cannot_hold(value: Any, message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        canonical_json(value)
    with pytest.raises(outsider.Malformed):
        outsider.jcs(value)


@pytest.mark.parametrize(("change", "message"), [
    (lambda lines: [lines[0], lines[1].replace('{"at"', '{"nonce":1,"at"', 1), *lines[2:]],
     "draw log line 2: not valid JSON for a draw log (the name 'nonce' appears twice"),
    (lambda lines: [lines[0], lines[1].replace('"nonce":1', '"nonce":1.0', 1), *lines[2:]],
     "draw log line 2: not valid JSON for a draw log (number 1.0 is not a whole number)"),
    (lambda lines: [lines[0].replace('"format":"promokit-draw-log/2"', '"format":"v1"'),
                    *lines[1:]],
     "draw log line 1: format 'v1'; this is promokit's 'promokit-draw-log/2' reader"),
    (lambda lines: [lines[0].replace('"head":', '"tail":'), *lines[1:]],
     "draw log line 1: header lacks head"),
])
def test_a_log_is_read_strictly(change: Any, message: str) -> None:
    lines = LOGS["lottery"]["log"].splitlines()
    with pytest.raises(GameError) as caught:
        DrawLog.loads("\n".join(change(lines)))
    assert caught.value.reason == "bad_log" and str(caught.value).startswith(message)

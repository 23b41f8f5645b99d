"""The pure planner on its own: the decision table row by row, and properties of a whole plan.

The scenario tests (``test_sync_decisions.py``) show each row through the CLI; these call
:func:`decide` and :func:`plan_actions` directly, so a change to the table fails here first.
"""

from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from zotsync.state.db import ItemState
from zotsync.sync.planner import NoteSeen, decide, mass_deletion, plan_actions

SIG = (1, 10, 100)
NOTE = NoteSeen("Papers/A.md", SIG)


def _state(sig: tuple[int, int, int] | None = SIG, **kw: object) -> ItemState:
    mtime, size, ino = sig or (None, None, None)
    base = ItemState(
        key="K", library="user", path="Papers/A.md", input_hash="h", mtime_ns=mtime, size=size,
        ino=ino,
    )  # fmt: skip
    return replace(base, **kw)  # type: ignore[arg-type]


ROWS = [
    # (description, in_source, hash, state, notes, options, expected kind, reason contains)
    ("new item, no note", True, "h", None, [], {}, "create", ""),
    ("new item, a note claims it", True, "h", None, [NOTE], {}, "adopt", ""),
    ("changed in Zotero", True, "h2", _state(), [NOTE], {}, "update", "changed in Zotero"),
    ("note edited", True, "h", _state(sig=(2, 10, 100)), [NOTE], {}, "update", "note changed"),
    ("note moved", True, "h", _state(path="Old/A.md"), [NOTE], {}, "update", "note changed"),
    ("nothing moved", True, "h", _state(), [NOTE], {}, "unchanged", ""),
    ("note deleted by the user", True, "h", _state(), [], {}, "tombstone", "deleted by the user"),
    ("tombstone kept", True, "h", _state(path=None, tombstone=True), [], {}, "skip", "deleted"),
    ("tombstone, --recreate", True, "h", _state(path=None, tombstone=True), [], {"recreate": True},
     "create", "recreate"),
    ("deleted note, --recreate", True, "h", _state(), [], {"recreate": True}, "create", "recreate"),
    ("back in Zotero", True, "h", _state(deleted=True), [NOTE], {}, "update", "back in Zotero"),
    ("open conflict, --overwrite-conflicts", True, "h", _state(conflict="Papers/A (zotsync conflict).md"), [NOTE],
     {"overwrite_conflicts": True}, "update", "overwrite conflict"),
    ("open conflict, default", True, "h", _state(conflict="Papers/A (zotsync conflict).md"), [NOTE], {}, "unchanged", ""),
    ("deleted in Zotero, note there", False, None, _state(), [NOTE], {}, "delete", "deleted in"),
    ("deleted in Zotero, no note", False, None, _state(), [], {}, "forget", ""),
    ("marked deleted, untouched", False, None, _state(deleted=True), [NOTE], {}, "unchanged", ""),
    ("another library's note", False, None, None, [NOTE], {}, "skip", "not in this library"),
    ("two notes claim the key", True, "h", _state(), [NOTE, NoteSeen("B.md", SIG)], {},
     "duplicate", "several notes"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("in_source", "input_hash", "state", "notes", "options", "kind", "reason"),
    [row[1:] for row in ROWS],
    ids=[row[0] for row in ROWS],
)
def test_decision_table(
    in_source: bool,
    input_hash: str | None,
    state: ItemState | None,
    notes: list[NoteSeen],
    options: dict[str, bool],
    kind: str,
    reason: str,
) -> None:
    action = decide(
        "K", in_source=in_source, input_hash=input_hash, state=state, notes=notes, **options
    )
    assert action.kind == kind
    assert reason in action.reason


def test_pass_facts_override_the_table() -> None:
    states = {k: _state(key=k) for k in "ABCDEF"}
    notes = {k: [NOTE] for k in "ABCDEF"}
    actions = plan_actions(
        source_keys=list("ABCDE"),
        input_hashes=dict.fromkeys("ABCDE", "h"),
        states=states,
        notes=notes,
        renamed={"A"},
        forced={"B"},
        unreadable={"C"},
        ambiguous={"D"},
        retired={"F": "A"},
    )
    kinds = {a.key: (a.kind, a.reason) for a in actions}
    assert kinds["A"] == ("update", "title changed: renamed")
    assert kinds["B"] == ("update", "status set in a plan")
    assert kinds["C"][0] == "skip" and kinds["D"][0] == "skip"
    assert kinds["E"] == ("unchanged", "")
    assert kinds["F"][0] == "forget"  # retired: never "delete", its note lives on


def test_renamed_or_forced_never_turn_other_actions_into_updates() -> None:
    actions = plan_actions(
        source_keys=["N"],
        input_hashes={"N": "h"},
        states={},
        notes={},
        renamed={"N"},
        forced={"N"},
    )
    assert [a.kind for a in actions] == ["create"]


def test_mass_deletion_counts_live_notes_only_for_an_empty_source() -> None:
    states = {"A": _state(key="A"), "B": _state(key="B", deleted=True), "C": _state(key="C")}
    assert mass_deletion(0, states) == 2
    assert mass_deletion(5, states) == 0


keys = st.sampled_from(list("ABCDEFGH"))
states_st = st.builds(
    _state,
    path=st.sampled_from([None, "Papers/A.md", "Other/A.md"]),
    input_hash=st.sampled_from([None, "h", "h2"]),
    sig=st.sampled_from([None, SIG, (2, 10, 100)]),
    deleted=st.booleans(),
    tombstone=st.booleans(),
    conflict=st.sampled_from([None, "C.md"]),
)


@settings(max_examples=300, deadline=None)
@given(
    source=st.lists(keys, unique=True),
    state_map=st.dictionaries(keys, states_st),
    note_map=st.dictionaries(keys, st.lists(st.sampled_from([NOTE, NoteSeen("B.md", SIG)]),
                                            max_size=2, unique=True)),
    hashes=st.dictionaries(keys, st.sampled_from(["h", "h2"])),
    extra=st.sets(keys),
    recreate=st.booleans(),
)  # fmt: skip
def test_a_plan_has_one_action_per_key_decided_alone(
    source: list[str],
    state_map: dict[str, ItemState],
    note_map: dict[str, list[NoteSeen]],
    hashes: dict[str, str],
    extra: set[str],
    recreate: bool,
) -> None:
    state_map = {k: replace(s, key=k) for k, s in state_map.items()}
    actions = plan_actions(
        source_keys=source,
        input_hashes=hashes,
        states=state_map,
        notes=note_map,
        recreate=recreate,
        renamed=extra,
    )
    planned = [a.key for a in actions]
    assert len(planned) == len(set(planned))
    assert set(planned) == set(source) | set(state_map) | set(note_map)
    assert planned[: len(source)] == source  # the source's order first: deterministic writes
    for action in actions:
        alone = decide(
            action.key,
            in_source=action.key in source,
            input_hash=hashes.get(action.key),
            state=state_map.get(action.key),
            notes=note_map.get(action.key, []),
            recreate=recreate,
        )
        claims = note_map.get(action.key, [])
        if action.key in extra and alone.kind == "unchanged":
            assert action.kind == "update"
        else:
            assert action == alone  # no key's decision depends on another key
        # the guarantees the table exists for
        assert action.kind != "delete" or action.key not in source
        assert action.kind != "create" or not claims
        assert (action.kind == "duplicate") == (len(claims) > 1)

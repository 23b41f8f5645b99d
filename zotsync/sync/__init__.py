"""One sync pass, from a snapshot of Zotero to the vault; the whole algorithm on one page.

1. **Replay** (:mod:`.journal`): renames a killed pass journalled are finished, and the link
   rewrite they need, before anything else.
2. **Snapshot** (:mod:`.snapshot`, :mod:`zotsync.vault.scan`): the source's file signatures,
   the state's rows (light) and every note's ``(mtime, size, inode)``. Nothing moved since the
   last clean pass → stop here (the no-op: no note is read).
3. **Read** (:mod:`.incremental`): with a token from a clean pass, the source answers with the
   items that changed, those whose notes link to them, and (:mod:`zotsync.refs.delta`) those
   whose reference or cited-by lists they touch: the *work set*. Otherwise the whole library
   (a full pass). Both are read from one consistent snapshot.
4. **Claim** (:mod:`.former`, :mod:`.adopt_step`, :mod:`.adoption`): new items take over the
   notes of their former standalone attachment, or adopt a file another tool wrote; an
   ambiguous claim holds the item back.
5. **References**: resolved for the whole library (full) or the work set (incremental).
6. **Names, links, hashes** (:mod:`.context`): every note's path is settled (renames,
   collisions), each item's link context built from those names, and a hash of all the
   rendering depends on.
7. **Decide** (:mod:`.planner`, pure): one action per key — create, adopt, update, unchanged,
   tombstone, skip, delete, forget, duplicate — from the hash, the state row and the notes
   that claim the key, plus the pass's facts (renamed, a status set from a plan, unreadable,
   ambiguous, retired).
8. **Act** (:mod:`.actions`, :mod:`.apply`): render, then for an update the pure merge
   (:mod:`.merge`) decides each region (replace, keep, conflict) and the owned frontmatter;
   the file is written atomically only if it is still as read, backed up when it holds user
   text, renamed, or a conflict file written beside it. New notes land in durable batches.
9. **Record**: each state row only after its file landed; then the link index, the papers'
   rows, the reference identities and the source's token — the token only when every action
   succeeded, so an interrupted or failed pass is redone from the same changes.

Crash argument: every file write is a temp file renamed over the note (old or new, never
half); renames are journalled before the first; region hashes of notes about to be written are
journalled so a kill after a write is not taken for a user edit; a state row never runs ahead of
its file. The next pass therefore sees either the old note with the old row, or the new note
with a journal entry that explains it, and converges (``tests/scenarios/test_crash*.py``).
"""

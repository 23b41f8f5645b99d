"""Reading plans and index notes — the pure core; the vault and CLI wiring live elsewhere.

How a week's papers are chosen (:func:`zotsync.plan.select.select_plan`):

1. **Candidates** are papers whose frontmatter ``status`` is ``to-read`` (seeded from Zotero
   tags and the Reading List plugin's ``Read_Status:`` Extra line, then owned by the user —
   :mod:`zotsync.library.status`).
2. **Carry-over**: papers left unticked in an unfinished earlier plan come first.
3. **One topic**: ``--topic``, else last week's topic while it has candidates, else the topic
   with most candidates. Topics are tags (status/priority tags excluded) and collection
   paths; a topic includes what is nested below it.
4. **References first**: before a paper, every unread library paper it cites, from any
   topic, recursively; citation cycles are broken by year (the older paper first). These
   pulled-in papers count toward ``--count``.
5. **Rank** inside the topic: ``priority`` (1 most urgent; none = 3), then how many library
   papers cite it, then time in the queue (date added), then the item key — so the same
   inputs always give the same plan.
6. **Fill**: if the topic runs out, the next largest topic fills the plan, and it says so.

Then :mod:`~zotsync.plan.slots` puts the picks into the week's reading slots (ISO weeks from
:mod:`~zotsync.library.weeks`), :mod:`~zotsync.plan.note` renders the plan note's managed region
and reads ticks back, and :mod:`~zotsync.plan.ics` writes the calendar.
:mod:`~zotsync.index.render` renders the tag, collection and ``Papers.md`` index notes.
Modules: ``papers`` (PaperInfo, the citation graph), ``status``, ``weeks``, ``select``,
``slots``, ``note``, ``ics``, ``index``.
"""

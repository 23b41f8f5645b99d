"""What the whole library shares, whichever command reads it: the reading-status vocabulary.

It sits outside ``plan/`` because sync (seeding a note's status), indexes, discover's ranking
and the Zotero write-back all speak it, not only the planner.
"""

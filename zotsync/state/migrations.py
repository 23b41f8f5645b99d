"""Every table of the state DB, as named migrations applied in order (and recorded).

A new table or column is a new entry at the end of :data:`MIGRATIONS`; never edit an applied
one. The caches that can also live in a database of their own (tests, arXiv enrichment)
create their table through :func:`ensure_cache_table`, so its definition exists only here.
"""

from __future__ import annotations

import sqlite3

#: Semantic Scholar answers per paper (:mod:`zotsync.refs.cache`)
REFS_CACHE_TABLE = """
CREATE TABLE IF NOT EXISTS refs_cache (
    paper_id_key TEXT PRIMARY KEY,
    fetched_at TEXT NOT NULL,
    status TEXT NOT NULL,
    payload TEXT
)
"""


#: arXiv abstracts and dates per id (:mod:`zotsync.sources.enrich`)
ARXIV_METADATA_TABLE = """
CREATE TABLE IF NOT EXISTS arxiv_metadata (
    arxiv_id TEXT PRIMARY KEY,
    fetched_at TEXT NOT NULL,
    found INTEGER NOT NULL,
    abstract TEXT NOT NULL DEFAULT '',
    date TEXT NOT NULL DEFAULT ''
)
"""


#: which cached lists (``refs_cache`` rowids) mention which identifiers, hashed
#: (:mod:`zotsync.refs.cache`)
REF_MENTIONS_TABLE = """
CREATE TABLE IF NOT EXISTS ref_mentions (
    h INTEGER NOT NULL,
    list INTEGER NOT NULL,
    PRIMARY KEY (h, list)
) WITHOUT ROWID
"""


#: the web and local sources' cache of Zotero's JSON, in a file of its own
#: (:mod:`zotsync.state.object_cache`); ``meta`` there is per library partition
OBJECT_CACHE_TABLES = """
CREATE TABLE IF NOT EXISTS objects (
    part TEXT, kind TEXT, key TEXT, version INT, data TEXT,
    parent TEXT, top INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (part, kind, key)
);
CREATE TABLE IF NOT EXISTS meta (part TEXT, name TEXT, value TEXT, PRIMARY KEY (part, name))
"""


#: the caches that can also live in a database of their own (``IF NOT EXISTS``: state
#: databases made before these migrations already have them)
CACHE_TABLES = {
    "refs_cache": REFS_CACHE_TABLE,
    "arxiv_metadata": ARXIV_METADATA_TABLE,
    "ref_mentions": REF_MENTIONS_TABLE,
    "object_cache": OBJECT_CACHE_TABLES,
}


MIGRATIONS: list[tuple[str, str]] = [
    (
        "0001-initial",
        """
        CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT);
        CREATE TABLE items (
            library TEXT NOT NULL,
            key TEXT NOT NULL,
            path TEXT,
            input_hash TEXT,
            regions TEXT NOT NULL DEFAULT '{}',
            frontmatter TEXT NOT NULL DEFAULT '{}',
            mtime_ns INTEGER, size INTEGER, ino INTEGER,
            title TEXT,
            tombstone INTEGER NOT NULL DEFAULT 0,
            deleted INTEGER NOT NULL DEFAULT 0,
            conflict TEXT,
            PRIMARY KEY (library, key)
        );
        CREATE TABLE runs (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            at TEXT NOT NULL, kind TEXT NOT NULL, counts TEXT NOT NULL, errors TEXT NOT NULL
        );
        CREATE TABLE files (
            path TEXT PRIMARY KEY, kind TEXT, hash TEXT, mtime_ns INTEGER, size INTEGER, ino INTEGER
        );
        """,
    ),
    (
        "0002-papers",
        """
        CREATE TABLE papers (
            library TEXT NOT NULL,
            key TEXT NOT NULL,
            date_added TEXT,
            refs TEXT NOT NULL DEFAULT '[]',
            note_sig TEXT,
            note_meta TEXT,
            PRIMARY KEY (library, key)
        );
        """,
    ),
    (
        # which notes zotsync named (only those follow title changes) and, for notes adopted
        # from another tool, the owned frontmatter keys whose values stay the user's
        "0003-adoption",
        """
        ALTER TABLE items ADD COLUMN named INTEGER NOT NULL DEFAULT 1;
        ALTER TABLE items ADD COLUMN user_keys TEXT NOT NULL DEFAULT '[]';
        """,
    ),
    (
        # the renames a pass is about to make, written before the first one: a pass killed
        # between a rename and its link rewrite leaves the rewrite to the next start; and the
        # region hashes of a note about to be written, so a pass killed between the write and
        # the state row still knows the note's regions for its own (sync/journal.py)
        "0004-journals",
        """
        CREATE TABLE pending_writes (
            library TEXT NOT NULL,
            key TEXT NOT NULL,
            regions TEXT NOT NULL,
            PRIMARY KEY (library, key)
        );
        CREATE TABLE rename_journal (
            seq INTEGER PRIMARY KEY AUTOINCREMENT,
            library TEXT NOT NULL,
            old_path TEXT NOT NULL,
            new_path TEXT NOT NULL
        );
        INSERT INTO rename_journal (library, old_path, new_path)
            SELECT '', json_extract(j.value, '$[0]'), json_extract(j.value, '$[1]')
            FROM meta, json_each(meta.value) AS j WHERE meta.key = 'pending_renames';
        DELETE FROM meta WHERE key = 'pending_renames';
        """,
    ),
    ("0005-refs-cache-table", REFS_CACHE_TABLE),
    ("0006-arxiv-metadata-table", ARXIV_METADATA_TABLE),
    (
        "0007-link-index",
        # who links to whom (related items, citations in child notes), so an incremental pass
        # re-renders the notes that name an item whose note appeared, moved or went away
        """
        CREATE TABLE links (
            library TEXT NOT NULL,
            src TEXT NOT NULL,
            dst TEXT NOT NULL,
            PRIMARY KEY (library, src, dst)
        );
        CREATE INDEX links_dst ON links (library, dst);
        """,
    ),
    (
        "0008-vault-link-index",
        # the vault's own links: which files name which notes (sync/link_index.py)
        """
        CREATE TABLE vault_files (path TEXT PRIMARY KEY, mtime_ns INTEGER, size INTEGER, ino INTEGER);
        CREATE TABLE vault_links (path TEXT NOT NULL, name TEXT NOT NULL, PRIMARY KEY (path, name));
        CREATE INDEX vault_links_name ON vault_links (name);
        """,
    ),
    (
        "0009-reference-identities",
        # what each item is known as to reference matching (state/ref_index.py), so an
        # incremental pass can resolve references without the whole library
        """
        CREATE TABLE ref_idents (
            library TEXT NOT NULL,
            key TEXT NOT NULL,
            ord INTEGER NOT NULL,
            ck TEXT,
            s2 TEXT,
            doi TEXT,
            arxiv TEXT,
            ntitle TEXT NOT NULL,
            year INTEGER,
            why TEXT NOT NULL DEFAULT '',
            PRIMARY KEY (library, key)
        );
        CREATE INDEX ref_idents_ck ON ref_idents (library, ck);
        """,
    ),
    ("0010-reference-mentions", REF_MENTIONS_TABLE),
    (
        "0011-items-by-path",
        # the item whose note is at a path: asked per rewritten file by a rename's link rewrite
        # and per vault event by the daemon (is this zotsync's own write?); without an index
        # each question read the whole table (14 ms at 10,000 items, 60 ms at 40,000)
        "CREATE INDEX items_path ON items (library, path);",
    ),
]


def ensure_cache_table(conn: sqlite3.Connection, name: str) -> None:
    """Create one of :data:`CACHE_TABLES` on a bare connection (a state DB has it already)."""
    for statement in CACHE_TABLES[name].split(";"):
        if statement.strip():
            conn.execute(statement)

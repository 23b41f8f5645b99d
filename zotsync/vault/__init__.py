"""The vault layer: everything that touches a user's Markdown files, byte-exact.

The guarantee "no user text is ever lost" lives here. Nothing in this package rebuilds a note
from parts; every change is a splice into the original string:

* :mod:`~zotsync.vault.regions` — parse ``%% zotsync:begin NAME %%`` … ``%% zotsync:end NAME %%``
  regions, replace or insert their content, and extract the user's text for invariant checks;
* :mod:`~zotsync.vault.frontmatter` — read YAML (dates stay strings), set/remove owned keys by
  replacing only their lines, merge owned keys by policy (replace / append / keep);
* :mod:`~zotsync.vault.names` — OS- and wikilink-safe note names, collision handling;
* :mod:`~zotsync.vault.links` — rewrite every link form to a renamed note, never inside code;
* :mod:`~zotsync.vault.atomic` — temp + fsync + signature check + replace; backups; confinement;
* :mod:`~zotsync.vault.lock` — one writer per vault through an OS lock;
* :mod:`~zotsync.vault.scan` — find notes by their ``zotero-key``, without opening unchanged files.

Pure functions over strings everywhere except ``atomic``, ``lock`` and ``scan``, the I/O edges.
"""

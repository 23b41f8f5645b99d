"""Find the Zotero data directory and tell which Zotero release wrote a database.

Zotero keeps its data in ``~/Zotero`` unless the user chose another folder; that choice lives in
the profile's ``prefs.js`` as ``extensions.zotero.dataDir`` (honoured when
``extensions.zotero.useDataDir`` is true). Profiles are under ``~/.zotero/zotero/*/`` (Linux),
``~/Library/Application Support/Zotero/Profiles/*/`` (macOS) and
``%APPDATA%/Zotero/Zotero/Profiles/*/`` (Windows). ``$HOME`` (and ``%APPDATA%``) are read from
the environment on every call so tests can point them at a temporary folder.
"""

from __future__ import annotations

import json
import os
import re
import sqlite3
import tempfile
from pathlib import Path

from zotsync.errors import SourceUnavailable
from zotsync.sources.sqlite import snapshot

_PREF = re.compile(r'^\s*user_pref\(\s*"([^"]+)"\s*,\s*(.+?)\s*\)\s*;\s*$', re.MULTILINE)

#: ``userdata`` schema version -> Zotero release (facts §0; 120/121 are both Zotero 6.0.x)
_RELEASES = ((121, "6.0"), (123, "7.0–8.0"), (125, "9.0"), (129, "10.0"))


def _home() -> Path:
    return Path(os.environ.get("HOME") or Path.home())


def profile_prefs(home: Path | None = None) -> list[Path]:
    """Every Zotero profile ``prefs.js`` on this machine (all platforms' places are tried)."""
    home = home or _home()
    roots = [
        home / ".zotero" / "zotero",
        home / "Library" / "Application Support" / "Zotero" / "Profiles",
    ]
    appdata = os.environ.get("APPDATA")
    roots.append(
        Path(appdata) / "Zotero" / "Zotero" / "Profiles"
        if appdata
        else home / "AppData" / "Roaming" / "Zotero" / "Zotero" / "Profiles"
    )
    found: list[Path] = []
    for root in roots:
        if root.is_dir():
            found.extend(sorted(root.glob("*/prefs.js")))
    return found


def read_prefs(path: Path) -> dict[str, object]:
    """``user_pref("name", value);`` lines of a ``prefs.js`` (values parsed as JSON literals)."""
    prefs: dict[str, object] = {}
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return prefs
    for name, raw in _PREF.findall(text):
        try:
            prefs[name] = json.loads(raw)
        except ValueError:
            prefs[name] = raw
    return prefs


def find_zotero_db(home: Path | None = None) -> Path | None:
    """The user's ``zotero.sqlite``: ``~/Zotero`` first, else the profile's custom data dir."""
    home = home or _home()
    default = home / "Zotero" / "zotero.sqlite"
    if default.is_file():
        return default
    for prefs_file in profile_prefs(home):
        prefs = read_prefs(prefs_file)
        data_dir = prefs.get("extensions.zotero.dataDir")
        if (
            prefs.get("extensions.zotero.useDataDir") is True
            and isinstance(data_dir, str)
            and data_dir
        ):
            candidate = Path(data_dir).expanduser() / "zotero.sqlite"
            if candidate.is_file():
                return candidate
    return None


def release_for_userdata(userdata: int) -> str:
    """Zotero release(s) that write ``userdata`` (e.g. 123 -> ``"7.0–8.0"``)."""
    if userdata < 120:
        return "5.0 or older"
    for schema, release in _RELEASES:
        if userdata <= schema:
            return release
    return _RELEASES[-1][1] + "+"


def zotero_version(db: str | Path) -> str:
    """Which Zotero wrote ``db``, from a snapshot's ``version`` table, e.g. ``"10.0 (userdata 129)"``."""
    with tempfile.TemporaryDirectory(prefix="zotsync-ver-") as tmp:
        copy = snapshot(Path(db), Path(tmp))
        try:
            conn = sqlite3.connect(copy.as_uri() + "?mode=rw", uri=True)
            try:
                row = conn.execute(
                    "SELECT version FROM version WHERE schema = 'userdata'"
                ).fetchone()
            finally:
                conn.close()
        except sqlite3.DatabaseError as exc:
            raise SourceUnavailable(
                f"{db} is not a readable Zotero database ({exc})",
                fix="point --zotero-db at the zotero.sqlite in your Zotero data directory",
            ) from exc
    if row is None:
        raise SourceUnavailable(
            f"{db} has no userdata version row", fix="is this a Zotero database?"
        )
    userdata = int(row[0])
    return f"{release_for_userdata(userdata)} (userdata {userdata})"

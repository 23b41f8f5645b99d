"""The vault as every command finds it: checked, configured, its state DB opened.

One home for the plumbing each command needs before it works (issue 13: it used to sit in the
``api`` facade, which every lower module then imported). A failed run records nothing: the
source options are written to ``zotsync.yaml`` only after success.
"""

from __future__ import annotations

import os
import re
import shutil
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from zotsync.config import CONFIG_NAME, Config, load_config, parse_config
from zotsync.config_record import set_config_keys
from zotsync.errors import ConfigError, SourceUnavailable, ZotsyncError
from zotsync.state.db import StateDB
from zotsync.vault.atomic import file_sig, write_atomic
from zotsync.vault.confine import confine, user_named
from zotsync.vault.layout import STATE_DIR, state_dir


@dataclass
class SourceOptions:
    """Source choices from the command line; recorded in zotsync.yaml when given."""

    source: str | None = None
    zotero_db: str | None = None
    bbt_json: str | None = None
    library: str | None = None
    collections: list[str] = field(default_factory=list)
    bibtex: str | None = None
    csl_json: str | None = None

    def updates(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.source:
            out["source"] = self.source
        if self.zotero_db:
            out["zotero_db"] = str(Path(self.zotero_db).expanduser().resolve())
            out.setdefault("source", "sqlite")
        if self.bbt_json:
            out["bbt_json"] = str(Path(self.bbt_json).expanduser().resolve())
            out.setdefault("source", "bbt-json")
        for key, kind in (("bibtex", "bibtex"), ("csl_json", "csl-json")):
            value = getattr(self, key)
            if value:
                out[key] = str(Path(value).expanduser().resolve())
                out.setdefault("source", kind)
        if self.library:
            out["library"] = self.library
        if self.collections:
            out["collections"] = list(self.collections)
        return out


def open_state(vault: Path, *, readonly: bool = False) -> StateDB:
    """The vault's state DB, confined to the vault; ``readonly``: an in-memory copy (status,
    dry runs), so a read-only command creates no file."""
    path = state_dir(vault) / "state.sqlite"
    confine(vault, path, action="read" if readonly else "write")
    return StateDB(path, readonly=readonly)


def is_vault(vault: Path) -> bool:
    """A zotsync vault holds ``zotsync.yaml`` or the ``.zotsync/`` state folder."""
    return (vault / CONFIG_NAME).is_file() or (vault / STATE_DIR).is_dir()


def check_vault(vault: Path, *, existing: bool = False) -> Path:
    """The vault must exist and be a folder; say how to create one otherwise.

    ``existing``: it must already be a zotsync vault (read-only commands, which must not
    create one by looking at a folder).
    """
    if not vault.exists():
        raise ConfigError([f"vault {vault} does not exist; create it with `zotsync init {vault}`"])
    if not vault.is_dir():
        raise ConfigError([f"vault {vault} is not a folder"])
    if existing and not is_vault(vault):
        raise ConfigError(
            [
                f"{vault} is not a zotsync vault (no {CONFIG_NAME}); create one with "
                f"`zotsync init {vault}` or pass --vault PATH"
            ]
        )
    return vault.resolve()


def configure(
    vault: Path, config_path: Path | None, opts: SourceOptions | None, *, record: bool = True
) -> Config:
    """Load the config, recording source options given on the command line.

    PRODUCT: the source given to ``init`` or ``sync`` is recorded in ``zotsync.yaml``, so later
    runs need only ``--vault``. The file is rewritten only when a value differs, and only the
    lines of those keys (comments and everything else are kept). ``record=False`` (a dry run,
    which writes nothing) applies the options for this run only.
    """
    updates = opts.updates() if opts else {}
    if not updates:
        return load_config(vault, config_path)
    path = config_path or vault / CONFIG_NAME
    text = load_config_text(path)
    keyed = {}
    for key, value in updates.items():
        snake_used = re.search(rf"^{re.escape(key)}\s*:", text, re.MULTILINE) is not None
        keyed[key if snake_used else key.replace("_", "-")] = value
    new_text = set_config_keys(text, keyed)
    config = parse_config(new_text, path=str(path))
    if new_text != text and record:
        record_config(path, text, new_text)
    return config


def load_config_text(path: Path) -> str:
    """The config file's text ("" when absent); a clear error when it cannot be read."""
    if not path.exists():
        return ""
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError([f"{path} cannot be read: {exc}"], path=str(path)) from None


def record_config(path: Path, old_text: str, new_text: str) -> None:
    """Write the recorded source options, unless the file changed since it was read."""
    if load_config_text(path) != old_text:
        return  # the user edited it meanwhile: theirs wins, the options apply to this run only
    with user_named(path):  # `--config PATH` may lie outside the vault (PRODUCT: allowed)
        write_atomic(path, new_text.encode("utf-8"), expect=file_sig(path))


def record_after_success(vault: Path, config_path: Path | None, opts: SourceOptions | None) -> None:
    """PRODUCT: the source options are recorded only after a run that succeeded with them."""
    if opts is not None and opts.updates():
        configure(vault, config_path, opts, record=True)


# sources read from a file the user names: (config attribute, option, what it is)
SOURCE_FILES = {
    "sqlite": ("zotero_db", "--zotero-db", "Zotero database"),
    "bbt-json": ("bbt_json", "--bbt-json", "Better BibTeX export"),
    "bibtex": ("bibtex", "--bibtex", "BibTeX file"),
    "csl-json": ("csl_json", "--csl-json", "CSL-JSON export"),
}


def check_source_inputs(config: Config) -> None:
    """Refuse an unusable source input before anything is opened or written.

    A folder, FIFO or device named as the database or export would give a raw OS error or
    block forever on read; an API key that is not printable ASCII would fail deep inside the
    HTTP client. Each gets one line with the fix instead.
    """
    spec = SOURCE_FILES.get(config.source)
    value = getattr(config, spec[0], None) if spec else None
    if spec and value:
        _check_input_file(Path(value).expanduser(), spec[1], spec[2])
    if config.source == "web":
        from zotsync.sources.credentials import api_key

        _check_api_key(api_key())


def _check_input_file(path: Path, option: str, what: str) -> None:
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        raise SourceUnavailable(
            f"{what} not found: {path}", fix=f"check the path given to {option} (or zotsync.yaml)"
        ) from None
    except OSError as exc:
        raise SourceUnavailable(
            f"cannot read the {what} {path}: {exc.strerror}",
            fix="check the path and its permissions",
        ) from None
    if not stat.S_ISREG(mode):
        raise SourceUnavailable(
            f"the {what} {path} is not a file (a folder, FIFO or device)",
            fix=f"give {option} the path of the file itself",
        )
    try:
        with open(path, "rb") as handle:
            handle.read(1)
    except OSError as exc:
        raise SourceUnavailable(
            f"cannot read the {what} {path}: {exc.strerror or exc}",
            fix="check the file's permissions (zotsync needs to read it)",
        ) from None


def _check_api_key(key: str | None) -> None:
    where = "https://www.zotero.org/settings/keys"
    if not key:
        raise ZotsyncError(
            "no Zotero API key for the web source",
            fix=f"set ZOTERO_API_KEY (create a key at {where}), or store it in the OS keyring",
        )
    if not re.fullmatch(r"[\x21-\x7e]+", key):
        raise ZotsyncError(
            "ZOTERO_API_KEY is not a valid Zotero API key (it holds spaces, control or non-ASCII "
            "characters)",
            fix=f"copy the key again from {where} into ZOTERO_API_KEY",
        )


def forget_fresh_state(vault: Path) -> None:
    """A first run that failed before writing a note leaves no ``.zotsync/`` behind.

    Only when it holds nothing but what this run created (lock, state DB, caches): backups
    or trash mean notes were touched, and those are kept.
    """
    folder = state_dir(vault)
    ours = {"lock", "lock.json", "state.sqlite", "state.sqlite-wal", "state.sqlite-shm", "cache"}
    try:
        names = {entry.name for entry in os.scandir(folder)}
    except OSError:
        return
    if names <= ours and not folder.is_symlink():
        shutil.rmtree(folder, ignore_errors=True)

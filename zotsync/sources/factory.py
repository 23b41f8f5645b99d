"""The configured source, built from ``zotsync.yaml`` (``source:`` and its options)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from zotsync.config import Config
from zotsync.errors import ConfigError, SourceUnavailable
from zotsync.sources import Source
from zotsync.vault.layout import state_dir


def make_source(config: Config, vault: Path, *, long_lived: bool = False) -> Source:
    """Build the configured source; a ``long_lived`` one (the daemon's) may keep copies."""
    kind = config.source
    cache = state_dir(vault) / "cache"
    if kind == "demo":
        from zotsync.sources.demo import DemoSource

        return DemoSource()
    if kind == "sqlite":
        from zotsync.sources.datadir import find_zotero_db
        from zotsync.sources.sqlite import SqliteSource

        db = Path(config.zotero_db).expanduser() if config.zotero_db else find_zotero_db()
        if db is None:
            raise SourceUnavailable(
                "no Zotero database found (looked in ~/Zotero and the Zotero profile's data dir)",
                fix="pass --zotero-db /path/to/zotero.sqlite, or choose another --source",
            )
        return SqliteSource(
            db,
            library=_library_ref(config.library),
            collections=config.collections,
            keep_copy=long_lived,
        )
    if kind == "bbt-json":
        from zotsync.sources.bbt_json import BbtJsonSource

        if not config.bbt_json:
            raise ConfigError(["bbt-json: the source bbt-json needs --bbt-json PATH"])
        return BbtJsonSource(Path(config.bbt_json).expanduser())
    if kind in ("bibtex", "csl-json"):
        option = "bibtex" if kind == "bibtex" else "csl_json"
        path = getattr(config, option)
        if not path:
            flag = option.replace("_", "-")
            raise ConfigError([f"{flag}: the source {kind} needs --{flag} PATH"])
        if kind == "bibtex":
            try:
                from zotsync.sources.bibtex import BibtexSource
            except ImportError:  # bibtexparser 1 (pyzotero's pin) instead of 2
                raise SourceUnavailable(
                    "the bibtex source needs bibtexparser 2",
                    fix="pip install --no-deps 'bibtexparser>=2.0,<3'",
                ) from None
            return BibtexSource(Path(path).expanduser())
        from zotsync.sources.csl_json import CslJsonSource

        return CslJsonSource(Path(path).expanduser())
    if kind == "web":
        from zotsync.sources.credentials import api_key
        from zotsync.sources.web import WebSource

        return WebSource(
            config.library,
            api_key=api_key(),
            cache_dir=cache / "web",
            collections=config.collections,
        )
    if kind == "local":
        from zotsync.sources.local import LocalSource

        return LocalSource(cache / "local", library=config.library, collections=config.collections)
    raise ConfigError([f"source: unknown source {kind!r}"])


def _library_ref(label: str) -> Any:
    from zotsync.model import LibraryRef

    if label.startswith("group:"):
        return LibraryRef("group", int(label.split(":", 1)[1]))
    return None

"""``zotsync init``: a vault from the packaged template; never overwrites a file."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from zotsync.config import CONFIG_NAME, parse_config
from zotsync.config_record import set_config_keys
from zotsync.errors import ConfigError
from zotsync.render.templates import packaged_vault_template
from zotsync.vault.atomic import write_atomic
from zotsync.vault.confine import confine
from zotsync.workspace import (
    SourceOptions,
    configure,
    state_dir,
)


@dataclass
class InitResult:
    vault: Path
    created: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)


def init_vault(vault: Path, source_options: SourceOptions | None = None) -> InitResult:
    """Create a vault from the packaged template; never overwrite an existing file.

    Every file and folder is checked by the confinement rule first, so a folder of an
    existing vault that links elsewhere is refused instead of filled.
    """
    vault = vault.expanduser()
    if vault.exists() and not vault.is_dir():
        raise ConfigError(
            [f"{vault} exists and is not a folder; choose a new or existing folder for the vault"]
        )
    updates = source_options.updates() if source_options else {}
    if updates:  # a bad option is refused before anything is created
        parse_config(set_config_keys("", updates))
    try:
        vault.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError([f"cannot create the vault folder {vault}: {exc.strerror}"]) from None
    result = InitResult(vault.resolve())
    template = packaged_vault_template()
    for src in sorted(template.rglob("*")):
        rel = src.relative_to(template)
        if "__pycache__" in rel.parts:
            continue
        dest = vault / rel
        if src.is_dir():
            confine(vault, dest)
            dest.mkdir(parents=True, exist_ok=True)
            continue
        if rel.name == "zotsync.example.yaml":
            dest = vault / CONFIG_NAME
        if os.path.lexists(dest):
            result.kept.append(str(dest.relative_to(vault)))
            continue
        confine(vault, dest)
        dest.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(dest, src.read_bytes(), expect=None)
        result.created.append(str(dest.relative_to(vault)))
    confine(vault, state_dir(vault))
    state_dir(vault).mkdir(exist_ok=True)
    config = configure(vault, None, source_options)
    # the starter folders (git keeps no empty folders, so the template cannot carry them)
    for folder in (
        config.papers_folder,
        config.plan.folder,
        config.index.tags_folder,
        config.index.collections_folder,
        config.discover.folder,
        config.attachments_folder,
    ):
        target = vault / folder
        if not target.exists():
            confine(vault, target)
            target.mkdir(parents=True, exist_ok=True)
            result.created.append(folder.rstrip("/") + "/")
    return result

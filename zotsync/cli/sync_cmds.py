"""``init``, ``demo``, ``sync`` and ``status``."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from zotsync import api
from zotsync.cli.common import Ctx, common_options, target_vault
from zotsync.errors import EXIT_CONFLICT, EXIT_OK, EXIT_PARTIAL
from zotsync.sync.engine import SyncOptions, SyncResult

SOURCES = click.Choice(["sqlite", "local", "web", "bbt-json", "bibtex", "csl-json", "demo"])
_SOURCE_CHOICE = "zotsync.source_choice"
_PATH = click.Path(path_type=Path)
#: the source options of ``init``, ``sync``, ``watch`` and ``adopt`` (recorded in zotsync.yaml)
_SOURCE_OPTIONS: list[tuple[tuple[str, ...], dict[str, Any]]] = [
    (("--source",), {"type": SOURCES, "help": "Where to read the library from."}),
    (("--zotero-db",), {"type": _PATH, "help": "Path of zotero.sqlite (sqlite source)."}),
    (("--bbt-json",), {"type": _PATH, "help": "Better BibTeX JSON export file."}),
    (("--bibtex",), {"type": _PATH, "help": "BibTeX/BibLaTeX file (bibtex source)."}),
    (("--csl-json",), {"type": _PATH, "help": "CSL-JSON export file (csl-json source)."}),
    (("--library",), {"help": "user, user:ID or group:ID (web/local sources)."}),
    (
        ("--collection", "collections"),
        {"multiple": True, "help": "Only this collection (and its subcollections); repeatable."},
    ),
]


def _remember(ctx: click.Context, param: click.Parameter, value: Any) -> None:
    """Keep a source option in the click context: the commands take none of them as
    parameters, and read them all at once with :func:`chosen_source`."""
    if param.name:
        ctx.meta.setdefault(_SOURCE_CHOICE, {})[param.name] = value


def source_options(func: Any) -> Any:
    """The source options, in the order ``--help`` lists them."""
    for names, settings in reversed(_SOURCE_OPTIONS):
        func = click.option(*names, expose_value=False, callback=_remember, **settings)(func)
    return func


def chosen_source() -> api.SourceOptions:
    """The source options given on this command line."""
    click_ctx = click.get_current_context(silent=True)
    given: dict[str, Any] = click_ctx.meta.get(_SOURCE_CHOICE, {}) if click_ctx else {}

    def path(name: str) -> str | None:
        value = given.get(name)
        return str(value) if value else None

    return api.SourceOptions(
        source=given.get("source"),
        zotero_db=path("zotero_db"),
        bbt_json=path("bbt_json"),
        library=given.get("library"),
        collections=list(given.get("collections") or ()),
        bibtex=path("bibtex"),
        csl_json=path("csl_json"),
    )


@click.command("init")
@click.argument("vault_dir", type=click.Path(path_type=Path), required=False)
@source_options
@common_options
def init_cmd(
    ctx: Ctx,
    vault_dir: Path | None,
) -> int:
    """Create a vault from the starter template (never overwrites a file) and write zotsync.yaml."""
    vault_dir = target_vault(ctx, vault_dir)
    result = api.init_vault(vault_dir, chosen_source())
    if ctx.json:
        ctx.emit({"vault": str(result.vault), "created": result.created, "kept": result.kept})
    else:
        ctx.out(
            f"vault ready at {result.vault}: {len(result.created)} files created, "
            f"{len(result.kept)} existing files kept"
        )
        ctx.out(f"next: zotsync sync --vault {vault_dir}")
    return EXIT_OK


def _progress_bar(ctx: Ctx) -> tuple[Any, Any]:
    if ctx.quiet or ctx.json:
        return None, None
    state: dict[str, Any] = {}

    def progress(done: int, total: int) -> None:
        if total < 500:
            return
        bar: Any = state.get("bar")
        if bar is None:
            make_bar: Any = click.progressbar  # click's overloads confuse mypy here
            bar = make_bar(length=total, label="syncing", file=sys.stderr)
            bar.__enter__()
            state["bar"] = bar
        bar.update(done - state.get("done", 0))
        state["done"] = done

    def close() -> None:
        if "bar" in state:
            state["bar"].__exit__(None, None, None)

    return progress, close


def sync_summary(report: api.SyncReport) -> dict[str, Any]:
    data: dict[str, Any] = report.result.counts()
    data["errors"] = report.result.errors
    data["conflict_paths"] = report.result.conflict_paths
    data["refs_pending"] = report.refs_pending
    data["index_written"] = report.index_written
    data["ambiguous"] = report.result.ambiguous
    return data


def sync_exit_code(result: SyncResult) -> int:
    """4 when the pass left a conflict for the user (it needs them more than a failed item
    does), else 1 when an item failed, else 0 — the contract's codes (PRODUCT.md)."""
    if (
        result.conflicts or result.ambiguous or result.conflicts_open
    ):  # an ambiguous adoption claim needs them too
        return EXIT_CONFLICT
    return EXIT_PARTIAL if result.failed else EXIT_OK


def summary_line(c: dict[str, int]) -> str:
    """The human summary: the item counts add up to ``items``; deletions are told apart."""
    line = (
        f"{c['items']} items: {c['created']} created, {c['updated']} updated, "
        f"{c['renamed']} renamed, {c['unchanged']} unchanged"
    )
    if c["tombstoned"]:
        line += f", {c['tombstoned']} without a note (you deleted it; `sync --recreate`)"
    if c["trashed"]:
        line += f"; {c['trashed']} deleted in Zotero (notes marked or moved to the trash)"
    if c["conflicts"]:
        line += f"; {c['conflicts']} conflicts"
    elif c.get("conflicts_open"):
        line += (
            f"; {c['conflicts_open']} conflicts still open (merge the conflict file into the"
            " note's region, or `sync --overwrite-conflicts`)"
        )
    if c["failed"]:
        line += f"; {c['failed']} failed"
    return line


#: the sync command's on/off switches, in --help order
SYNC_FLAGS = (
    ("--dry-run", "Print the plan of actions; write nothing."),
    ("--no-refs", "Fetch no reference lists or arXiv data this time; notes keep what they show."),
    ("--force-delete", "Allow a sync that would delete most notes."),
    ("--recreate", "Recreate notes you deleted."),
    ("--overwrite-conflicts",
     "Replace managed regions you edited with zotsync's version (backups are kept)."),
    ("--full", "Re-read everything even if nothing seems changed."),
)  # fmt: skip


def _flags(command: Callable[..., Any]) -> Callable[..., Any]:
    for name, text in reversed(SYNC_FLAGS):  # click lists options in decorator order
        command = click.option(name, is_flag=True, help=text)(command)
    return command


@click.command("sync")
@source_options
@_flags
@common_options
def sync_cmd(
    ctx: Ctx,
    dry_run: bool,
    no_refs: bool,
    force_delete: bool,
    recreate: bool,
    overwrite_conflicts: bool,
    full: bool,
) -> int:
    """One incremental sync pass from Zotero into the vault."""
    vault = ctx.resolve_vault()
    opts = chosen_source()
    progress, close = _progress_bar(ctx)
    try:
        report = api.sync(
            vault,
            config_path=ctx.config,
            source_options=opts,
            options=SyncOptions(
                dry_run=dry_run,
                force_delete=force_delete,
                recreate=recreate,
                overwrite_conflicts=overwrite_conflicts,
                full=full,
            ),
            fetch_refs=not no_refs,
            progress=progress,
        )
    finally:
        if close:
            close()
    result = report.result
    if ctx.json:
        data = sync_summary(report)
        if dry_run:
            data["actions"] = result.actions
        ctx.emit(data)
    else:
        if dry_run:
            for action in result.actions:
                ctx.out(f"{action['action']:>10}  {action['path']}")
            ctx.out("(dry run: nothing written)")
        ctx.out(
            summary_line(result.counts())
            + (f"; {result.adopted} adopted" if result.adopted else "")
            + (f"; {len(result.ambiguous)} ambiguous" if result.ambiguous else "")
        )
        for amb in result.ambiguous:
            click.echo(f"ambiguous: {amb['message']} (see `zotsync adopt`)", err=True)
        for path in result.conflict_paths:
            ctx.out(
                f"conflict: {path} — your edit to a managed region was kept; "
                "zotsync's version is beside it"
            )
        for error in result.grouped_errors():
            click.echo(f"failed: {error}", err=True)
        if report.refs_pending:
            ctx.out(f"references pending for {report.refs_pending} items (fetched on a later run)")
    return sync_exit_code(result)


@click.command("demo")
@click.argument("vault_dir", type=click.Path(path_type=Path), required=False)
@common_options
def demo_cmd(ctx: Ctx, vault_dir: Path | None) -> int:
    """Build a demo vault from the bundled library: offline, no Zotero needed."""
    from zotsync import api as planning

    vault_dir = target_vault(ctx, vault_dir)
    result = planning.build_demo(vault_dir)
    if ctx.json:
        ctx.emit(result)
    else:
        ctx.out(f"demo vault written to {result['vault']}")
        ctx.out(
            f"  {result['notes']} paper notes in Papers/, "
            f"{result['reference_links']} reference links between them"
        )
        ctx.out(f"  reading plan: {result['plan']}")
        ctx.out("  browse: Home.md, Papers.md, Tags/, Collections/")
        ctx.out("open the folder as a vault in Obsidian to follow the links and the graph")
    return EXIT_OK


@click.command("status")
@common_options
def status_cmd(ctx: Ctx) -> int:
    """Last sync, counts, conflicts, errors and whether a daemon is running."""
    from zotsync import api as planning

    data = planning.status(ctx.resolve_vault())
    if ctx.json:
        ctx.emit(data)
        return EXIT_OK
    daemon = data["daemon"]
    ctx.out(
        f"daemon: {'running, pid ' + str(daemon['pid']) + ' since ' + str(daemon['started']) if daemon else 'not running'}"
    )
    last = data["last_sync"]
    if last:
        ctx.out(
            f"last sync: {last['at']} — {last['created']} created, {last['updated']} updated, "
            f"{last['failed']} failed"
        )
        for err in last.get("errors", [])[:10]:
            ctx.out(f"  error: {err}")
    else:
        ctx.out("last sync: never")
    ctx.out(f"syncs run: {data['syncs_total']}")
    ctx.out(f"conflicts: {data['conflicts']}")
    ctx.out(
        f"items without references: {data['missing_refs']}"
        + (
            f" ({', '.join(f'{k}: {v}' for k, v in data['missing_refs_reasons'].items())})"
            if data.get("missing_refs_reasons")
            else ""
        )
    )
    if data.get("next_plan"):
        ctx.out(f"next weekly plan: {data['next_plan']}")
    if data.get("automatic_tags_hint"):
        ctx.out(f"tags: {data['automatic_tags_hint']}")
    return EXIT_OK

"""``discover`` and ``add``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from zotsync.cli.common import Ctx, common_options
from zotsync.errors import EXIT_OK, ZotsyncError


@click.command("discover")
@click.option("--days", type=click.IntRange(min=1), help="How far back (default 7).")
@click.option(
    "--category", "categories", multiple=True, help="arXiv category, e.g. cs.CL; repeatable."
)
@click.option("--query", "queries", multiple=True, help="arXiv search query; repeatable.")
@click.option(
    "--top", type=click.IntRange(min=1), help="How many papers in the inbox (default 20)."
)
@common_options
def discover_cmd(
    ctx: Ctx,
    days: int | None,
    categories: tuple[str, ...],
    queries: tuple[str, ...],
    top: int | None,
) -> int:
    """Rank new arXiv papers by similarity to your library; write Inbox/<week>.md."""
    from zotsync.commands import keeping_up

    result = keeping_up.discover(
        ctx.resolve_vault(),
        config_path=ctx.config,
        categories=list(categories),
        queries=list(queries),
        days=days,
        top=top,
    )
    if ctx.json:
        ctx.emit(result.to_json())
        return EXIT_OK
    data: dict[str, Any] = result.to_json()
    ctx.out(f"{data['path']}: {len(data['papers'])} papers")
    for paper in data["papers"]:
        ctx.out(f"  {paper['score']:.2f}  {paper['arxiv']}  {paper['title']}")
    ctx.out("tick the ones you want, then: zotsync add --from-inbox")
    return EXIT_OK


@click.command("add")
@click.argument("ids", nargs=-1)
@click.option("--from-inbox", is_flag=True, help="Add the ticked entries of the inbox notes.")
@click.option("--collection", help="Zotero collection to add to.")
@click.option("--tag", "tags", multiple=True, help="Tag for the new items (default to-read).")
@common_options
def add_cmd(
    ctx: Ctx, ids: tuple[str, ...], from_inbox: bool, collection: str | None, tags: tuple[str, ...]
) -> int:
    """Add papers to Zotero by arXiv id or DOI (through the desktop, else the web API)."""
    from zotsync.commands import keeping_up

    try:
        vault: Path | None = ctx.resolve_vault()
    except ZotsyncError:
        if from_inbox or ctx.vault is not None:
            raise
        vault = None  # ids alone can be added without a vault (no inbox to mark)
    result = keeping_up.add(
        vault,
        list(ids),
        config_path=ctx.config,
        from_inbox=from_inbox,
        collection=collection,
        tags=list(tags) or None,
    )
    if ctx.json:
        ctx.emit(result.to_json())
    else:
        for added in result.added:
            ctx.out(f"added {added.id}: {added.title}")
        for item_id, reason in result.skipped:
            ctx.out(f"skipped {item_id}: {reason}")
        if result.added:
            ctx.out("the next sync writes their notes")
        if from_inbox and not ids and not result.added and not result.skipped:
            ctx.out("nothing ticked in the inbox notes: tick a box, then run this again")
    return result.exit_code

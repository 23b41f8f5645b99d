"""``zotsync adopt``: show which existing notes the next sync adopts (read only)."""

from __future__ import annotations

import click

from zotsync.cli.common import Ctx, common_options
from zotsync.cli.sync_cmds import chosen_source, source_options
from zotsync.errors import EXIT_CONFLICT, EXIT_OK


@click.command("adopt")
@source_options
@click.option(
    "--dry-run",
    is_flag=True,
    default=True,
    help="Only list (the default: the next sync does the adopting).",
)
@common_options
def adopt_cmd(ctx: Ctx, dry_run: bool) -> int:
    """List the existing notes (Citations, Zotero Integration, ZotLit, mdnotes, PaperForge…)
    the next sync adopts for which items, on what evidence, and every ambiguous claim.

    Writes nothing. Exits 4 when a claim is ambiguous: the next sync creates nothing for those
    items until one file per paper is left.
    """
    from zotsync.commands.adopt import preview

    report = preview(
        ctx.resolve_vault(),
        config_path=ctx.config,
        source_options=chosen_source(),
    )
    if ctx.json:
        ctx.emit(report.as_dict())
    else:
        for match in report.adopt:
            title = report.titles.get(match.key, "")
            ctx.out(f"adopt  {match.key}  {match.path}  ({', '.join(match.evidence)})  {title}")
        for amb in report.ambiguous:
            ctx.out(f"ambiguous  {amb.why}:")
            for key, path, evidence in amb.links:
                ctx.out(f"    {key}  {path}  ({', '.join(evidence)})")
        ctx.out(
            f"{report.items} items: {len(report.adopt)} to adopt, {report.create} to create, "
            f"{len(report.ambiguous)} ambiguous"
            + (
                " (nothing is created for those until one file per paper is left)"
                if report.ambiguous
                else ""
            )
        )
    return EXIT_CONFLICT if report.ambiguous else EXIT_OK

"""``plan``, ``index`` and ``refs``."""

from __future__ import annotations

from pathlib import Path

import click

from zotsync import api as planning
from zotsync.cli.common import Ctx, common_options
from zotsync.errors import EXIT_CONFLICT, EXIT_OK


@click.command("plan")
@click.option("--week", help="ISO week, e.g. 2026-W48 (default: the coming week).")
@click.option("--count", type=click.IntRange(min=1), help="How many papers (default 3).")
@click.option("--topic", help="Plan this tag or collection instead of choosing one.")
@click.option("--explain", is_flag=True, help="Say why each paper was chosen.")
@click.option(
    "--ics",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Also write an .ics calendar file.",
)
@click.option("--force", is_flag=True, help="Pick again even if the week already has a plan.")
@common_options
def plan_cmd(
    ctx: Ctx,
    week: str | None,
    count: int | None,
    topic: str | None,
    explain: bool,
    ics: Path | None,
    force: bool,
) -> int:
    """Write the reading plan for a week: one topic, references first, in your reading slots."""
    result = planning.plan(
        ctx.resolve_vault(),
        week=week,
        count=count,
        topic=topic,
        force=force,
        ics=ics,
        config_path=ctx.config,
    )
    if ctx.json:
        data = result.to_json()
        if explain:
            data["explain"] = result.explain
        if result.ics:
            data["ics"] = result.ics
        ctx.emit(data)
        return EXIT_OK
    ctx.out(
        f"{result.path}{' (kept the existing picks)' if result.kept else ''}"
        + (f" — topic: {result.topic}" if result.topic else "")
    )
    if result.filled_from:
        ctx.out(
            f"  too few to-read papers in the topic; filled from: {', '.join(result.filled_from)}"
        )
    for paper in result.papers:
        ctx.out(f"  {paper['slot'] or '(no slot)':>10}  {paper['title']}")
        if explain:
            ctx.out(f"              {paper['reason']}")
    if explain and result.explain:
        ctx.out("why:")
        for line in result.explain:
            ctx.out(f"  - {line}")
    if not result.papers:
        ctx.out("nothing to plan: no paper has status to-read")
    if result.ics:
        ctx.out(f"calendar: {result.ics}")
    return EXIT_OK


@click.command("index")
@common_options
def index_cmd(ctx: Ctx) -> int:
    """Write tag and collection index notes and the master paper list (Papers.md)."""
    written = planning.index(ctx.resolve_vault(), config_path=ctx.config)
    if ctx.json:
        ctx.emit({"written": written})
    else:
        ctx.out(f"index notes written: {written}")
    return EXIT_OK


@click.command("refs")
@click.option("--refresh", is_flag=True, help="Fetch every list again, ignoring the cache age.")
@click.option("--missing", is_flag=True, help="List papers outside the library cited most.")
@click.option(
    "--top",
    type=click.IntRange(min=1),
    default=30,
    show_default=True,
    help="How many missing papers to list.",
)
@common_options
def refs_cmd(ctx: Ctx, refresh: bool, missing: bool, top: int) -> int:
    """Fetch or refresh reference lists for items with a DOI or arXiv id."""
    from zotsync.commands import refs as refs_runner

    result = refs_runner.run(
        ctx.resolve_vault(), config_path=ctx.config, refresh=refresh, missing=missing, top=top
    )
    code = EXIT_CONFLICT if result.get("conflicts") else EXIT_OK  # a sync left a conflict
    if ctx.json:
        ctx.emit(result)
        return code
    ctx.out(
        f"{result['with_refs']} items with references, {result['pending']} pending, "
        f"{result['no_ids']} without DOI/arXiv id; {result['requests']} requests"
    )
    for reason, n in result["reasons"].items():
        ctx.out(f"  pending because {reason}: {n}")
    if missing:
        ctx.out(f"most-cited papers outside the library → {result['missing_note']}")
        for row in result["missing"][:top]:
            ctx.out(
                f"  {row['count']:>3}×  {row['title']}" + (f"  ({row['id']})" if row["id"] else "")
            )
    return code

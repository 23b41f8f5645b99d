"""``watch``, ``doctor`` and ``service install/uninstall``."""

from __future__ import annotations

import click

from zotsync.cli.common import Ctx, common_options
from zotsync.cli.sync_cmds import chosen_source, source_options
from zotsync.errors import EXIT_OK, EXIT_USAGE


@click.command("watch")
@source_options
@click.option("--debounce", type=float, help="Seconds of quiet before a sync (default 0.1).")
@click.option("--poll", type=float, help="Also poll every N seconds (network drives).")
@common_options
def watch_cmd(
    ctx: Ctx,
    debounce: float | None,
    poll: float | None,
) -> int:
    """Keep syncing: on every change of Zotero or the vault, and the weekly plan, until stopped."""
    from zotsync.commands.watch import watch_daemon

    daemon = watch_daemon(
        ctx.resolve_vault(),
        config_path=ctx.config,
        source_options=chosen_source(),
        debounce=debounce,
        poll=poll,
    )
    stats = daemon.run(
        started=lambda: ctx.out(
            f"watching {daemon.vault} (Ctrl-C to stop; log in .zotsync/zotsync.log)"
        )
    )
    if ctx.json:
        ctx.emit(
            {
                "passes": stats.passes,
                "failures": stats.failures,
                "writes": stats.writes,
                "skipped": stats.skipped,
                "plans": stats.plans_written,
            }
        )
    else:
        ctx.out(f"stopped after {stats.passes} syncs ({stats.failures} failed)")
    return EXIT_OK


@click.command("doctor")
@common_options
def doctor_cmd(ctx: Ctx) -> int:
    """Diagnose the Zotero source, the vault, the config and Semantic Scholar, with fixes."""
    from zotsync.commands.doctor import run_doctor

    checks = run_doctor(ctx.resolve_vault())
    if ctx.json:
        ctx.emit(
            {
                "ok": all(c.ok for c in checks),
                "checks": [
                    {"name": c.name, "ok": c.ok, "detail": c.detail, "fix": c.fix} for c in checks
                ],
            }
        )
    else:
        for c in checks:
            ctx.out(f"{'OK  ' if c.ok else 'FAIL'} {c.name}: {c.detail}")
            if not c.ok and c.fix:
                ctx.out(f"     fix: {c.fix}")
    return EXIT_OK if all(c.ok for c in checks) else EXIT_USAGE


@click.group("service")
def service_group() -> None:
    """Run `zotsync watch` as a background service (systemd user unit or LaunchAgent)."""


def _service_cmd(install: bool) -> click.Command:
    @click.option(
        "--dry-run",
        is_flag=True,
        help="Print the unit instead of writing it."
        if install
        else "Print which unit file would be removed; remove nothing.",
    )
    @click.option("--platform", "platform_name", hidden=True, help="linux or darwin (tests).")
    @common_options
    def command(ctx: Ctx, dry_run: bool, platform_name: str | None) -> int:
        from zotsync.commands import service

        unit = service.service_file(ctx.resolve_vault().resolve(), platform=platform_name)
        if dry_run and not install:
            if ctx.json:
                ctx.emit({"path": str(unit.path), "exists": unit.path.exists(), "kind": unit.kind})
            else:
                there = (
                    "would be removed" if unit.path.exists() else "does not exist; nothing to do"
                )
                ctx.out(f"{unit.path} {there}")
            return EXIT_OK
        if dry_run:
            if ctx.json:
                ctx.emit({"path": str(unit.path), "content": unit.content, "kind": unit.kind})
            else:
                click.echo(f"# {unit.path}")
                click.echo(unit.content)
            return EXIT_OK
        changed = service.install(unit) if install else service.uninstall(unit)
        steps = unit.enable if install else unit.disable
        if ctx.json:
            ctx.emit({"path": str(unit.path), "changed": changed, "next": steps})
        else:
            verb = "wrote" if install else "removed"
            ctx.out(f"{verb} {unit.path}" if changed else f"nothing to do for {unit.path}")
            for step in steps:
                ctx.out(f"  {step}")
        return EXIT_OK

    command.__doc__ = (
        "Write a service that runs `zotsync watch` for the vault, restarted on failure."
        if install
        else "Remove the service written by `service install`."
    )
    return click.command("install" if install else "uninstall")(command)


service_group.add_command(_service_cmd(True))
service_group.add_command(_service_cmd(False))

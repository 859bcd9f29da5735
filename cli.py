"""The ``flask`` commands: migrate, seed-demo, create-user, scheduler run, backup, restore,
audio build / check. Here, beside app.py, because they reach across the core, the scheduler
and the voice menu; the core itself (``hotline/``) imports none of them.

``flask audio build`` renders today's catalogue into ``HOTLINE_AUDIO_DIR`` (gTTS, espeak-ng
when gTTS cannot be reached; staff recordings in its ``recorded/`` subdirectory win over both).
``flask audio check`` lists every prompt the menu can reach and where its sound comes from,
and fails when one has no text in the catalogue or the menu data is broken; CI runs it.
"""

from __future__ import annotations

import logging
from collections import Counter

import click
from flask import Flask
from flask.cli import with_appcontext

from audio.prompts import catalogue_at, sound_dirs
from audio.render import FAILED, EspeakEngine, build, check
from hotline import clock
from hotline.db import session_scope
from hotline.models import StaffRole
from hotline.seed import seed_demo
from hotline.seed_quarter import seed_quarter
from hotline.services import users
from hotline.services.errors import ServiceError
from ivr.menu import MENU, reachable_prompt_keys, validate
from scheduler.runner import run_forever
from web import runtime


@click.command("migrate")
@with_appcontext
def migrate_cmd():
    """Bring the database schema to the latest migration."""
    from hotline.migrate import upgrade  # Alembic (with Mako, Pygments): for this command only

    upgrade(runtime().settings.database_url)
    click.echo("database is up to date")


@click.command("seed-demo")
@with_appcontext
def seed_demo_cmd():
    """Add demo wards, groups, people and logins (idempotent); print the logins."""
    with session_scope(runtime().sessions) as session:
        logins = seed_demo(session, clock.utcnow())
        # A quarter of minutes, issues, a forum, referral outcomes and press: a full brief.
        seed_quarter(session, clock.utcnow())
    click.echo("Demo logins (console at /console/):")
    for username, password, role in logins:
        click.echo(f"  {role:<14} {username:<10} {password}")


@click.command("create-user")
@click.argument("username")
@click.option("--role", type=click.Choice([r.value for r in StaffRole]), default="coordinator")
@click.option("--name", default="")
@click.password_option()
@with_appcontext
def create_user_cmd(username, role, name, password):
    """Create a console login, with the console's checks (user name, password, role)."""
    try:
        with session_scope(runtime().sessions) as session:
            users.create_user(session, clock.utcnow(), None, username=username, role=role,
                              name=name, password=password)
    except ServiceError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"created {role} {username.strip().lower()}")


@click.group("scheduler")
def scheduler_group():
    """The scheduler process."""


@scheduler_group.command("run")
@with_appcontext
def scheduler_run_cmd():
    """Run the jobs forever (exactly one such process in production)."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    # The twilio client logs every request's headers at INFO: noise, and a log to keep small.
    logging.getLogger("twilio").setLevel(logging.WARNING)
    run_forever(runtime())


def backups():
    """``hotline.services.backup``, imported by the three backup commands alone: it loads
    cryptography (9 MB), which every other flask process, the scheduler's, would carry."""
    from hotline.services import backup

    return backup


@click.command("backup")
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False),
              help="Directory that holds the backups (one hotline-<time> folder each).")
@with_appcontext
def backup_cmd(out_dir):
    """Write an encrypted backup of the database and audio; prune old ones."""
    backup = backups()
    try:
        result = backup.backup(runtime().settings, out_dir, clock.utcnow())
    except backup.BackupError as exc:
        raise click.ClickException(str(exc)) from None
    rows = sum(result.tables.values())
    click.echo(f"backup written: {result.path} ({rows} rows in {len(result.tables)} tables, "
               f"{result.files} audio files, {result.bytes} bytes before encryption)")
    for path in result.pruned:
        click.echo(f"pruned: {path}")


@click.command("restore")
@click.argument("source", type=click.Path(exists=True, file_okay=False))
@with_appcontext
def restore_cmd(source):
    """Restore a backup (or the newest in SOURCE) into an empty database and audio dir."""
    backup = backups()
    try:
        result = backup.restore(runtime().settings, source)
    except backup.BackupError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"restored {result.path}: {sum(result.tables.values())} rows, "
               f"{result.files} audio files; every checksum and row count matched")


@click.command("backup-key")
def backup_key_cmd():
    """Print a new key for HOTLINE_BACKUP_KEY."""
    click.echo(backups().generate_key())


ENGINES = ("auto", "espeak", "gtts")


def engines(choice: str) -> list:
    """The engines of ``--engine``. gTTS is imported here, by ``flask audio build`` alone:
    every flask process loads this module (the scheduler too), none other speaks."""
    from audio.gtts_engine import GttsEngine

    return {"auto": [GttsEngine(), EspeakEngine()], "gtts": [GttsEngine()],
            "espeak": [EspeakEngine()]}[choice]


def current_catalogue() -> dict[str, str]:
    """Today's prompt texts (Hanoi day)."""
    return catalogue_at(clock.utcnow())


@click.group("audio")
def audio_group():
    """Prompt sounds of the voice menu."""


@audio_group.command("build")
@click.option("--engine", type=click.Choice(ENGINES), default="auto", show_default=True,
              help="auto: gTTS, then espeak-ng when gTTS fails.")
@click.option("--key", "keys", multiple=True, help="Only these prompt keys (repeatable).")
@click.option("--strict", is_flag=True, help="Fail when a prompt is left without a file.")
@with_appcontext
def build_cmd(engine: str, keys: tuple[str, ...], strict: bool):
    """Render every prompt; unchanged texts are skipped."""
    catalogue = current_catalogue()
    unknown = [k for k in keys if k not in catalogue]
    if unknown:
        raise click.UsageError(f"not in the catalogue: {', '.join(unknown)}")
    out_dir, recordings_dir = sound_dirs(runtime().settings)
    report = build(catalogue, out_dir, engines(engine), recordings_dir, keys=keys or None)
    for line in report.lines():
        click.echo(line)
    actions = Counter(r.action for r in report.results.values())
    summary = f"{len(report.results)} prompts: {actions['built']} built, "
    summary += f"{actions['skipped']} unchanged"
    if actions[FAILED]:
        summary += f", {actions[FAILED]} failed (spoken with <Say> at call time)"
    click.echo(summary)
    if strict and report.missing:
        raise click.ClickException(f"no sound for: {', '.join(report.missing)}")


@audio_group.command("check")
@with_appcontext
def check_cmd():
    """List each reachable prompt and its source; fail on a prompt missing from the
    catalogue."""
    catalogue = current_catalogue()
    out_dir, recordings_dir = sound_dirs(runtime().settings)
    lines, ok = check(reachable_prompt_keys(MENU), catalogue, out_dir, recordings_dir)
    for line in lines:
        click.echo(line)
    sources = Counter(line.split()[1] for line in lines)
    click.echo(", ".join(f"{n} {source}" for source, n in sorted(sources.items())))
    errors = validate(MENU, catalogue)
    for error in errors:
        click.echo(f"menu: {error}", err=True)
    if not ok or errors:
        raise click.ClickException("prompts missing from the catalogue or menu errors")


@click.group("devices")
def devices_group():
    """The Android gateway phones: one row per SIM."""


@devices_group.command("add")
@click.argument("name")
@click.argument("app_device_id")
@click.option("--sim", "sim_number", type=int, help="SIM slot 1-3 (default: the phone's own)")
@click.option("--phone", help="the SIM's own number (its network is found from it)")
@click.option("--rate", "send_rate", type=int, default=6, show_default=True,
              help="messages a minute")
@click.option("--daily-limit", type=int, default=400, show_default=True)
@click.option("--key", "webhook_secret", help="the signing key shown in that phone's app")
@with_appcontext
def devices_add_cmd(name, app_device_id, sim_number, phone, send_rate, daily_limit,
                    webhook_secret):
    """Add a SIM of the pool (``deviceId`` from the app or GET /devices)."""
    from hotline.services import devices

    try:
        with session_scope(runtime().sessions) as session:
            device = devices.save(session, clock.utcnow(), name=name, app_device_id=app_device_id,
                                  sim_number=sim_number, phone=phone, send_rate=send_rate,
                                  daily_limit=daily_limit, webhook_secret=webhook_secret)
            click.echo(f"added SIM {device.id}: {device.name} ({device.carrier or 'network ?'})")
    except devices.DeviceError as exc:
        raise click.ClickException(str(exc)) from None


@devices_group.command("list")
@with_appcontext
def devices_list_cmd():
    """Each SIM's health: last event, pace, sent today, queue."""
    from hotline.services import devices

    with runtime().sessions() as session:
        for d in devices.health(session, clock.utcnow()):
            age = "never" if d["last_seen_age_s"] is None else f"{d['last_seen_age_s']}s ago"
            state = "ok" if d["healthy"] else ("off" if not d["active"] else "SILENT")
            click.echo(f"{d['id']:>3} {d['name']:<24} sim {d['sim'] or '-'} "
                       f"{d['carrier'] or '?':<12} {state:<6} seen {age:<12} "
                       f"{d['sent_today']}/{d['daily_limit']} today, {d['queued']} queued, "
                       f"{d['send_rate_per_min']}/min")


def register_cli(app: Flask) -> None:
    for command in (migrate_cmd, seed_demo_cmd, create_user_cmd, scheduler_group, backup_cmd,
                    restore_cmd, backup_key_cmd, devices_group):
        app.cli.add_command(command)
    app.cli.add_command(audio_group)  # flask audio build / check

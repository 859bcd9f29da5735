"""Flask commands: migrate, seed-demo, create-user, scheduler run, backup, restore."""

from __future__ import annotations

import logging

import click
from flask import Flask, current_app
from flask.cli import with_appcontext
from sqlalchemy import select
from werkzeug.security import generate_password_hash

from hotline import clock
from hotline.db import session_scope
from hotline.models import StaffRole, StaffUser
from hotline.services import passwords


def _rt():
    return current_app.extensions["hotline"]


@click.command("migrate")
@with_appcontext
def migrate_cmd():
    """Bring the database schema to the latest migration."""
    from hotline.migrate import upgrade

    upgrade(_rt().settings.database_url)
    click.echo("database is up to date")


@click.command("seed-demo")
@with_appcontext
def seed_demo_cmd():
    """Add demo wards, groups, people and logins (idempotent); print the logins."""
    from hotline.seed import seed_demo
    from hotline.seed_quarter import seed_quarter

    with session_scope(_rt().sessions) as session:
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
    """Create a console login."""
    with session_scope(_rt().sessions) as session:
        if session.scalar(select(StaffUser).where(StaffUser.username == username)):
            raise click.ClickException(f"user {username!r} exists")
        try:
            passwords.check(password, username)
        except passwords.PasswordRefused as exc:
            raise click.ClickException(str(exc)) from None
        session.add(StaffUser(username=username, name=name or username, role=role,
                              password_hash=generate_password_hash(password),
                              created_at=clock.utcnow()))
    click.echo(f"created {role} {username}")


@click.group("scheduler")
def scheduler_group():
    """The scheduler process."""


@scheduler_group.command("run")
@with_appcontext
def scheduler_run_cmd():
    """Run the jobs forever (exactly one such process in production)."""
    from scheduler.runner import run_forever

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    # The twilio client logs every request's headers at INFO: noise, and a log to keep small.
    logging.getLogger("twilio").setLevel(logging.WARNING)
    run_forever(_rt())


@click.command("backup")
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False),
              help="Directory that holds the backups (one hotline-<time> folder each).")
@with_appcontext
def backup_cmd(out_dir):
    """Write an encrypted backup of the database and audio; prune old ones."""
    from hotline.services import backup

    try:
        result = backup.backup(_rt().settings, out_dir, clock.utcnow())
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
    from hotline.services import backup

    try:
        result = backup.restore(_rt().settings, source)
    except backup.BackupError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"restored {result.path}: {sum(result.tables.values())} rows, "
               f"{result.files} audio files; every checksum and row count matched")


@click.command("backup-key")
def backup_key_cmd():
    """Print a new key for HOTLINE_BACKUP_KEY."""
    from hotline.services import backup

    click.echo(backup.generate_key())


def register_cli(app: Flask) -> None:
    for command in (migrate_cmd, seed_demo_cmd, create_user_cmd, scheduler_group, backup_cmd,
                    restore_cmd, backup_key_cmd):
        app.cli.add_command(command)
    from audio.cli import audio_group  # flask audio build / check
    app.cli.add_command(audio_group)

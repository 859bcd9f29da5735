"""``flask audio build`` and ``flask audio check``: the prompt sounds of the voice menu.

Build renders today's catalogue into ``HOTLINE_AUDIO_DIR`` (gTTS, espeak-ng when gTTS cannot
be reached; staff recordings in its ``recorded/`` subdirectory win over both). Check lists every
prompt the menu can reach and where its sound comes from, and fails when one has no text in the
catalogue or the menu data is broken; CI runs it.
"""

from __future__ import annotations

from collections import Counter

import click
from flask import current_app
from flask.cli import with_appcontext

from audio.render import FAILED, EspeakEngine, GttsEngine, build, check
from hotline import clock
from ivr.menu import MENU, reachable_prompt_keys, validate
from ivr.prompts import catalogue_at, sound_dirs

ENGINES = {
    "auto": lambda: [GttsEngine(), EspeakEngine()],
    "gtts": lambda: [GttsEngine()],
    "espeak": lambda: [EspeakEngine()],
}


def _settings():
    return current_app.extensions["hotline"].settings


def current_catalogue() -> dict[str, str]:
    """Today's prompt texts (Hanoi day)."""
    return catalogue_at(clock.utcnow())


@click.group("audio")
def audio_group():
    """Prompt sounds of the voice menu."""


@audio_group.command("build")
@click.option("--engine", type=click.Choice(sorted(ENGINES)), default="auto", show_default=True,
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
    out_dir, recordings_dir = sound_dirs(_settings())
    report = build(catalogue, out_dir, ENGINES[engine](), recordings_dir, keys=keys or None)
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
    out_dir, recordings_dir = sound_dirs(_settings())
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

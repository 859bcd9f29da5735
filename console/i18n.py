"""Vietnamese first, English as a choice.

Templates and code are written with English message ids; the Vietnamese catalogue
``console/translations/vi/LC_MESSAGES/messages.po`` translates them. The ``.po`` file is
compiled to a ``.mo`` when the app starts (under the instance folder, keyed by the
catalogue's hash), so no manual ``pybabel compile`` step is needed.
"""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from flask import Flask, session
from flask_babel import Babel

log = logging.getLogger(__name__)

LOCALES = ("vi", "en")
DEFAULT_LOCALE = "vi"
SOURCE = Path(__file__).resolve().parent / "translations"
DOMAIN = "messages"

babel = Babel()


def compile_catalogues(instance_path: str) -> str:
    """Compile every ``.po`` under ``translations/`` into a directory of ``.mo`` files."""
    digest = hashlib.sha256()
    sources = sorted(SOURCE.glob(f"*/LC_MESSAGES/{DOMAIN}.po"))
    for po in sources:
        digest.update(po.parent.parent.name.encode() + b"\0" + po.read_bytes())
    name = f"i18n-{digest.hexdigest()[:12]}"
    try:
        out = Path(instance_path) / name
        out.mkdir(parents=True, exist_ok=True)
    except OSError:
        out = Path(tempfile.mkdtemp(prefix=f"stones-{name}-"))
    for po in sources:
        mo = out / po.parent.parent.name / "LC_MESSAGES" / f"{DOMAIN}.mo"
        if mo.exists():
            continue
        mo.parent.mkdir(parents=True, exist_ok=True)
        with po.open("rb") as f:
            catalog = read_po(f, locale=po.parent.parent.name)
        fd, tmp = tempfile.mkstemp(dir=mo.parent, prefix=".tmp-", suffix=".mo")
        try:
            with os.fdopen(fd, "wb") as f:
                write_mo(f, catalog)
            os.replace(tmp, mo)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
    return str(out)


def select_locale() -> str:
    """The language chosen in this browser session; Vietnamese until someone picks English."""
    chosen = session.get("lang")
    return chosen if chosen in LOCALES else DEFAULT_LOCALE


def init_babel(app: Flask) -> None:
    directory = compile_catalogues(app.instance_path)
    babel.init_app(
        app,
        default_locale=DEFAULT_LOCALE,
        default_timezone="Asia/Ho_Chi_Minh",
        default_translation_directories=directory,
        locale_selector=select_locale,
    )

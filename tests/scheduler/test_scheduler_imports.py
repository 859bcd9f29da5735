"""What the scheduler process loads (``flask --app app:create_app scheduler run``): the app
and its commands, but none of the heavy libraries only other doors use. Each cost it memory
(BENCHMARKS.md, "Session 7: scheduler memory"); a fresh interpreter shows what is imported."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import PUBLIC_URL

ROOT = Path(__file__).resolve().parents[2]
# Library -> the one module of ours that imports it, by the door that needs it.
ONLY_WHERE_USED = {
    "android_sms_gateway": "hotline.gateways.android",  # built only for HOTLINE_SMS_GATEWAY=android
    "aiohttp": "hotline.gateways.android",  # the client package's asyncio half
    "gtts": "audio.gtts_engine",  # flask audio build
    "alembic": "hotline.migrate",  # flask migrate
    "mako": "hotline.migrate",  # Alembic's templates (which bring Pygments)
    "cryptography": "hotline.services.backup",  # flask backup, restore, backup-key
    # Every country's networks: nothing of ours (hotline.phones holds the +84 table).
    "phonenumbers.carrier": "phonenumbers.carrier",
}
PROBE = """
import importlib, json, sys
from app import create_app
from scheduler.runner import run_forever  # what `flask scheduler run` calls
create_app()
entry = sorted(m for m in {libs!r} if m in sys.modules)
for module in {modules!r}:
    importlib.import_module(module)
print(json.dumps({{"entry": entry, "after": sorted(m for m in {libs!r} if m in sys.modules)}}))
"""


def test_the_scheduler_entry_point_imports_no_library_it_never_uses(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HOTLINE_", "TWILIO_"))}
    env.update(PYTHONPATH=str(ROOT), HOTLINE_DATABASE_URL=f"sqlite:///{tmp_path / 'x.db'}",
               HOTLINE_PUBLIC_URL=PUBLIC_URL, HOTLINE_SMS_GATEWAY="twilio")
    code = PROBE.format(libs=sorted(ONLY_WHERE_USED),
                        modules=sorted(set(ONLY_WHERE_USED.values())))
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, check=True,
                          capture_output=True, text=True, timeout=120)
    loaded = json.loads(done.stdout.strip().splitlines()[-1])
    assert loaded["entry"] == []
    # The probe sees them: the modules that need them do load them.
    assert loaded["after"] == sorted(ONLY_WHERE_USED)

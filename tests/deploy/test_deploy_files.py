"""deploy/ agrees with the code: the environment template, the systemd units, the nginx site.

A server is set up from these files by a volunteer following the README; a setting renamed in
``hotline/config.py`` or a command moved in the CLI must fail here, not on the server.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
from dataclasses import fields
from pathlib import Path

import pytest

from hotline.config import Settings

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
UNITS = sorted((DEPLOY / "systemd").glob("hotline-*.*"))
INSTALL_ROOT = "/opt/hotline"
ENV_FILE = "/etc/hotline/hotline.env"
# Written by the hardening work (issue 16); the units point at them.
GUNICORN_CONF = DEPLOY / "gunicorn.conf.py"
NGINX_SITE = DEPLOY / "nginx" / "hotline.conf"


def template() -> dict[str, str]:
    values = {}
    for line in (DEPLOY / "hotline.env").read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            name, sep, value = line.partition("=")
            assert sep, f"not NAME=value: {line!r}"
            assert name not in values, f"{name} is listed twice"
            values[name] = value
    return values


def settings_variables() -> set[str]:
    return {f.metadata["env"] for f in fields(Settings) if "env" in f.metadata}


def unit_values(path: Path, key: str) -> list[str]:
    return [line.split("=", 1)[1].strip() for line in path.read_text().splitlines()
            if line.startswith(f"{key}=")]


def test_env_template_lists_exactly_what_settings_read():
    listed, read = set(template()), settings_variables()
    assert not listed - read, f"in deploy/hotline.env but not read by Settings: {listed - read}"
    assert not read - listed, f"read by Settings but missing in deploy/hotline.env: {read - listed}"


def test_env_template_values_are_valid_settings():
    values = {k: v for k, v in template().items()}
    settings = Settings.from_env(values)
    # The production choices the README explains: PostgreSQL, behind one proxy hop, the
    # scheduler as its own unit, audio outside the code.
    assert settings.database_url.startswith("postgresql+psycopg://")
    assert settings.proxy_hops == 1 and not settings.run_scheduler
    assert settings.public_url.startswith("https://")
    assert settings.audio_dir.startswith("/var/lib/hotline")


def commands() -> list[tuple[Path, list[str]]]:
    found = []
    for unit in UNITS:
        for key in ("ExecStartPre", "ExecStart"):
            for value in unit_values(unit, key):
                found.append((unit, shlex.split(value.lstrip("-@+!:"))))
    return found


def test_every_unit_reads_the_env_file_and_runs_as_the_hotline_user():
    services = [u for u in UNITS if u.suffix == ".service"]
    assert {u.name for u in services} == {"hotline-web.service", "hotline-scheduler.service",
                                          "hotline-backup.service"}
    for unit in services:
        assert unit_values(unit, "EnvironmentFile") == [ENV_FILE], unit.name
        assert unit_values(unit, "User") == ["hotline"], unit.name
        assert unit_values(unit, "WorkingDirectory") == [INSTALL_ROOT], unit.name
    scheduler = DEPLOY / "systemd" / "hotline-scheduler.service"
    assert unit_values(scheduler, "Restart") == ["on-failure"]
    assert unit_values(scheduler, "KillSignal") == ["SIGTERM"]
    timer = DEPLOY / "systemd" / "hotline-backup.timer"
    assert unit_values(timer, "OnCalendar") and unit_values(timer, "Persistent") == ["true"]


def test_flask_commands_of_the_units_exist_with_their_options(app):
    """Each ``flask --app app:create_app ...`` line names a real command of this app, and its
    arguments parse (click resolves them exactly as the shell would hand them over)."""
    flask_lines = [(u, argv) for u, argv in commands() if argv[0].endswith("/flask")]
    assert len(flask_lines) == 3
    for unit, argv in flask_lines:
        assert argv[0] == f"{INSTALL_ROOT}/.venv/bin/flask", unit.name
        assert (ROOT / ".venv" / "bin" / "flask").exists()
        assert argv[1:3] == ["--app", "app:create_app"], unit.name
        group, args = app.cli, argv[3:]
        ctx = None
        while args:
            name = args.pop(0)
            command = group.get_command(ctx, name) if ctx else app.cli.get_command(None, name)
            assert command is not None, f"{unit.name}: no flask command {name!r}"
            if hasattr(command, "get_command"):
                group, ctx = command, command.make_context(name, [], resilient_parsing=True)
                continue
            command.make_context(name, list(args))  # raises on an unknown option
            break


def test_gunicorn_command_loads_the_app(tmp_path):
    web = DEPLOY / "systemd" / "hotline-web.service"
    (argv,) = [a for u, a in commands() if u == web and a[0].endswith("gunicorn")]
    assert argv[0] == f"{INSTALL_ROOT}/.venv/bin/gunicorn"
    conf = argv[argv.index("--config") + 1]
    assert conf == f"{INSTALL_ROOT}/deploy/gunicorn.conf.py"
    if not GUNICORN_CONF.exists():
        pytest.skip("deploy/gunicorn.conf.py (issue 16, hardening) has not landed yet")
    local = [str(ROOT / ".venv/bin/gunicorn"), "--check-config", "--config", str(GUNICORN_CONF),
             *argv[argv.index("--config") + 2:]]
    env = dict(os.environ, HOTLINE_DATABASE_URL=f"sqlite:///{tmp_path / 'h.db'}",
               HOTLINE_AUDIO_DIR=str(tmp_path / "audio"))
    done = subprocess.run(local, cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr


def test_systemd_accepts_the_units(tmp_path):
    """``systemd-analyze verify`` on the units as installed (paths moved to this checkout)."""
    tool = shutil.which("systemd-analyze")
    if tool is None:
        pytest.skip("systemd-analyze is not installed (Debian package systemd)")
    env_file = tmp_path / "hotline.env"
    env_file.write_text((DEPLOY / "hotline.env").read_text())
    for unit in UNITS:
        text = (unit.read_text().replace(ENV_FILE, str(env_file))
                .replace(INSTALL_ROOT, str(ROOT)))
        (tmp_path / unit.name).write_text(text)
    done = subprocess.run([tool, "verify", "--man=no", *(str(tmp_path / u.name) for u in UNITS)],
                          capture_output=True, text=True, timeout=120)
    # Lines about the host's own units (this container has no booted systemd) are not ours.
    ours = [line for line in (done.stdout + done.stderr).splitlines() if "hotline-" in line]
    assert done.returncode == 0 and not ours, done.stdout + done.stderr


def test_nginx_accepts_the_site(tmp_path):
    """``nginx -t`` on the site with a throwaway self-signed certificate in place of the real
    one (paths under /etc/letsencrypt are moved into a scratch directory)."""
    nginx = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists()
                                      else None)
    if nginx is None:
        pytest.skip("nginx is not installed (.ci/run installs it)")
    if not NGINX_SITE.exists():
        pytest.skip("deploy/nginx/hotline.conf (issue 16, hardening) has not landed yet")
    site = NGINX_SITE.read_text()
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                    "-subj", "/CN=hotline.example.org", "-keyout", str(key), "-out", str(cert)],
                   check=True, capture_output=True, timeout=60)
    lines = []
    for line in site.splitlines():
        stripped = line.strip()
        if stripped.startswith("ssl_certificate_key "):
            line = f"    ssl_certificate_key {key};"
        elif stripped.startswith("ssl_certificate "):
            line = f"    ssl_certificate {cert};"
        elif stripped.startswith(("ssl_trusted_certificate ", "ssl_dhparam ")):
            line = ""
        elif stripped.startswith("include ") and "letsencrypt" in stripped:
            line = ""
        lines.append(line)
    (tmp_path / "site.conf").write_text("\n".join(lines))
    (tmp_path / "nginx.conf").write_text(
        f"pid {tmp_path}/nginx.pid;\nerror_log {tmp_path}/error.log;\n"
        "events {}\n"
        f"http {{\n  include /etc/nginx/mime.types;\n  access_log off;\n"
        f"  include {tmp_path}/site.conf;\n}}\n")
    done = subprocess.run([nginx, "-t", "-p", str(tmp_path), "-c", str(tmp_path / "nginx.conf")],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "test is successful" in done.stderr

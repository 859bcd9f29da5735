"""Backups that restore: the database, the audio directory and a manifest, encrypted.

A backup is one directory ``hotline-YYYYmmddTHHMMSSZ/`` holding

- ``manifest.enc``: what the backup holds (row counts per table, the schema revision, and
  every file with its size and SHA-256), encrypted like the rest;
- ``database.enc``: the database: ``pg_dump -Fc`` of PostgreSQL (rows counted in the same
  snapshot the dump reads), or a copy of the SQLite file made with SQLite's online backup API;
- ``files/NNNNNN.enc``: every file under ``HOTLINE_AUDIO_DIR`` (members' recordings, staff
  prompt recordings, rendered prompts). Their names are only in the encrypted manifest.

Each file is a Fernet token (``cryptography``: AES-128-CBC with HMAC-SHA256) under the key in
``HOTLINE_BACKUP_KEY``, so a changed byte, a swapped file or the wrong key is refused before
anything is restored. A restore goes only into an empty database and an empty audio directory,
and checks the restored rows against the manifest.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import sqlite3
import subprocess
import tempfile
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import URL, make_url

from hotline.config import Settings

FORMAT = 1
PREFIX = "hotline-"
STAMP = "%Y%m%dT%H%M%SZ"
NAME = re.compile(r"^hotline-(\d{8}T\d{6}Z)$")
MANIFEST = "manifest.enc"
DATABASE = "database.enc"
FILES = "files"


class BackupError(Exception):
    """A backup or restore that cannot be done; the message says why, for the operator."""


@dataclass
class BackupResult:
    path: Path
    tables: dict[str, int]
    files: int
    bytes: int
    pruned: list[Path] = field(default_factory=list)


@dataclass
class RestoreResult:
    path: Path
    tables: dict[str, int]
    files: int


def generate_key() -> str:
    """A new key for ``HOTLINE_BACKUP_KEY``."""
    return Fernet.generate_key().decode()


def _fernet(settings: Settings) -> Fernet:
    if not settings.backup_key:
        raise BackupError(
            "HOTLINE_BACKUP_KEY is not set: backups hold cases and recordings (sensitive "
            "personal data) and are only written encrypted. Make a key with `flask backup-key`, "
            "put it in the environment file, and keep a copy off this server."
        )
    try:
        return Fernet(settings.backup_key.encode())
    except ValueError:
        raise BackupError(
            "HOTLINE_BACKUP_KEY is not a valid key: it must be 32 url-safe base64-encoded "
            "bytes, as `flask backup-key` prints."
        ) from None


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _is_sqlite(url: URL) -> bool:
    return url.get_backend_name() == "sqlite"


def _sqlite_path(url: URL) -> Path:
    if not url.database or url.database == ":memory:":
        raise BackupError("an in-memory SQLite database cannot be backed up or restored")
    return Path(url.database)


def _libpq(url: URL) -> tuple[str, dict[str, str]]:
    """A libpq URI for pg_dump/pg_restore, the password in the environment (never in argv)."""
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    uri = url.set(drivername="postgresql", password=None).render_as_string(hide_password=False)
    return uri, env


def _pg_tool(name: str, server_major: int) -> str:
    """``name`` (pg_dump, pg_restore) if it can handle a server of ``server_major``."""
    tool = shutil.which(name)
    if tool is None:
        raise BackupError(f"{name} is not installed: apt-get install postgresql-client-"
                          f"{server_major}")
    # An argv list, never a shell: nothing here is parsed by one.
    out = subprocess.run([tool, "--version"], capture_output=True, text=True,  # noqa: S603
                         check=True).stdout
    found = re.search(r"(\d+)(?:\.\d+)?", out)
    major = int(found.group(1)) if found else 0
    if major < server_major:
        raise BackupError(f"{name} {major} cannot work with a PostgreSQL {server_major} server: "
                          f"apt-get install postgresql-client-{server_major}")
    return tool


def _count_rows(conn, tables: list[str]) -> dict[str, int]:
    # Table names come from the database's own catalogue, quoted by the dialect.
    quote = conn.dialect.identifier_preparer.quote
    return {t: conn.execute(text(f"SELECT count(*) FROM {quote(t)}")).scalar_one()  # noqa: S608
            for t in sorted(tables)}


def _revision(conn, tables: list[str]) -> str | None:
    if "alembic_version" not in tables:
        return None
    return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()


# --------------------------------------------------------------------------------------------
# Writing a backup
# --------------------------------------------------------------------------------------------


def _dump_sqlite(url: URL, into: Path) -> tuple[dict[str, int], str | None]:
    source = sqlite3.connect(str(_sqlite_path(url)))
    copy = sqlite3.connect(str(into))
    try:
        # The online backup API: a consistent copy while the line keeps writing.
        source.backup(copy)
    finally:
        source.close()
        copy.close()
    engine = create_engine(f"sqlite:///{into}")
    try:
        with engine.connect() as conn:
            tables = inspect(conn).get_table_names()
            return _count_rows(conn, tables), _revision(conn, tables)
    finally:
        engine.dispose()


def _dump_postgresql(url: URL, into: Path) -> tuple[dict[str, int], str | None]:
    engine = create_engine(url)
    try:
        with engine.connect().execution_options(isolation_level="REPEATABLE READ") as conn:
            with conn.begin():
                major = conn.execute(text("SHOW server_version_num")).scalar_one()
                tool = _pg_tool("pg_dump", int(major) // 10000)
                # pg_dump reads the snapshot these counts were taken in: they describe the dump.
                snapshot = conn.execute(text("SELECT pg_export_snapshot()")).scalar_one()
                tables = inspect(conn).get_table_names()
                counts, revision = _count_rows(conn, tables), _revision(conn, tables)
                uri, env = _libpq(url)
                done = subprocess.run(  # noqa: S603 - an argv list, no shell
                    [tool, "--format=custom", "--no-owner", "--no-privileges",
                     f"--snapshot={snapshot}", f"--file={into}", f"--dbname={uri}"],
                    env=env, capture_output=True, text=True,
                )
                if done.returncode != 0:
                    raise BackupError(f"pg_dump failed: {done.stderr.strip()}")
        return counts, revision
    finally:
        engine.dispose()


def _audio_files(audio_dir: Path) -> list[Path]:
    if not audio_dir.is_dir():
        return []
    return sorted(p for p in audio_dir.rglob("*") if p.is_file())


def backup(settings: Settings, out_dir: str | Path, now: datetime) -> BackupResult:
    """Write one encrypted backup under ``out_dir`` and prune the ones older than
    ``settings.backup_keep_days`` (the newest always stays)."""
    fernet = _fernet(settings)
    url = make_url(settings.database_url)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    final = out_dir / f"{PREFIX}{now.strftime(STAMP)}"
    if final.exists():
        raise BackupError(f"{final} exists already")
    work = Path(tempfile.mkdtemp(prefix=f".{final.name}.", dir=out_dir))
    try:
        with tempfile.TemporaryDirectory() as scratch:
            dump = Path(scratch) / "database"
            if _is_sqlite(url):
                counts, revision = _dump_sqlite(url, dump)
            else:
                counts, revision = _dump_postgresql(url, dump)
            data = dump.read_bytes()
        (work / DATABASE).write_bytes(fernet.encrypt(data))
        manifest = {
            "format": FORMAT, "created_at": now.isoformat(), "dialect": url.get_backend_name(),
            "revision": revision, "tables": counts,
            "database": {"blob": DATABASE, "size": len(data), "sha256": _sha256(data)},
            "files": [],
        }
        total = len(data)
        audio_dir = Path(settings.audio_dir)
        (work / FILES).mkdir()
        for n, path in enumerate(_audio_files(audio_dir), 1):
            content = path.read_bytes()
            blob = f"{FILES}/{n:06d}.enc"
            (work / blob).write_bytes(fernet.encrypt(content))
            manifest["files"].append({"path": path.relative_to(audio_dir).as_posix(),
                                      "blob": blob, "size": len(content),
                                      "sha256": _sha256(content)})
            total += len(content)
        (work / MANIFEST).write_bytes(fernet.encrypt(json.dumps(manifest).encode()))
        os.chmod(work, 0o700)
        work.rename(final)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    pruned = prune(out_dir, now, settings.backup_keep_days)
    return BackupResult(final, counts, len(manifest["files"]), total, pruned)


def prune(out_dir: Path, now: datetime, keep_days: int) -> list[Path]:
    """Remove backups older than ``keep_days``, never the newest one."""
    found = sorted((p for p in out_dir.iterdir() if p.is_dir() and NAME.match(p.name)),
                   key=lambda p: p.name)
    cutoff = now - timedelta(days=keep_days)
    removed = []
    for path in found[:-1]:
        made = datetime.strptime(NAME.match(path.name).group(1), STAMP).replace(
            tzinfo=now.tzinfo)
        if made < cutoff:
            shutil.rmtree(path)
            removed.append(path)
    return removed


# --------------------------------------------------------------------------------------------
# Restoring
# --------------------------------------------------------------------------------------------


def find_backup(source: str | Path) -> Path:
    """``source`` itself when it is a backup, else the newest backup inside it."""
    source = Path(source)
    if (source / MANIFEST).is_file():
        return source
    if source.is_dir():
        found = sorted(p for p in source.iterdir() if NAME.match(p.name) and p.is_dir())
        if found:
            return found[-1]
    raise BackupError(f"no backup found at {source} (looked for {MANIFEST} or hotline-* "
                      "directories)")


def _decrypt(fernet: Fernet, root: Path, blob: str, what: str) -> bytes:
    try:
        return fernet.decrypt((root / blob).read_bytes())
    except FileNotFoundError:
        raise BackupError(f"refused: the backup is incomplete: {what} ({blob}) is missing. "
                          "Nothing was restored.") from None
    except InvalidToken:
        raise BackupError(
            f"refused: {what} ({blob}) does not decrypt: the backup was changed or damaged, "
            "or HOTLINE_BACKUP_KEY is not the key it was made with. Nothing was restored."
        ) from None


def _checked(fernet: Fernet, root: Path, entry: dict, what: str) -> bytes:
    data = _decrypt(fernet, root, entry["blob"], what)
    if len(data) != entry["size"] or _sha256(data) != entry["sha256"]:
        raise BackupError(f"refused: {what} does not match the manifest's checksum: the backup "
                          "was changed (a file replaced by another?). Nothing was restored.")
    return data


def _require_empty_database(url: URL) -> None:
    if _is_sqlite(url):
        path = _sqlite_path(url)
        if not path.exists() or path.stat().st_size == 0:
            return
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            tables = inspect(conn).get_table_names()
    finally:
        engine.dispose()
    if tables:
        raise BackupError(f"refused: the database already has {len(tables)} tables; restore "
                          "only into an empty database (create a new one, or drop this one "
                          "after making sure nothing in it is needed).")


def _require_empty_dir(audio_dir: Path) -> None:
    if _audio_files(audio_dir):
        raise BackupError(f"refused: the audio directory {audio_dir} is not empty; restore "
                          "only into an empty one (move it aside first).")


def _restore_database(url: URL, data: bytes) -> None:
    if _is_sqlite(url):
        path = _sqlite_path(url)
        path.parent.mkdir(parents=True, exist_ok=True)
        for leftover in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
            leftover.unlink(missing_ok=True)
        path.write_bytes(data)
        return
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            major = int(conn.execute(text("SHOW server_version_num")).scalar_one()) // 10000
    finally:
        engine.dispose()
    tool = _pg_tool("pg_restore", major)
    with tempfile.NamedTemporaryFile(prefix="hotline-restore-") as dump:
        dump.write(data)
        dump.flush()
        uri, env = _libpq(url)
        done = subprocess.run(  # noqa: S603 - an argv list, no shell
            [tool, "--no-owner", "--no-privileges", "--exit-on-error", "--single-transaction",
             f"--dbname={uri}", dump.name], env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise BackupError(f"pg_restore failed: {done.stderr.strip()}")


def restore(settings: Settings, source: str | Path) -> RestoreResult:
    """Restore the backup at ``source`` (or the newest one in it) into the empty database of
    ``settings`` and its empty audio directory; every file is checked before anything is
    written and the restored rows against the manifest after."""
    fernet = _fernet(settings)
    root = find_backup(source)
    try:
        manifest = json.loads(_decrypt(fernet, root, MANIFEST, "the manifest"))
    except ValueError:
        raise BackupError("refused: the manifest is not readable") from None
    if manifest.get("format") != FORMAT:
        raise BackupError(f"refused: backup format {manifest.get('format')} is not {FORMAT}")
    url = make_url(settings.database_url)
    if manifest["dialect"] != url.get_backend_name():
        raise BackupError(f"refused: this is a {manifest['dialect']} backup and "
                          f"HOTLINE_DATABASE_URL is {url.get_backend_name()}")
    listed = {manifest["database"]["blob"]} | {f["blob"] for f in manifest["files"]}
    present = {p.relative_to(root).as_posix() for p in root.rglob("*.enc")} - {MANIFEST}
    if present - listed:
        raise BackupError(f"refused: files not in the manifest: {sorted(present - listed)}")
    audio_dir = Path(settings.audio_dir)
    _require_empty_database(url)
    _require_empty_dir(audio_dir)

    database = _checked(fernet, root, manifest["database"], "the database")
    staging = Path(tempfile.mkdtemp(prefix=".restore-", dir=audio_dir.parent
                                    if audio_dir.parent.is_dir() else None))
    try:
        for entry in manifest["files"]:
            rel = Path(entry["path"])
            if rel.is_absolute() or ".." in rel.parts:
                raise BackupError(f"refused: a file path leaves the audio directory: {rel}")
            target = staging / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(_checked(fernet, root, entry, f"file {rel}"))
        _restore_database(url, database)
        engine = create_engine(url)
        try:
            with engine.connect() as conn:
                counts = _count_rows(conn, inspect(conn).get_table_names())
        finally:
            engine.dispose()
        if counts != manifest["tables"]:
            wrong = sorted(t for t in set(counts) | set(manifest["tables"])
                           if counts.get(t) != manifest["tables"].get(t))
            raise BackupError(f"the restored database differs from the manifest in: {wrong}")
        audio_dir.mkdir(parents=True, exist_ok=True)
        for entry in manifest["files"]:
            target = audio_dir / entry["path"]
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.move(staging / entry["path"], target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return RestoreResult(root, counts, len(manifest["files"]))

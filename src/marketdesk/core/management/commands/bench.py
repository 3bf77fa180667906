"""`marketdesk bench <name> [--size N]`: run bench/scenarios/<name>.py on a throw-away database.

The real database is never touched: before the first connection the default database is
pointed at its own bench copy (SQLite: data/bench.sqlite3; PostgreSQL: <name>_bench on the
same server), which is dropped and created again, migrated and filled by bench/generators.py.
Figures go to stdout, one per line (`name: value unit`); progress notes go to stderr."""

from __future__ import annotations

import importlib
import os
import platform
import sys
import time
from pathlib import Path

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import connections

ALIAS = "default"


def _scenario_dir() -> Path:
    return Path(settings.REPO_DIR) / "bench" / "scenarios"


def _scenario_names() -> list[str]:
    return sorted(p.stem for p in _scenario_dir().glob("*.py") if not p.stem.startswith("_"))


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


class Command(BaseCommand):
    help = "Run a benchmark scenario from bench/scenarios/ on a throw-away database."

    def add_arguments(self, parser):
        parser.add_argument("name", nargs="?", help="Scenario name (see --list).")
        parser.add_argument(
            "--list", action="store_true", dest="list_scenarios", help="List the scenarios."
        )
        parser.add_argument(
            "--size",
            type=int,
            default=None,
            help="Employees to generate (default: the scenario's).",
        )
        parser.add_argument(
            "--reuse",
            action="store_true",
            help="Keep the bench database of the previous run if it holds a generated organisation.",
        )

    def handle(self, *args, name=None, list_scenarios=False, size=None, reuse=False, **options):
        if str(settings.REPO_DIR) not in sys.path:
            sys.path.insert(0, str(settings.REPO_DIR))
        if list_scenarios or not name:
            for scenario_name in _scenario_names():
                module = self._load(scenario_name)
                doc = (module.__doc__ or "").strip().splitlines()
                self.stdout.write(f"{scenario_name:<16} {doc[0] if doc else ''}")
            if not list_scenarios:
                raise CommandError("Name a scenario (see above), e.g. `marketdesk bench scope`.")
            return
        if name not in _scenario_names():
            raise CommandError(
                f"No scenario {name!r} in bench/scenarios/ (have: {', '.join(_scenario_names())})."
            )
        module = self._load(name)
        size = size or getattr(module, "DEFAULT_SIZE", 20000)
        if size < 20:
            raise CommandError("--size must be at least 20 employees.")
        # Benchmarks measure the production code path: no query log, no template debug.
        settings.DEBUG = False
        if "testserver" not in settings.ALLOWED_HOSTS:
            settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]

        target = self._use_bench_database(reuse=reuse)
        self._note(f"machine: {_cpu_model()}, {_nproc()} CPUs; python {platform.python_version()}")
        self._note(f"load average at start: {_load()}")
        self._note(f"database: {target}")
        started = time.perf_counter()
        call_command("migrate", interactive=False, verbosity=0)
        self._note(f"migrated in {time.perf_counter() - started:.1f} s")

        from bench.generators import GeneratedOrg, build_org, is_generated

        org = None
        if getattr(module, "NEEDS_ORG", True):
            if reuse and is_generated():
                org = GeneratedOrg.load()
                self._note(f"reusing {org.employees} employees in {org.departments} units")
            else:
                org = build_org(size)
                self._note(
                    f"generated {org.employees} employees in {org.departments} units "
                    f"in {org.seconds:.1f} s"
                )
        for figure in module.run(org=org, size=size, note=self._note):
            self.stdout.write(str(figure))
            self.stdout.flush()
        self._note(f"load average at end: {_load()} (other work on the machine skews the figures)")
        connections.close_all()

    def _load(self, name: str):
        try:
            return importlib.import_module(f"bench.scenarios.{name}")
        except ImportError as exc:
            raise CommandError(f"Cannot load bench/scenarios/{name}.py: {exc}") from exc

    def _note(self, text: str) -> None:
        self.stderr.write(f"# {text}")

    def _use_bench_database(self, *, reuse: bool) -> str:
        """Point the default database at a fresh bench database; returns a description."""
        connections.close_all()
        db = connections[ALIAS].settings_dict  # the same dict as settings.DATABASES[ALIAS]
        vendor = connections[ALIAS].vendor
        if vendor == "sqlite":
            path = Path(settings.DATA_DIR) / "bench.sqlite3"
            if not reuse:
                for suffix in ("", "-wal", "-shm", "-journal"):
                    Path(f"{path}{suffix}").unlink(missing_ok=True)
            db["NAME"] = str(path)
            return f"SQLite {path}"
        if vendor == "postgresql":
            original = db["NAME"]
            bench_name = original if original.endswith("_bench") else f"{original}_bench"
            quoted = connections[ALIAS].ops.quote_name(bench_name)
            with connections[ALIAS]._nodb_cursor() as cursor:
                cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [bench_name])
                exists = cursor.fetchone() is not None
                if exists and not reuse:
                    cursor.execute(f"DROP DATABASE {quoted} WITH (FORCE)")
                    exists = False
                if not exists:
                    cursor.execute(f"CREATE DATABASE {quoted}")
            connections.close_all()
            db["NAME"] = bench_name
            with connections[ALIAS].cursor() as cursor:
                cursor.execute("SHOW server_version")
                version = cursor.fetchone()[0]
            return f"PostgreSQL {version} database {bench_name} on {db.get('HOST') or 'localhost'}"
        raise CommandError(f"Benchmarks support SQLite and PostgreSQL, not {vendor}.")


def _load() -> str:
    try:
        return " ".join(f"{value:.2f}" for value in os.getloadavg())
    except OSError:
        return "unknown"


def _nproc() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1

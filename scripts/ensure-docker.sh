#!/usr/bin/env bash
# Make sure a Docker engine answers, because the rehearsal stack and the image tests need one.
# On Debian as root it installs what is missing (docker.io, docker-compose v1, mmdebstrap) and
# starts dockerd by hand (no systemd here); anywhere else it says in one sentence what to do.
# Idempotent: an engine that already answers is left alone.
set -euo pipefail

log=/var/log/atmo-release-dockerd.log
wait_s=60

engine_answers() {
    command -v docker >/dev/null 2>&1 && docker info >/dev/null 2>&1
}

if engine_answers; then
    echo "ensure-docker: the Docker engine already answers ($(docker version --format '{{.Server.Version}}' 2>/dev/null)); nothing to do."
    exit 0
fi

if [[ ! -r /etc/debian_version ]] || [[ $(id -u) -ne 0 ]]; then
    if command -v docker >/dev/null 2>&1; then
        echo "ensure-docker: docker is installed but no engine answers; start dockerd (as root: 'dockerd &' or 'systemctl start docker') or point DOCKER_HOST at a running engine." >&2
    else
        echo "ensure-docker: no Docker engine found; install Docker (engine, docker-compose v1 and mmdebstrap) and start it, or rerun this script as root on Debian to have it done." >&2
    fi
    exit 1
fi

missing=()
command -v dockerd >/dev/null 2>&1 || missing+=(docker.io)
command -v docker-compose >/dev/null 2>&1 || missing+=(docker-compose)
command -v mmdebstrap >/dev/null 2>&1 || missing+=(mmdebstrap)
if ((${#missing[@]})); then
    echo "ensure-docker: installing ${missing[*]} with apt-get"
    apt-get update -q
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}"
else
    echo "ensure-docker: docker.io, docker-compose and mmdebstrap are already installed"
fi

if pgrep -x dockerd >/dev/null 2>&1; then
    echo "ensure-docker: dockerd is already running; waiting for it to answer"
else
    echo "ensure-docker: starting dockerd in the background (log: $log)"
    nohup dockerd >>"$log" 2>&1 </dev/null &
fi

for ((i = 0; i < wait_s; i++)); do
    if engine_answers; then
        echo "ensure-docker: the Docker engine answers after ${i} s"
        exit 0
    fi
    sleep 1
done
echo "ensure-docker: dockerd did not answer within ${wait_s} s; see $log" >&2
exit 1

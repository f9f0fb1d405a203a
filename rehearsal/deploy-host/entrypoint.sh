#!/bin/bash
# The deploy host's boot, in the order a real host has it (see ../README.md, "deploy-host"):
# one Compose flavour, cgroups and iptables for the inner engine, its daemon.json, host keys and
# the runner's public key, dockerd, PostgreSQL on 127.0.0.1:5432, a ready marker; then sshd in
# the foreground.
set -euo pipefail

say() { printf 'deploy-host: %s\n' "$*"; }
REGISTRY=${ATMO_REHEARSAL_REGISTRY:-registry:5000}

# The host has one Compose, as a real one has: v1 (the runbook's docker-compose, the default) or
# v2 (the docker compose plugin, and no docker-compose anywhere on the PATH).
case ${ATMO_REHEARSAL_COMPOSE:-v1} in
    v1) rm -f /usr/local/lib/docker/cli-plugins/docker-compose ;;
    v2) rm -f /usr/bin/docker-compose ;;
    *) say "ATMO_REHEARSAL_COMPOSE must be v1 or v2, not ${ATMO_REHEARSAL_COMPOSE}"; exit 1 ;;
esac
say "compose: ${ATMO_REHEARSAL_COMPOSE:-v1}"

# cgroup v2: move every process out of the root cgroup so nested containers can be created
# (moby hack/dind); cgroup v1 needs nothing.
if [[ -f /sys/fs/cgroup/cgroup.controllers ]]; then
    mkdir -p /sys/fs/cgroup/init
    xargs -rn1 < /sys/fs/cgroup/cgroup.procs > /sys/fs/cgroup/init/cgroup.procs 2>/dev/null || :
    sed -e 's/ / +/g' -e 's/^/+/' < /sys/fs/cgroup/cgroup.controllers \
        > /sys/fs/cgroup/cgroup.subtree_control || :
fi
mount --make-rshared / 2>/dev/null || :

# One iptables flavour per network namespace: legacy, as the outer engine here uses.
update-alternatives --set iptables /usr/sbin/iptables-legacy >/dev/null
update-alternatives --set ip6tables /usr/sbin/ip6tables-legacy >/dev/null

mkdir -p /etc/docker
cat > /etc/docker/daemon.json <<JSON
{
  "storage-driver": "overlay2",
  "insecure-registries": ["$REGISTRY"],
  "registry-mirrors": ["http://$REGISTRY"],
  "bip": "172.17.0.1/16"
}
JSON

ssh-keygen -A >/dev/null
install -d -m 700 /root/.ssh
if [[ -f /run/atmo-authorized_keys ]]; then
    install -m 600 /run/atmo-authorized_keys /root/.ssh/authorized_keys
fi

# A `docker restart` leaves stale pid files behind (as dockerd-entrypoint.sh handles them).
rm -f /var/run/docker.pid /var/run/docker/containerd/containerd.pid
dockerd > /var/log/dockerd.log 2>&1 &
for _ in $(seq 120); do
    docker info >/dev/null 2>&1 && break
    sleep 0.5
done
docker info >/dev/null 2>&1 || { say "dockerd did not answer"; tail -5 /var/log/dockerd.log; exit 1; }
say "dockerd answers"

service postgresql start >/dev/null
say "postgresql answers"

touch /run/atmo-ready
mkdir -p /run/sshd
exec /usr/sbin/sshd -D -e

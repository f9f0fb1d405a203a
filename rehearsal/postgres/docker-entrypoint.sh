#!/bin/bash
# Initialise PGDATA on first start the way the official postgres image does, then run the server.
# During initialisation a temporary server listens on the unix socket only, so nothing that
# connects over TCP (testcontainers' psql probe, the apps, the healthcheck) sees the database
# before POSTGRES_DB, POSTGRES_EXTRA_DBS and /docker-entrypoint-initdb.d are done.
set -euo pipefail

say() { echo "docker-entrypoint: $*"; }

if [[ ${1:-} != postgres ]]; then
    exec "$@"
fi

if [[ $(id -u) -eq 0 ]]; then
    # A bind-mounted or fresh volume may belong to root: hand it to postgres, then drop root.
    mkdir -p "$PGDATA" /run/postgresql
    chown -R postgres:postgres "$PGDATA" /run/postgresql
    chmod 700 "$PGDATA"
    exec setpriv --reuid=postgres --regid=postgres --init-groups "$0" "$@"
fi

psql_init() {
    psql --no-psqlrc --quiet --set ON_ERROR_STOP=1 --username "$POSTGRES_USER" "$@"
}

initialise() {
    if [[ -z ${POSTGRES_PASSWORD:-} ]]; then
        echo "docker-entrypoint: POSTGRES_PASSWORD is required to initialise the database" >&2
        exit 1
    fi
    say "initialising $PGDATA for user $POSTGRES_USER"
    initdb --pgdata="$PGDATA" --username="$POSTGRES_USER" \
        --pwfile=<(printf '%s\n' "$POSTGRES_PASSWORD") \
        --encoding=UTF8 --locale=C.UTF-8 --auth-local=trust --auth-host=scram-sha-256
    printf '%s\n' "host all all all scram-sha-256" >>"$PGDATA/pg_hba.conf"
    printf '%s\n' "listen_addresses = '*'" >>"$PGDATA/postgresql.conf"

    pg_ctl --pgdata="$PGDATA" --wait --silent \
        --options="-c listen_addresses='' -c unix_socket_directories=/run/postgresql" start

    if [[ $POSTGRES_DB != postgres ]]; then
        say "creating database $POSTGRES_DB"
        psql_init --dbname=postgres --set db="$POSTGRES_DB" <<<'CREATE DATABASE :"db";'
    fi
    for db in ${POSTGRES_EXTRA_DBS:-}; do
        say "creating database $db owned by $POSTGRES_USER"
        psql_init --dbname=postgres --set db="$db" --set owner="$POSTGRES_USER" \
            <<<'CREATE DATABASE :"db" OWNER :"owner";'
    done
    if [[ -d /docker-entrypoint-initdb.d && ! -r /docker-entrypoint-initdb.d ]]; then
        echo "docker-entrypoint: /docker-entrypoint-initdb.d is not readable by postgres" >&2
        exit 1
    fi
    for f in /docker-entrypoint-initdb.d/*; do
        case $f in
            *.sh) say "running $f"; bash "$f" ;;
            *.sql) say "running $f"; psql_init --dbname="$POSTGRES_DB" --file="$f" ;;
            *) [[ -e $f ]] && say "ignoring $f (neither .sh nor .sql)" ;;
        esac
    done

    pg_ctl --pgdata="$PGDATA" --wait --silent --mode=fast stop
    say "initialisation complete; starting PostgreSQL"
}

export POSTGRES_USER=${POSTGRES_USER:-postgres}
export POSTGRES_DB=${POSTGRES_DB:-$POSTGRES_USER}
if [[ ! -s $PGDATA/PG_VERSION ]]; then
    initialise
fi
unset POSTGRES_PASSWORD
exec "$@"

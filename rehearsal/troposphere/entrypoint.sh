#!/bin/bash
# Start-up of the Troposphere stand-in, as the real image does it on every start.
set -euo pipefail

secrets=/opt/dev/atmosphere-docker-secrets
if [[ ! -d $secrets/.git ]]; then
    echo "troposphere: refusing to start: $secrets is not a git checkout (no .git)" >&2
    exit 1
fi
ln -sfn "$secrets/inis/troposphere.ini" /opt/dev/troposphere/variables.ini

source /opt/env/troposphere/bin/activate
db=$(python -c 'from troposphere.settings import DATABASES as d; print(d["default"]["HOST"], d["default"]["PORT"])')
read -r host port <<<"$db"
until pg_isready -q -h "$host" -p "$port"; do
    if (( SECONDS >= 60 )); then
        echo "troposphere: no PostgreSQL at $host:$port after 60 s" >&2
        exit 1
    fi
    sleep 1
done

./manage.py migrate --noinput
exec python -m gunicorn --bind 0.0.0.0:8001 --access-logfile - --error-logfile - troposphere.wsgi

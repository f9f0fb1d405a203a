#!/bin/bash
# Start-up of the Atmosphere stand-in, as the real image does it on every start.
set -euo pipefail

secrets=/opt/dev/atmosphere-docker-secrets
if [[ ! -d $secrets/.git ]]; then
    echo "atmosphere: refusing to start: $secrets is not a git checkout (no .git)" >&2
    exit 1
fi
ln -sfn "$secrets/inis/atmosphere.ini" /opt/dev/atmosphere/variables.ini

# The deliberately broken release v37-91 (../README.md, "Broken releases") stops here.
if [[ -f /opt/dev/atmosphere/.exit-at-start ]]; then
    code=$(</opt/dev/atmosphere/.exit-at-start)
    echo "atmosphere: exiting at start with $code (deliberately broken release)" >&2
    exit "$code"
fi

source /opt/env/atmosphere/bin/activate
db=$(python -c 'from atmosphere.settings import DATABASES as d; print(d["default"]["HOST"], d["default"]["PORT"])')
read -r host port <<<"$db"
until pg_isready -q -h "$host" -p "$port"; do
    if (( SECONDS >= 60 )); then
        echo "atmosphere: no PostgreSQL at $host:$port after 60 s" >&2
        exit 1
    fi
    sleep 1
done

./manage.py migrate --noinput
exec python -m gunicorn --bind 0.0.0.0:8000 --access-logfile - --error-logfile - atmosphere.wsgi

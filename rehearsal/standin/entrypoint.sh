#!/bin/bash
# Start-up of an app stand-in (contract: ../README.md), as the real images do it on every start.
# The image's /usr/local/etc/standin-app.conf names the app (APP) and its port (PORT).
set -euo pipefail
source /usr/local/etc/standin-app.conf
code_dir=/opt/dev/$APP

secrets=/opt/dev/atmosphere-docker-secrets
if [[ ! -d $secrets/.git ]]; then
    echo "$APP: refusing to start: $secrets is not a git checkout (no .git)" >&2
    exit 1
fi
ln -sfn "$secrets/inis/$APP.ini" "$code_dir/variables.ini"

# The deliberately broken release v37-91 (../README.md, "Broken releases") stops here.
if [[ -f $code_dir/.exit-at-start ]]; then
    code=$(<"$code_dir/.exit-at-start")
    echo "$APP: exiting at start with $code (deliberately broken release)" >&2
    exit "$code"
fi

source "/opt/env/$APP/bin/activate"
cd "$code_dir"
# As the real images: the settings Django reads are rendered from the linked ini, not the ini.
./configure
db=$(python -c "from $APP.settings.local import DATABASES as d; print(d['default']['HOST'], d['default']['PORT'])")
read -r host port <<<"$db"
until pg_isready -q -h "$host" -p "$port"; do
    if (( SECONDS >= 60 )); then
        echo "$APP: no PostgreSQL at $host:$port after 60 s" >&2
        exit 1
    fi
    sleep 1
done

./manage.py migrate --noinput
# The data-losing release v37-95 (../README.md, "Data releases") deletes rows here, after the
# migrations and outside them, on every start; it prints one line on stdout and nothing else.
if [[ -f $code_dir/.purge-at-start ]]; then
    ./manage.py startup_cleanup
fi
exec python -m gunicorn --bind "0.0.0.0:$PORT" --access-logfile - --error-logfile - "$APP.wsgi"

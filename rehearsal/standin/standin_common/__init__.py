"""Code both stand-in apps share (contract: ../../README.md). The image builder copies this package
into each app's code folder, /opt/dev/<app>/standin_common, so it is importable wherever the app's
own packages are (manage.py, gunicorn, the entrypoint) and is part of the baked .git."""

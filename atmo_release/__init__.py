"""The Atmosphere release runbook as a library: what to run and how to judge the result.

Rooms, each a subpackage whose docstring states its rule; a room imports only rooms before it:
  the top      what every room shares: checks, the environment file, redaction, the release
               name, labels, the smoke settings, compose-file tag editing
  commands     argv builders, commands as data
  target       where commands run: local, SSH, a plan
  data, github, web
               the databases' contents; GitHub's API; what users see over HTTP
  record       the release record and its renderings
  resources    one per thing a run acts on and checks, knowing only its `Run`
  release_day  the deployment, resume, rollback, lock, gates, first deployment
  weeks_before the changelog, the candidate, notices, the production variables
The top's `attach`, `changelog` and `compose_file` are the commands records print
(`python -m atmo_release.<name>`); each hands over to its room.
"""

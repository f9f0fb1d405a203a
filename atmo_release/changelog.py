"""`python -m atmo_release.changelog`: Release a Keep a Changelog file.
Records and hints print this command, so it stays; the code is
atmo_release/weeks_before/changelog_edit.py."""

import sys

from atmo_release.weeks_before.changelog_edit import main

if __name__ == "__main__":
    sys.exit(main())

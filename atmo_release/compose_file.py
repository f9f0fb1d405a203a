"""`python -m atmo_release.compose_file`: Edit image tags in a compose file.
Records and hints print this command, so it stays; the code is atmo_release/compose_tags.py."""

import sys

from atmo_release.compose_tags import main

if __name__ == "__main__":
    sys.exit(main())

"""`python -m atmo_release.attach`: Attach a run's reports to its GitHub release.
Records and hints print this command, so it stays; the code is atmo_release/record/assets.py."""

import sys

from atmo_release.record.assets import main

if __name__ == "__main__":
    sys.exit(main())

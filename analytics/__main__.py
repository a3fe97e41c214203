"""``python -m analytics``: the command line (see ``analytics.cli``)."""

import sys

from analytics.cli import main

sys.exit(main())

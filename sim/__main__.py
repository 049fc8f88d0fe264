"""``python -m sim`` runs the negsim command line."""

import sys

from sim.cli import main

sys.exit(main())

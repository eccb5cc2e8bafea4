"""``python -m driftline_cli`` is the ``driftline`` console script."""

import sys

from .main import main

sys.exit(main())

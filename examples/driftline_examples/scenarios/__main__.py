"""``python -m driftline_examples.scenarios`` (``make scenarios``): see :mod:`driftline_examples.scenarios.runner`."""

import sys

from .runner import main

if __name__ == "__main__":
    sys.exit(main())

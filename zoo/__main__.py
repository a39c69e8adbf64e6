"""``python -m zoo COMMAND ...``: the same as the ``zoo`` console script."""

import sys

from zoo.cli import main

sys.exit(main())

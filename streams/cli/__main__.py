"""``python -m wirewatch.streams.cli``: the same as the ``wirewatch`` command."""

import sys

from . import main

sys.exit(main())

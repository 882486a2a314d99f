"""``python -m conformance``: the ``balloon-conform`` command line."""

from __future__ import annotations

import sys

from .entry import main

sys.exit(main())

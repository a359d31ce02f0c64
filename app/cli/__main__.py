"""`python -m app.cli`: what the `backaudit` console script runs."""

from __future__ import annotations

from . import main

raise SystemExit(main())

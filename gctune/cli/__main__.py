"""``python -m gctune.cli``: the gctune command."""

from gctune.cli.main import main

raise SystemExit(main())

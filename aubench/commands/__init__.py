"""One module per ``aubench`` command (see :mod:`aubench.cli`)."""

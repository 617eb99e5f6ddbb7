"""One module per ``aubench`` command (see :mod:`pipeline.cli`)."""

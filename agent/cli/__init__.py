"""The command line (``muie``)."""

"""The ``vecbridge`` command line."""

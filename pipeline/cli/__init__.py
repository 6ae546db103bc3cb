"""The command line's pieces."""

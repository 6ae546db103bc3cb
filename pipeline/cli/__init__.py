"""The command line (``python -m pipeline``): its commands, back-office tools, loader, progress and table printing."""

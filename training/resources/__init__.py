"""Data files shipped with the training package (see README.md here for their origin and licence)."""

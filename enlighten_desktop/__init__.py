"""Enlighten Desktop: low-light photo enhancement with EnlightenGAN, on the desktop."""

__version__ = "0.1.0"
APP_NAME = "Enlighten Desktop"

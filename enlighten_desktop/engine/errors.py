"""Typed errors whose messages a photographer understands.

Every message says what went wrong, with which file, and what to do about it. The CLI prints ``str(err)``;
the UI shows it in the queue row or a dialog. Library code raises these instead of printing or exiting.
"""

from __future__ import annotations


class EnlightenError(Exception):
    """Base of every error the engine raises on purpose."""


class ImageReadError(EnlightenError):
    """The file is missing, empty, truncated, corrupt or not an image."""


class UnsupportedFormatError(EnlightenError):
    """The file is an image, but of a kind the engine cannot read or write."""


class ImageTooLargeError(EnlightenError):
    """The image has more pixels than the safety limit (decompression-bomb guard)."""


class ImageWriteError(EnlightenError):
    """The result could not be written: read-only or locked file, missing folder, disk full."""


class OutputExistsError(EnlightenError):
    """The output file exists and overwriting was not asked for."""


class OriginalProtectedError(EnlightenError):
    """The output would replace an original: an input photo, or a file this program did not write."""


class BatchStateError(EnlightenError):
    """The batch state file cannot be used: a folder, a file that is not a batch state, or not writable."""


class ModelError(EnlightenError):
    """The model file is missing, damaged (checksum mismatch) or does not follow the model contract."""


class ProviderError(EnlightenError):
    """The requested execution provider (GPU back-end) is not available or failed."""


class CancelledError(EnlightenError):
    """The run was cancelled through its cancel token."""

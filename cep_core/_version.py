"""Single source of the core's version; a test keeps it equal to the distribution metadata."""

__version__ = "0.1.0"

"""The code suite."""

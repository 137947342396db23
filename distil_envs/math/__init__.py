"""The math suite."""

"""The science suite."""

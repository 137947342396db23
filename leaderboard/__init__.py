"""Leaderboard: evaluation runs, metrics, the result store and the static page."""

"""Running untrusted code: backends, limits, a worker pool, test harnesses."""

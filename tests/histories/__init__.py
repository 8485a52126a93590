"""Golden case histories recorded from real runs, replayed on every test run (see README.md here)."""

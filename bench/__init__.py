"""Drills and measurements that run the real system (dev server, worker processes) and print figures.

Speed and fault goals live here, not in timed tests: a script prints what it measured, a test may run it
small and assert only on correctness (nothing lost, nothing sent twice).
"""

"""The caseworkers' worklist on the command line: `starter.py tasks` and `starter.py task done|assign|claim`."""

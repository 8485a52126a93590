"""Activities: all I/O of a case (letters, MeMo, outbox, SF1601, tasks, payments).

Deliberately empty: workflows import `activities.models` through the sandbox, and re-exporting
`CaseActivities` here would drag sqlite3, requests and python-serviceplatformen in with it. Import
`activities.case_activities.CaseActivities` and `activities.channels.build_channels` directly.
"""

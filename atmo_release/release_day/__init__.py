"""The release-day run: the deployment that holds a run's resources, the runbook as plain
calls, resume, rollback, where a stopped run left the stack, the deploy lock, the gates before
production and the first deployment.

Rule: orders and guards; the acting and checking is in `resources`; the order is the feature
file's (tests/unit/test_unit_runbook_order.py holds these to it).
May import: every room but `weeks_before`.
"""

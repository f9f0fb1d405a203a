"""The release record: what a run did, when, with what result, its earlier records, its
renderings (record.md, record.html, the window's budget), the plan, where records live, their
attachment to the GitHub release and the live messages to the crew chief.

Rule: written from what the run hands it, redacted before it is serialised; it never acts on
the deployment.
May import: the top of the package, `target`, `github`.
"""

"""GitHub's REST API as the release uses it: pull requests, releases and their assets, the
blocks a run writes into a release's body, deployments.

Rule: one client per API, fed a token and a repository; knows nothing of a run or a record.
May import: the top of the package.
"""

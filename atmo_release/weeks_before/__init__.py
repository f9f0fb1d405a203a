"""The weeks before release day: the changelog, the candidate's repositories and tags, the
PRs slated for the release, notices and status.io, attestations, the production variables,
working days, image tags in the registry, and the runs of those features with their records.

Rule: prepares a release; never touches a deployment's containers or databases.
May import: the top of the package, `commands`, `target`, `github`, `record`, `resources`.
"""

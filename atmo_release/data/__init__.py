"""The databases' contents: the psql client, dumps and their proof, throwaway PostgreSQL
copies, fingerprints, the judgement of rows and the migrations run on a copy.

Rule: knows a `Target` and the database's name, never a run; it reads and proves data and
returns what it found, and the resources decide what that means for the deployment.
May import: the top of the package, `commands`, `target`.
"""

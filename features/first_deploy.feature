Feature: Deploy Atmosphere-Docker for the first time
  The driver moves Atmosphere from its old production server to a new deploy host: the old
  databases are dumped and proven by a restore, the deploy and secrets repositories are cloned,
  the dumps are loaded into the new database (host mode: psql into the host database; service
  mode, the 2019 compose file: copied into the checkout's postgres/ init directory) and the
  release is brought up on them. Every action is proven by re-reading the world, and the run
  halts at the first check that does not hold. The old production is only read.
  Then the upgrade can follow: features/deploy.feature on the new environment.

  Scenario: Dump the old production's databases
    When both databases of the old production are dumped as their owner into the backup directory
    Then each dump is complete and restores into a throwaway PostgreSQL with the old production's row counts

  Scenario: Clone the deploy and secrets repositories
    When atmosphere-docker and atmosphere-docker-secrets are cloned into a fresh directory
    Then both checkouts are at their upstream heads, the secrets on the environment's branch, and the compose file is there

  Scenario: Load the dumps into the new database
    When the dumps are loaded into the new database
    Then every table of the new database holds as many rows as the old production's

  Scenario: Bring the stack up on the release
    When the compose file is set to the release and the new stack is pulled and started
    Then every app runs the release's image and answers with the release's version
    And no migration is left unapplied and the old production's database is untouched
    And the new deployment holds every row of the old production, by count and by checksum

Feature: Roll back a release by hand
  When a release must go after all, the driver brings the previous release back:
  `pytest features/rollback.feature --env=NAME` (the release and the one before it come from
  the last deployment's record in --records-dir; --release and --to may name them). Users
  have written since the release, and going back keeps what they wrote: the release's own
  migrations run backwards, rehearsed first on a fresh dump of today's data while users still
  work. Only a migration that cannot be reversed leaves the release day's dump, whose restore
  discards what was written since: that is counted per table, and refused unless
  `--discard-writes-since-release "<reason>"` says why. Maintenance is on while the old
  release comes back, and stays on until the crew chief ends it.

  Scenario: Rehearse the way back before anyone is locked out
    Given the last deployment of this environment is recorded
    Then no restore started by an earlier run is left unknown
    And there is room on the deploy host for a fresh dump of each database and its copy
    When the old release's images are made ready on the deploy host
    Then the old release's images are on the deploy host
    When the way back is rehearsed on a fresh dump of today's data
    Then going back keeps what users wrote, or what it discards is counted and confirmed

  Scenario: Go back to the release before
    When maintenance is started on troposphere
    And maintenance is started on atmosphere
    Then each database holds exactly one active maintenance record with the title and message
    When the stack goes back to the release before it
    Then the old release's compose file, deploy checkout commit and secrets branch are in place
    And the old release answers with the versions from before the deploy
    And every row is kept or changed only as the rehearsed way back changes it

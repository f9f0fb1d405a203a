Feature: Roll back a release by hand
  When a release must go after all, the driver brings the previous release and its data back:
  `pytest features/rollback.feature --env=NAME --to=v37-2`. The last deployment's record says
  what ran before, which dumps hold the data, and what every table looked like; maintenance is
  on while the old release comes back, and stays on until the crew chief ends it.

  Scenario: Roll back to the release given with --to
    Given the last deployment of this environment is recorded
    When maintenance is started on troposphere
    And maintenance is started on atmosphere
    Then each database holds exactly one active maintenance record with the title and message
    When the stack is rolled back to the release given with --to
    Then the old release answers with the versions from before the deploy
    And every row is as it was when the apps stopped

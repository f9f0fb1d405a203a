Feature: Upgrade Atmosphere on deployment day
  The driver upgrades the running stack to the release while the crew chief follows the
  report; every action is proven before the next one starts, and the run halts at the first
  check that does not hold.

  Scenario: Preflight, before anything changes
    Then the environment file is valid
    And the crew chief and the driver are named
    And Docker answers
    And the compose file and the secrets checkout exist
    And the secrets branch has every key the apps need
    And the deploy checkout can fast-forward to upstream
    And the compose file names only services the environment knows
    And upstream's compose file with the release's tags shows the release's images in docker-compose config
    When the running deployment is recorded
    Then the previous release, its versions and its rows are in the record
    And there is room for the backups and dumps and the clock is right
    And the database's role can do what a rollback's restore does
    When the release images are pulled
    Then the release images are on the deploy host

  Scenario: Dump the databases and prove the dumps restore
    When each database is dumped into the backup directory
    Then each dump restores into a throwaway PostgreSQL with the same row counts
    When the release's migrations are run on the restored copies
    Then the migrations succeed there and what they change in each table is recorded

  Scenario: Start maintenance
    When maintenance is started on troposphere
    And maintenance is started on atmosphere
    Then each database holds exactly one active maintenance record with the title and message
    And the atmosphere API answers 503 with the message
    And troposphere sends users to the maintenance page with the message

  Scenario: Check out the secrets
    When the environment's branch of the secrets is checked out
    Then the secrets checkout is on that branch with a clean tree and every key the apps need
    And the keys changed since the last deployment are listed with their values masked

  Scenario: Stop the containers and back them up
    When the containers are stopped
    Then every service container has exited
    And nothing else is connected to the databases
    When the databases are read now that nothing writes to them
    And every table written since the proven dumps is dumped again
    Then each window dump holds the rows the stopped database has in those tables
    When each service container is committed to a backup image
    Then each backup image exists and records the image its container ran

  Scenario: Update the deploy checkout
    When the local changes and incoming commits are saved and the checkout is reset and pulled
    Then the deploy checkout is at the upstream head and what was local is saved in the record

  Scenario: Start the new images
    When the compose file is set to the release's image tags
    Then docker-compose config shows the release's images and only image lines changed
    When the new images are pulled and started
    Then every service container runs the release's image
    And the apps are ready within the environment's timeout

  Scenario: Use and test
    Then the version endpoints report the new release
    And no migration is left unapplied and the apps reach the database
    And no container logged a Traceback since it started
    And every row is kept, changed only as the rehearsed migrations change it
    And the environment's smoke checks hold inside the maintenance window
    And in a browser, ordinary users meet the maintenance page and the exempt user sees their instances
    When the rows of each table the migrations stamp are recorded row by row as the upgrade left them

  Scenario: End maintenance
    When maintenance is ended on troposphere
    And maintenance is ended on atmosphere
    Then no maintenance record is active
    And users are let in again
    And the environment's smoke checks hold again now that maintenance has ended
    When the rows of every other table are recorded row by row from the copies migrated beside the upgrade

  @always
  Scenario: Roll back when the new release failed its checks
    Runs only after a halt that touched the running release; maintenance stays on.
    When the new release failed its checks, the old release and its data are restored
    Then the old release's compose file, deploy checkout commit and secrets branch are in place
    And the old release answers with the versions from before the deploy
    And every row is as it was when the apps stopped

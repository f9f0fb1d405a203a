Feature: Prepare the release, two weeks before
  The crew chief makes sure the right people know: two roles are named, users are told in
  time, and what only a person can confirm is confirmed by name and recorded.

  Scenario: Name the crew chief and the driver
    When the crew chief and the driver are recorded
    Then the record names the crew chief and the driver

  Scenario: The maintenance notice goes out in time
    Then the maintenance notice date leaves enough working days before the release

  @cyverse
  Scenario: Tell atmosphere-users
    When the maintenance notice is sent to atmosphere-users
    Then the mail server received the notice naming the release and its date

  @cyverse
  Scenario: Post the banner and the calendar entry
    Then someone attested the maintenance banner on the user manual
    And someone attested the maintenance window on the CyVerse maintenance calendar

  @cyverse
  Scenario: Schedule the maintenance on status.io
    When the maintenance is scheduled on status.io unless it already is
    Then status.io lists exactly one upcoming maintenance for the release on the release date

  @jetstream
  Scenario: Tell the Jetstream tech team
    Then someone attested that the Jetstream tech team knows the date and time and told their users

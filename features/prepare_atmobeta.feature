Feature: Prepare the release on atmobeta, the week before
  Once the release runs on atmobeta and was tested there, the crew chief prepares production's
  variables: production's branch of the secrets holds every key the tested atmobeta branch
  holds, and whatever changed on atmobeta since the last production deployment without
  production following is confirmed by name. Only key names are shown, never a value.

  Scenario: Prepare production variables
    When the production branch of the secrets is compared with the atmobeta branch
    Then every key set on the atmobeta branch is set on the production branch
    And someone confirmed each key changed on atmobeta but not on production since the last production deployment

Feature: Create the release candidate, the week before
  The driver turns each app's Unreleased changelog items into the release, merges that into
  master, tags the merge and waits for the tagged images; every action is proven by reading
  the upstream repository and the registry back.

  Scenario: Update the changelogs
    When the Unreleased items of each app's changelog are moved under the release
    Then each changelog commit has the release heading holding exactly the Unreleased items and every other line as it was

  Scenario: Merge into master
    When each changelog commit is merged into master
    Then master upstream is the merge of the changelog commit and holds the released changelog

  Scenario: Tag the release
    When the merge is tagged with the release and the tag is pushed
    Then the upstream has the annotated release tag on the merge

  Scenario: The release of the tag
    When the GitHub release of the tag is made in each app repository
    Then each app repository has the release of the tag, named after the release, holding its changelog section

  Scenario: The tagged build made the images
    When the tagged builds are awaited in the registry
    Then each app's release image is in the registry

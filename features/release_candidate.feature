Feature: Create the release candidate, the week before
  In each repository of the release (atmosphere, troposphere and atmosphere-ansible, as the
  environment file lists them) the driver turns the Unreleased changelog items into the release,
  merges that into master and tags the merge, then waits for the tagged images of the apps;
  every action is proven by reading the upstream repository and the registry back. First, the
  pull requests slated for the release (the runbook's "Merge PRs slated for release", listed under
  "Prepare Release on Atmobeta") must all be merged: the tag is to hold them.

  Scenario: Merge the PRs slated for the release
    When the pull requests slated for the release are read from GitHub
    Then no pull request slated for the release is still open

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

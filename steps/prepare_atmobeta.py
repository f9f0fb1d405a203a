"""The week before, on atmobeta: production variables prepared (key names only, never values)."""

from __future__ import annotations

from pytest_bdd import then, when

from atmo_release.weeks_before import attest
from atmo_release.weeks_before.feature_runs import ATTEST, AtmobetaPreparation
from atmo_release.weeks_before.production_variables import Comparison, compare, require_prepared


def _compared(preparation: AtmobetaPreparation) -> Comparison:
    assert preparation.comparison is not None, "the branches were not compared"
    return preparation.comparison


@when("the production branch of the secrets is compared with the atmobeta branch")
def _(prepare_atmobeta_run: AtmobetaPreparation) -> None:
    preparation = prepare_atmobeta_run
    env, settings = preparation.environment, preparation.settings
    found = compare(
        preparation.target,
        env.secrets_dir,
        settings,
        env.secrets_branch,
        preparation.records_dir,
    )
    preparation.comparison = found
    since = found.since
    preparation.run.record.note(
        f"{settings.branch} against {env.secrets_branch}, since {since.described} at "
        f"{since.when}: {settings.branch} was {since.production[:12]}, {env.secrets_branch} "
        f"{since.atmobeta[:12] or '(no commit that old)'}"
    )
    preparation.run.fact(
        "production_variables",
        {
            "production_branch": settings.branch,
            "atmobeta_branch": env.secrets_branch,
            "since": vars(since),
            "missing": found.missing,
            "to_confirm": found.to_confirm,
        },
    )


@then("every key set on the atmobeta branch is set on the production branch")
def _(prepare_atmobeta_run: AtmobetaPreparation) -> None:
    require_prepared(_compared(prepare_atmobeta_run), prepare_atmobeta_run.settings.branch)


@then(
    "someone confirmed each key changed on atmobeta but not on production "
    "since the last production deployment"
)
def _(prepare_atmobeta_run: AtmobetaPreparation) -> None:
    preparation = prepare_atmobeta_run
    keys = _compared(preparation).to_confirm
    if not keys:
        preparation.run.record.note("no key changed on atmobeta alone: nothing to confirm")
        return
    preparation.run.record.note(f"changed on atmobeta alone: {', '.join(keys)}")
    found = attest.require(
        preparation.attestations,
        ATTEST,
        f"that production needs none of the atmobeta changes to {', '.join(keys)}, or has them",
    )
    preparation.run.record.note(f"confirmed by {found.who} at {found.when}")
    preparation.run.fact(f"attested_{ATTEST}", {"who": found.who, "when": found.when})

"""The compose project's containers and their images: what runs, stopping, backing up as
images, pulling the release and starting it."""

from __future__ import annotations

import json
from dataclasses import dataclass

from atmo_release import compose_tags
from atmo_release.checks import CheckFailed, require
from atmo_release.commands import docker
from atmo_release.release import Release
from atmo_release.resources import Resource
from atmo_release.target import Target


@dataclass(frozen=True)
class Container:
    id: str
    name: str
    service: str
    status: str
    image: str
    started_at: str
    labels: dict[str, str]


def project_containers(target: Target, project: str) -> dict[str, Container]:
    """service -> its container (the newest one when compose left several)."""
    listed = target.run(docker.project_containers(project))
    if not listed.ok:
        raise CheckFailed(f"docker could not list the containers of {project}: {listed.tail(2)}")
    ids = listed.stdout.split()
    if not ids:
        return {}
    inspected = target.run(docker.inspect(ids))
    if not inspected.ok:
        raise CheckFailed(f"docker inspect failed: {inspected.tail(2)}")
    found: dict[str, Container] = {}
    for item in sorted(json.loads(inspected.stdout), key=lambda c: c["Created"]):
        labels = item["Config"].get("Labels") or {}
        service = labels.get(docker.SERVICE_LABEL, "")
        found[service] = Container(
            id=item["Id"],
            name=item["Name"].lstrip("/"),
            service=service,
            status=item["State"]["Status"],
            image=item["Config"]["Image"],
            started_at=item["State"].get("StartedAt", ""),
            labels=labels,
        )
    return found


def image_labels(target: Target, reference: str) -> dict[str, str] | None:
    """The labels of a local image, or None when the image does not exist."""
    result = target.run(docker.image_inspect(reference))
    if not result.ok:
        return None
    return json.loads(result.stdout)[0]["Config"].get("Labels") or {}


class Containers(Resource):
    def now(self) -> dict[str, Container]:
        return project_containers(self.target, self.env.project)

    def running_name(self, app: str) -> str:
        """The name of `app`'s running container, to run a command in it by `docker exec`."""
        listed = self.run(docker.running_container(self.env.project, app), f"docker ps of {app}")
        names = sorted(listed.stdout.split())
        require(
            bool(names),
            f"{app} has no running container in compose project {self.env.project}: start it "
            f"with {self.compose.name} up -d {app}",
        )
        return names[0]

    def record_running(self) -> None:
        """The running release's images, checked against the compose file and the
        environment: what a rollback goes back to."""
        running = self.now()
        file_images = compose_tags.read_images(self.target.read_text(self.env.compose_path))
        for app in self.apps:
            require(
                app in running and running[app].status == "running",
                f"{app} is not running in compose project {self.env.project}: "
                "the upgrade starts from a running deployment",
            )
            repository, _ = compose_tags.split_reference(file_images.get(app, ""))
            require(
                repository == self.service(app).image,
                f"{self.env.compose_path} runs {app} from {repository!r} but {self.env.path} "
                f"says {self.service(app).image!r}",
            )
            self.state.previous_images[app] = running[app].image
        first = self.state.previous_images[self.apps[0]]
        previous = Release.from_image_tag(compose_tags.split_reference(first)[1] or "")
        self.record.previous_release = str(previous) if previous else first
        self.record.facts["previous_images"] = dict(self.state.previous_images)

    def pull_release_images(self) -> None:
        for app in self.apps:
            image = self.release_image(app)
            result = self.target.run(docker.pull(image), timeout=1800)
            require(
                result.ok,
                f"image {image} could not be pulled ({result.tail(1)}); nothing "
                "was changed: publish the image, make its registry reachable, or correct --release",
            )
            self.state.pulled_in_preflight.add(image)
            self.note(f"pulled {image}")

    def check_release_images_present(self) -> None:
        for app in self.apps:
            image = self.release_image(app)
            require(
                image_labels(self.target, image) is not None,
                f"image {image} is not on the deploy host",
            )

    def stop(self) -> None:
        self.run(self.compose.stop(), f"{self.compose.name} stop", timeout=900)
        self.state.stopped = True

    def check_all_exited(self) -> None:
        containers = self.now()
        require(bool(containers), f"no containers found for compose project {self.env.project}")
        running = [c.name for c in containers.values() if c.status != "exited"]
        require(not running, f"still running after stop: {', '.join(running)}")

    def backup_name(self, service: str) -> str:
        previous = self.state.previous_images.get(service) or self.now()[service].image
        tag = compose_tags.split_reference(previous)[1] or "previous"
        return f"old_{self.env.project}_{service}:{tag}"

    def back_up(self) -> None:
        """Commit each service container, by the name its Compose gave it (v1
        `<project>_<service>_1`, v2 `<project>-<service>-1`) as the runbook's command shows it;
        an existing backup is kept, never overwritten."""
        for service, container in sorted(self.now().items()):
            name = self.backup_name(service)
            if image_labels(self.target, name) is not None:
                self.note(f"kept the existing backup {name}")
            else:
                labels = {docker.BACKUP_FROM_LABEL: container.image, docker.BACKUP_LABEL: "backup"}
                self.run(
                    docker.commit(container.name, name, labels),
                    f"docker commit of {container.name}",
                )
            self.state.backups[service] = name
        self.record.facts["backups"] = dict(self.state.backups)

    def check_backups(self) -> None:
        for service, container in self.now().items():
            name = self.state.backups.get(service) or self.backup_name(service)
            labels = image_labels(self.target, name)
            require(labels is not None, f"backup image {name} of {service} does not exist")
            recorded = (labels or {}).get(docker.BACKUP_FROM_LABEL)
            require(
                recorded == container.image,
                f"backup image {name} records {recorded!r}, but {service} ran {container.image!r}",
            )

    def pull_and_up(self) -> None:
        """`pull` unless preflight pulled the release's images already (outside the
        maintenance window), then `up -d`."""
        pull = f"{self.compose.name} pull"
        if self.state.pulled_in_preflight >= {self.release_image(app) for app in self.apps}:
            self.note(f"the release's images were pulled in preflight; {pull} skipped")
        else:
            self.run(self.compose.pull(list(self.apps)), pull, timeout=1800)
        self.up()
        self.state.new_release_up = True

    def up(self) -> None:
        self.run(self.compose.up(), f"{self.compose.name} up -d", timeout=900)

    def check_running(self, images: dict[str, str]) -> None:
        """Each app runs the image given for it, as a running container."""
        containers = self.now()
        for app in self.apps:
            container = containers.get(app)
            require(container is not None, f"no {app} container after up -d")
            assert container is not None
            require(
                container.image == images[app],
                f"{app} runs {container.image}, expected {images[app]}",
            )
            require(container.status == "running", f"{app} is {container.status} after up -d")

    def check_running_release_images(self) -> None:
        self.check_running({app: self.release_image(app) for app in self.apps})

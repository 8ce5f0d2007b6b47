"""`instep lanes init`: a standard Fastfile and Appfile rendered from jinja2 templates
(`lanes/templates/*.j2`) for iOS, Android or both."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import jinja2

from lanes.errors import TemplateError

PLATFORMS = ("ios", "android")
FILES = ("Fastfile", "Appfile")
_BUNDLE_ID = re.compile(r"^[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$")
_PACKAGE = re.compile(r"^[A-Za-z][A-Za-z0-9_]*(\.[A-Za-z][A-Za-z0-9_]*)+$")
_GRADLE_TASK = re.compile(r"^(bundle|assemble)[A-Za-z0-9]*$")
_PLAY_TRACKS = ("internal", "alpha", "beta")


@dataclass(frozen=True)
class TemplateConfig:
    """What the generated lanes need to know about the app."""

    platforms: tuple[str, ...]
    bundle_id: str = "com.example.app"
    scheme: str = "App"
    xcode_workspace: str | None = None
    xcode_project: str | None = None
    export_method: str = "app-store"
    test_device: str = "iPhone 15"
    phased_release: bool = True
    automatic_release: bool = False
    package_name: str = "com.example.app"
    gradle_task: str = "bundle"
    build_type: str = "Release"
    project_dir: str = "android/"
    track: str = "internal"
    rollout: float = 0.1

    def problems(self) -> list[str]:
        """Every reason this configuration cannot be rendered; empty when it can."""
        found = []
        if not self.platforms:
            found.append("choose at least one platform: --platform ios,android")
        for platform in self.platforms:
            if platform not in PLATFORMS:
                found.append(f"unknown platform {platform!r}; choose from {', '.join(PLATFORMS)}")
        if len(set(self.platforms)) != len(self.platforms):
            found.append("a platform is listed twice in --platform")
        if "ios" in self.platforms:
            if not _BUNDLE_ID.match(self.bundle_id):
                found.append(f"bundle id {self.bundle_id!r} is not a reverse-DNS id like com.example.shop")
            if not self.scheme.strip():
                found.append("the Xcode scheme is empty")
            if self.xcode_workspace and self.xcode_project:
                found.append("pass either an Xcode workspace or an Xcode project, not both")
        if "android" in self.platforms:
            if not _PACKAGE.match(self.package_name):
                found.append(
                    f"package name {self.package_name!r} is not a Java package name like com.example.shop"
                )
            if not _GRADLE_TASK.match(self.gradle_task):
                found.append(
                    f"Gradle task {self.gradle_task!r} should build a release: 'bundle' (AAB) or 'assemble' (APK)"
                )
            if self.track not in _PLAY_TRACKS:
                found.append(f"store track {self.track!r} must be one of {', '.join(_PLAY_TRACKS)}")
            if not 0 < self.rollout <= 1:
                found.append(f"rollout {self.rollout:g} must be a fraction greater than 0 and at most 1")
        return found


def _ruby(value: object) -> str:
    """A Ruby literal for a string, bool or number; strings are double-quoted without interpolation."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    text = str(value)
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("#", "\\#").replace("\n", "\\n")
    return f'"{escaped}"'


def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("lanes", "templates"),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        autoescape=False,
    )
    env.filters["ruby"] = _ruby
    return env


def render(config: TemplateConfig) -> dict[str, str]:
    """`{"Fastfile": text, "Appfile": text}` for `config`; raises `TemplateError` listing problems."""
    problems = config.problems()
    if problems:
        raise TemplateError("cannot generate the Fastfile: " + "; ".join(problems))
    container = ""
    if config.xcode_workspace:
        container = f"workspace: {_ruby(config.xcode_workspace)}, "
    elif config.xcode_project:
        container = f"project: {_ruby(config.xcode_project)}, "
    bundle = config.gradle_task.startswith("bundle")
    binary = (
        "aab: lane_context[SharedValues::GRADLE_AAB_OUTPUT_PATH],\n      skip_upload_apk: true,"
        if bundle
        else "apk: lane_context[SharedValues::GRADLE_APK_OUTPUT_PATH],\n      skip_upload_aab: true,"
    )
    context = {
        **{name: getattr(config, name) for name in config.__dataclass_fields__},
        "platforms": list(config.platforms),
        "xcode_container_option": container,
        "xcodeproj_option": f"xcodeproj: {_ruby(config.xcode_project)}, " if config.xcode_project else "",
        "upload_binary_options": binary,
    }
    env = _environment()
    return {name: env.get_template(f"{name}.j2").render(context) for name in FILES}


def init_fastlane(directory: Path | str, config: TemplateConfig, *, force: bool = False) -> list[Path]:
    """Write `fastlane/Fastfile` and `fastlane/Appfile` under `directory`; returns the paths written.
    Refuses (TemplateError, nothing written) when either exists and `force` is False."""
    rendered = render(config)
    target = Path(directory) / "fastlane"
    paths = {name: target / name for name in FILES}
    existing = [path for path in paths.values() if path.exists()]
    if existing and not force:
        names = ", ".join(str(path) for path in existing)
        raise TemplateError(f"{names} already exist(s); nothing was written. Pass --force to overwrite.")
    target.mkdir(parents=True, exist_ok=True)
    for name, path in paths.items():
        path.write_text(rendered[name], encoding="utf-8")
    return list(paths.values())

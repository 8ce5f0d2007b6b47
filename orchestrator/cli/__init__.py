"""The `instep` command line: one click group; each package contributes its own sub-commands.

Sub-commands are imported lazily so `instep --help` stays fast and a package's import cost is
paid only by the commands that use it."""

from __future__ import annotations

import importlib

import click

# name -> "module:attribute" of a click command or group.
_COMMANDS: dict[str, str] = {
    "serve": "orchestrator.cli.server:serve",
    "worker": "orchestrator.cli.server:worker",
    "db": "orchestrator.cli.server:db",
    "validate": "orchestrator.cli.validate:validate",
    "project": "orchestrator.cli.projects:project",
    "token": "orchestrator.cli.projects:token",
    "user": "orchestrator.cli.users:user",
    "hook": "orchestrator.cli.hooks:hook",
    "notify": "orchestrator.cli.notify:notify",
    "run": "orchestrator.cli.runs:run",
    "release": "orchestrator.cli.releases:release",
    "web": "orchestrator.cli.web:web",
    "parity": "orchestrator.cli.parity:parity",
    "can-i-ship": "orchestrator.cli.parity:can_i_ship",
    "lanes": "lanes.cli:lanes",
    "screenshots": "screenshots.cli:screenshots",
    "suite": "device_farm.cli:suite",
    "farm": "device_farm.cli:farm",
}


class _LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(set(_COMMANDS) | set(self.commands))

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in self.commands:
            return self.commands[cmd_name]
        target = _COMMANDS.get(cmd_name)
        if target is None:
            return None
        module_name, _, attr = target.partition(":")
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name != module_name:
                raise
            return None
        command = getattr(module, attr)
        self.add_command(command, cmd_name)
        return command


@click.group(cls=_LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="instep")
def main() -> None:
    """Instep keeps iOS and Android releases in step with the web."""

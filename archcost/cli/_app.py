"""The shared typer app and the helpers every command module uses."""

from __future__ import annotations

import os
import sys
from typing import Annotated

import typer


from .plain import Format, fail, out, overrides  # noqa: F401 - shared with the typer-free fast path

CONTEXT = {"help_option_names": ["-h", "--help"]}


class Group(typer.core.TyperGroup):
    """The command group, with one error format: ``error: what. Fix: how.`` on stderr, exit 2.

    Click prints usage errors as "Error: ..." (in a rich panel under typer); archcost's own errors
    (:func:`fail`) say ``error:``.  Both now read alike: the usage line, then one ``error:`` paragraph.
    """

    def main(self, args=None, prog_name=None, complete_var=None, standalone_mode=True, **extra):
        from typer._click import exceptions as click  # typer 0.28 carries its own copy of click

        if not standalone_mode:
            return super().main(args, prog_name, complete_var, standalone_mode, **extra)
        try:
            rv = super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        except click.UsageError as e:
            if type(e).__name__ == "NoArgsIsHelpError":  # `archcost` alone: the help
                sys.stdout.write(e.ctx.get_help() + "\n")
                sys.exit(e.exit_code)
            usage = e.ctx.get_usage().replace("Usage:", "usage:", 1) if e.ctx else ""
            where = e.ctx.command_path if e.ctx else "archcost"
            sys.stderr.write((usage + "\n" if usage else "") +
                             f"error: {e.format_message().rstrip('.')}. Fix: see `{where} -h`.\n")
            sys.exit(e.exit_code)
        except click.ClickException as e:
            sys.stderr.write(f"error: {e.format_message()}\n")
            sys.exit(e.exit_code)
        except typer.Abort:
            sys.stderr.write("aborted\n")
            sys.exit(1)
        except BrokenPipeError:  # e.g. `archcost table -h | head`: stop quietly, as click does
            sys.stdout = None
            sys.exit(1)
        sys.exit(rv if isinstance(rv, int) else 0)


class Command(typer.core.TyperCommand):
    """A command whose usage line reads ``archcost table [OPTIONS] SPEC`` (typer 0.28 writes ``{SPEC}``)."""

    def collect_usage_pieces(self, ctx):
        return [p[1:-1] if p.startswith("{") and p.endswith("}") else p for p in super().collect_usage_pieces(ctx)]


def typer_app(**kw) -> typer.Typer:
    """A Typer whose commands use :class:`Command` and whose groups use :class:`Group`."""
    t = typer.Typer(cls=Group, pretty_exceptions_enable=False, context_settings=CONTEXT, **kw)
    command = t.command
    t.command = lambda *a, **k: command(*a, **{"cls": Command, **k})
    return t


app = typer_app(add_completion=True, no_args_is_help=True,
                help="archcost: what does this neural network cost? (shapes, params, MACs, memory)")


def _version(value: bool):
    if value:
        from importlib.metadata import version

        sys.stdout.write(f"archcost {version('archcost')}\n")
        raise typer.Exit()


@app.callback()
def _main_options(
    version: Annotated[bool, typer.Option("--version", "-V", help="print the version and exit", callback=_version,
                                          is_eager=True)] = False,
):
    """archcost: what does this neural network cost? (shapes, params, MACs, memory)"""


def complete_spec(incomplete: str) -> list:
    """Shell completion for a SPEC argument: zoo model names, or spec files once it looks like a path.

    Runs only when the shell asks for completions (typer's completion mode), never on a normal start.
    """
    if os.sep in incomplete or incomplete.startswith((".", "~")):
        import glob

        base = os.path.expanduser(incomplete)
        return sorted(p + (os.sep if os.path.isdir(p) else "") for p in glob.glob(base + "*")
                      if os.path.isdir(p) or p.endswith((".yaml", ".yml")))
    from ..language import model_names

    return [n for n in model_names() if n.startswith(incomplete)]


SpecArg = Annotated[str, typer.Argument(help="zoo name (see `archcost zoo`) or path to a spec YAML file",
                                        autocompletion=complete_spec, metavar="SPEC", show_default=False)]


def command_name(info) -> str:
    """What ``archcost NAME`` a registered typer command answers to."""
    return info.name or info.callback.__name__.replace("_", "-")

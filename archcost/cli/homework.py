"""Homework commands: ``check`` (grade an answers file), ``explain`` (the working), ``calc`` (one layer)."""

from __future__ import annotations

from enum import Enum
from typing import Annotated, Optional

import typer

from ..errors import SpecError
from ._app import app, fail, out, overrides
from .options import Batch, Convention, Dtype, Input, Sets, depth_option, format_option, output_option


class CheckFormat(str, Enum):
    text = "text"
    json = "json"
    markdown = "markdown"
    gradescope = "gradescope"


class ExplainFormat(str, Enum):
    text = "text"
    json = "json"
    markdown = "markdown"


CheckFormatOpt = format_option(CheckFormat, help="output format: text, json, markdown, gradescope (results.json)")
ExplainFormatOpt = format_option(ExplainFormat)
CalcFormatOpt = format_option(ExplainFormat, help="output format: text, json, markdown (the text in a fenced block)")
CheckOutput = output_option("write here instead of stdout (e.g. /autograder/results/results.json)")
CheckDepth = depth_option("levels of working shown in text (default 3; all in json/markdown)")
ExplainDepth = depth_option("levels of working shown (default: 4 for text, all otherwise)")


def _write(text: str, output: Optional[str]) -> Optional[SpecError]:
    """Write ``text`` to ``output`` (or stdout); a failed write is returned, not raised, so that the
    caller can report it after (never instead of) the error it was writing."""
    if output:
        try:
            with open(output, "w", encoding="utf-8") as fh:
                fh.write(text if text.endswith("\n") else text + "\n")
        except (OSError, ValueError) as err:
            return SpecError(f"cannot write {output}: {getattr(err, 'strerror', None) or err}",
                             fix="check the folder exists and is writable.")
    else:
        out(text)
    return None


def _write_or_fail(text: str, output: Optional[str]):
    err = _write(text, output)
    if err is not None:
        fail(err)


@app.command()
def check(
    answers: Annotated[str, typer.Argument(help="answers file (self-study), or the instructor's key with --responses", metavar="ANSWERS")],
    responses: Annotated[Optional[str], typer.Option("--responses", "-r", help="a student's responses file (`id: answer` lines) graded against the key ANSWERS; nothing in it but answers is obeyed")] = None,
    root: Annotated[Optional[str], typer.Option("--root", help="folder the key's `spec:` and `include:` paths must stay in (default: the key's folder)")] = None,
    format: CheckFormatOpt = CheckFormat.text,
    output: CheckOutput = None,
    depth: CheckDepth = None,
    student: Annotated[Optional[str], typer.Option("--student", help="grade against this student's variant of the questions with `vary:` (the roster id)")] = None,
    submission_metadata: Annotated[Optional[str], typer.Option("--submission-metadata", help="take --student from Gradescope's submission_metadata.json (the first user's email)")] = None,
    full_working: Annotated[bool, typer.Option("--full-working", help="every layer in a ratio's or fraction's working (default: totals and the largest contributors)")] = False,
):
    """Check a student's answers: ✓/✗ per question, the expected value, the working and the likely mistake.

    Self-study: `archcost check answers.yaml`.  Grading: `archcost check key.yaml --responses student.yaml
    -f gradescope -o results.json` (each question's `show:` in the key says what the student sees).
    Exit 0 when every answer is right, 1 when any is wrong or missing, 2 for a bad key or answers file
    (an unreadable answer only makes its question wrong), 3 for an internal error (results.json still written).
    """
    from ..homework import check_file
    from ..homework import render

    if depth is not None and depth < 0:
        fail(SpecError(f"--depth must be 0 or more, got {depth}", fix="use --depth 0 (no working) or more."))
    try:
        if submission_metadata is not None:
            if student is not None:
                raise SpecError("--student and --submission-metadata both name the student",
                                fix="give one of them.")
            from ..homework.variants import student_from_metadata

            student = student_from_metadata(submission_metadata)
        report = check_file(answers, responses, root=root, full_working=full_working, student=student)
        if format == CheckFormat.json:
            text = render.to_json(report)
        elif format == CheckFormat.markdown:
            text = render.to_markdown(report)
        elif format == CheckFormat.gradescope:
            text = render.to_gradescope(report)
        else:
            text = render.to_text(report, 3 if depth is None else depth)
    except SpecError as err:
        if format == CheckFormat.gradescope:
            failed = _write(render.error_gradescope(str(err)), output)
            if failed is not None:
                err.message += f" (and {failed.message})"
        fail(err)
    except Exception as exc:  # noqa: BLE001 - an autograder must still get a results.json, and never exit 1
        why = f"internal error in archcost ({type(exc).__name__}: {str(exc)[:300]}); please report it"
        if format == CheckFormat.gradescope:
            _write(render.error_gradescope(why), output)
        fail(SpecError(why, fix="the files were not graded; run again, or report the bug with the files."), 3)
    _write_or_fail(text, output)
    raise typer.Exit(0 if report.all_right else 1)


@app.command()
def explain(
    spec: Annotated[str, typer.Argument(help="zoo name or spec file", metavar="SPEC")],
    layer: Annotated[Optional[list[str]], typer.Option("--layer", "-l", help="a node id or a block's name prefix (e.g. inception3a); repeatable")] = None,
    quantity: Annotated[Optional[list[str]], typer.Option("--quantity", "-q", help="output_shape, params, macs, flops, activation_bytes, weight_bytes, peak_activation_bytes, depth, ... (repeatable)")] = None,
    input: Input = None,
    set_: Sets = None,
    convention: Convention = "default",
    dtype: Dtype = "float32",
    batch: Batch = 1,
    ops: Annotated[Optional[list[str]], typer.Option("--ops", help="only layers of these ops or families (repeatable)")] = None,
    depth: ExplainDepth = None,
    format: ExplainFormatOpt = ExplainFormat.text,
    list_layers: Annotated[bool, typer.Option("--layers", help="list the names a question's `layer:` accepts, the paper's names included")] = False,
):
    """The working behind a layer's, a block's or a whole model's numbers, with the numbers substituted."""
    from ..homework.explain import explain_spec, explain_json, explain_markdown, explain_text

    if list_layers:
        from ..homework.explain import layer_names

        try:
            out(layer_names(spec, input=input, overrides=overrides(set_)))
        except SpecError as err:
            fail(err)
        return
    try:
        result = explain_spec(spec, layers=layer, quantities=quantity, input=input, overrides=overrides(set_),
                              convention=convention, dtype=dtype, batch=batch, ops=ops)
    except SpecError as err:
        fail(err)
    if format == ExplainFormat.json:
        out(explain_json(result))
    elif format == ExplainFormat.markdown:
        out(explain_markdown(result, depth))
    else:
        out(explain_text(result, 4 if depth is None else depth))


@app.command(context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
def calc(
    ctx: typer.Context,
    op: Annotated[str, typer.Argument(help="an op (see `archcost ops`), e.g. conv2d, linear, max_pool2d", metavar="OP")],
    in_: Annotated[str, typer.Option("--in", help="input shape, channels first, no batch: 3,227,227")],
    compare: Annotated[Optional[str], typer.Option("--compare", help="depthwise-separable: standard vs depthwise + pointwise")] = None,
    convention: Convention = "default",
    dtype: Dtype = "float32",
    batch: Batch = 1,
    format: CalcFormatOpt = ExplainFormat.text,
):
    """One layer's output shape, params, MACs and memory with the working; the op's arguments as options
    with torch's names (--out-channels 96 --kernel-size 11 --stride 4 --no-bias)."""
    import json

    from ..homework.answers import checked_options
    from ..homework.calc import (COMPARISONS, calc as run_calc, calc_text, depthwise_separable, parse_op_args,
                                 parse_shape, separable_dict, separable_text)

    try:
        o = checked_options(convention, dtype, batch)
        shape = parse_shape(in_)
        args = parse_op_args(op, list(ctx.args))
        if compare is not None:
            if compare not in COMPARISONS:
                raise SpecError(f"unknown comparison '{compare}'", fix=f"use --compare {' or '.join(COMPARISONS)}.")
            if op != "conv2d":
                raise SpecError("--compare depthwise-separable compares a conv2d", fix="write `archcost calc conv2d ...`.")
            s = depthwise_separable(shape, args, o)
            out(json.dumps(separable_dict(s), indent=2, ensure_ascii=False, allow_nan=False) if format == ExplainFormat.json
                else _fenced(separable_text(s)) if format == ExplainFormat.markdown else separable_text(s))
            return
        c = run_calc(op, shape, args, o)
    except SpecError as err:
        fail(err)
    if format == ExplainFormat.json:
        out(json.dumps({"title": c.title, "notes": c.notes, **{q: w.to_dict() for q, w in c.workings.items()}},
                       indent=2, ensure_ascii=False, allow_nan=False))
    elif format == ExplainFormat.markdown:
        out(_fenced(calc_text(c)))
    else:
        out(calc_text(c))


def _fenced(text: str) -> str:
    return "```text\n" + text.rstrip("\n") + "\n```\n"

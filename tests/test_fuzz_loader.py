"""Fuzz the loader: whatever the input, archcost either analyses it or raises SpecError.

Three sources of input: random text, random YAML structures built from the spec
language's own vocabulary (op names, argument names, modifiers, expressions), and
random mutations of every zoo spec in specs/ (delete / duplicate / swap lines,
numbers replaced by random integers including negative and huge ones, words
replaced by op names, truncation).  Every example runs under a 10-second alarm:
a hang is a failure, and so is any exception other than :class:`SpecError`.
"""

from __future__ import annotations

import os
import re
import signal
from pathlib import Path

import yaml
from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st

import archcost
from archcost.errors import SpecError
from archcost.ops import OPS
from archcost.language import build_graph, load_spec, specs_dir

EXAMPLES = int(os.environ.get("ARCHCOST_LOADER_EXAMPLES", 200))
TIMEOUT_S = 10
SPEC_FILES = sorted(p for p in specs_dir().glob("*.yaml"))
SETTINGS = settings(max_examples=EXAMPLES, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                           HealthCheck.filter_too_much])


class Hang(Exception):
    pass


def _alarm(signum, frame):
    raise Hang(f"no answer within {TIMEOUT_S} s")


def run_loader(text: str, file: str = "fuzz.yaml", *, in_test: bool = True):
    """Load, expand and analyse; return 'ok' or 'spec-error'; anything else propagates."""
    if in_test:
        note(text[:3000])
    old = signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(TIMEOUT_S)
    try:
        spec = load_spec(file, text=text)
        graph = build_graph(spec)
        archcost.analyze(graph).collapse(1)
        return "ok"
    except SpecError as err:
        msg = str(err)
        assert "\n" not in msg and "Fix:" in msg, msg
        assert file in msg, f"error does not name the file: {msg}"
        return "spec-error"
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


# ---------------------------------------------------------------- random text
@SETTINGS
@given(st.text(max_size=400))
def test_random_text(text):
    run_loader(text)


@SETTINGS
@given(st.lists(st.sampled_from(["name: x\n", "input: [3, 8, 8]\n", "layers:\n", "  - ", "relu: {}\n",
                                 "conv2d: {out_channels: 4, kernel_size: 3}\n", "{", "}", "[", "]", ": ", ", ",
                                 "&a ", "*a ", "- ", "  ", "\t", "#", "'", '"', "!!int ", "? ", "---\n", "...\n",
                                 "repeat: 3", "from: x", "name: x", "\\", "\x00", "\ufeff", "é"]), max_size=40))
def test_random_yaml_tokens(parts):
    run_loader("".join(parts))


# ---------------------------------------------------------------- random structures in the spec vocabulary
WORDS = sorted(OPS) + ["sequential", "residual", "parallel", "activation", "layers", "shortcut", "branches", "join",
                       "split", "fn", "concat", "add", "multiply", "name", "if", "repeat", "first", "from", "in",
                       "_", "in0", "in1", "ch", "h", "w", "i", "same", "valid", "blk", "out", "k", "s"]
ARGS = sorted({a.name for op in OPS.values() for a in op.attrs}) + ["name", "if", "repeat", "first", "from", "fn",
                                                                      "layers", "shortcut", "branches", "join", "split"]
EXPRS = ["ch * 2", "in // 2", "(k - 1) // 2", "make_divisible(ch * 0.75, 8)", "ch if ch > 4 else 4", "i + 1",
         "h // 0", "10 ** 30", "-3", "round(1.5)", "max(1, ch - 100)", "ch >= 8", "not true", "1e999", "w // 2",
         "out * 2", "blk", "((((", "'relu'", "sqrt(ch)", "int(ch / 3)", "ch % 0"]
scalars = st.one_of(st.integers(-3, 40), st.sampled_from([0, 1, 2, 3, 10**6, 10**12, -10**9, 2**63]),
                    st.sampled_from([0.5, 1.0, 1e-5, -0.5, float("inf"), float("nan")]), st.booleans(), st.none(),
                    st.sampled_from(WORDS), st.sampled_from(EXPRS), st.text(max_size=6))
values = st.recursive(scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=4),
    st.dictionaries(st.sampled_from(ARGS + WORDS), inner, max_size=4)), max_leaves=25)
layer = st.one_of(
    st.dictionaries(st.sampled_from(WORDS), st.dictionaries(st.sampled_from(ARGS), values, max_size=4),
                    min_size=1, max_size=1),
    st.builds(lambda op, args, mods: {op: args, **mods}, st.sampled_from(WORDS),
              st.dictionaries(st.sampled_from(ARGS), values, max_size=3),
              st.dictionaries(st.sampled_from(["name", "if", "repeat", "first", "from"]), values, max_size=2)),
    values)
shapes = st.one_of(st.lists(st.integers(1, 12), min_size=1, max_size=3), st.lists(values, max_size=3), values)


@SETTINGS
@given(shape=shapes, layers=st.lists(layer, max_size=6), blocks=st.dictionaries(
    st.sampled_from(["blk", "b2", "conv2d", "relu"]),
    st.fixed_dictionaries({"layers": st.lists(layer, max_size=3)},
                          optional={"args": st.dictionaries(st.sampled_from(["out", "k", "s"]), values, max_size=3),
                                    "residual": st.sampled_from(["none", "auto", "yes"])}), max_size=2),
       params=st.dictionaries(st.sampled_from(["width", "depth", "res", "out", "k"]), values, max_size=3))
def test_random_structures(shape, layers, blocks, params):
    spec = {"name": "fuzz", "input": shape, "layers": layers}
    if blocks:
        spec["blocks"] = blocks
    if params:
        spec["params"] = params
    run_loader(yaml.safe_dump(spec, sort_keys=False, default_flow_style=None, allow_unicode=True))


# ---------------------------------------------------------------- mutations of the zoo's own specs
NUMBER = re.compile(r"(?<![\w.])-?\d+(?:\.\d+)?(?![\w.])")
WORD = re.compile(r"\b[a-z_][a-z_0-9]*\b")


@st.composite
def mutated_specs(draw):
    path = draw(st.sampled_from(SPEC_FILES))
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    for _ in range(draw(st.integers(1, 3))):
        if not lines:
            break
        kind = draw(st.sampled_from(["delete", "duplicate", "swap", "number", "number", "word", "word", "truncate"]))
        i = draw(st.integers(0, len(lines) - 1))
        if kind == "delete":
            del lines[i]
        elif kind == "duplicate":
            lines.insert(i, lines[i])
        elif kind == "swap":
            j = draw(st.integers(0, len(lines) - 1))
            lines[i], lines[j] = lines[j], lines[i]
        elif kind == "number":
            spots = list(NUMBER.finditer(lines[i]))
            if spots:
                m = draw(st.sampled_from(spots))
                new = draw(st.one_of(st.integers(-3, 20), st.sampled_from([0, -1, 10**6, 10**15, 10**30, 2**64])))
                lines[i] = lines[i][:m.start()] + str(new) + lines[i][m.end():]
        elif kind == "word":
            spots = list(WORD.finditer(lines[i]))
            if spots:
                m = draw(st.sampled_from(spots))
                new = draw(st.sampled_from(sorted(OPS) + ["in", "ch", "repeat", "sequential", "parallel", "name"]))
                lines[i] = lines[i][:m.start()] + new + lines[i][m.end():]
        else:
            text = "".join(lines)
            cut = draw(st.integers(0, len(text)))
            lines = text[:cut].splitlines(keepends=True)
    return path, "".join(lines)


def test_zoo_specs_load():
    """Unmutated, every zoo spec analyses (the baseline the mutations start from)."""
    assert SPEC_FILES
    for path in SPEC_FILES:
        assert run_loader(path.read_text(encoding="utf-8"), str(path), in_test=False) == "ok", path


@SETTINGS
@given(mutated_specs())
def test_zoo_spec_mutations(case):
    path, text = case
    # keep the real path, so `include:` finds the zoo's block libraries
    run_loader(text, str(path))


@SETTINGS
@given(st.sampled_from(SPEC_FILES) if SPEC_FILES else st.nothing(), st.integers(0, 10**6), st.binary(max_size=8))
def test_zoo_spec_byte_noise(path, pos, noise):
    """Random bytes spliced into a zoo file on disk (read through the file path: decoding errors too)."""
    data = Path(path).read_bytes()
    pos %= len(data) + 1
    tmp = Path(os.environ.get("PYTEST_TMP", "/tmp")) / f"archcost_noise_{os.getpid()}.yaml"
    tmp.write_bytes(data[:pos] + noise + data[pos:])
    old = signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(TIMEOUT_S)
    try:
        archcost.analyze(str(tmp))
    except SpecError as err:
        # located in the file, or in a block library's layer with the file's call site named
        assert str(err).startswith(str(tmp)) or f"called at {tmp}:" in str(err), str(err)
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)
        archcost.api._GRAPH_CACHE.clear()

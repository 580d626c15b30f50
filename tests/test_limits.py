"""Every resource limit ends in a located SpecError (file:line, and the layer where one is involved).

Limits: block nesting depth, layer-list nesting depth, repeat count, total layer
count (MAX_NODES), expansion steps (repeats of repeats), tensor elements (inputs
and outputs), YAML aliases (count and expanded size), YAML nesting depth (flow,
block and compact ``- - -`` forms), file size, expression length and bracket
depth, and the interpreter's recursion limit as a last resort.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

import archcost
from archcost.errors import SpecError
from archcost.language import build_graph, expand, load_spec, yamlload
from archcost.language.expr import MAX_EXPR_CHARS
from located import assert_located

HEAD = "name: lim\ninput: [3, 16, 16]\n"


def fails(text, *fragments, line=None, layer=None, file="lim.yaml"):
    """Load + expand ``text``; assert a SpecError naming file, line, layer and the fragments."""
    with pytest.raises(SpecError) as info:
        build_graph(load_spec(file, text=text))
    assert_located(info.value, file, *fragments, line=line, layer=layer)
    return info.value


def test_block_nesting_depth():
    n = expand.MAX_BLOCK_DEPTH + 3
    blocks = "".join(f"  b{i}:\n    layers:\n      - b{i + 1}: {{}}\n" for i in range(n)) + f"  b{n}:\n    layers: [relu: {{}}]\n"
    fails(HEAD + "blocks:\n" + blocks + "layers:\n  - b0: {}\n", f"nested more than {expand.MAX_BLOCK_DEPTH} deep")


def test_layer_list_nesting_depth():
    # each block adds three levels of layer lists; YAML itself stays shallow
    blocks = "".join(f"  b{i}:\n    layers:\n      - sequential:\n          - sequential:\n              - b{i + 1}: {{}}\n"
                     for i in range(30)) + "  b30:\n    layers: [relu: {}]\n"
    fails(HEAD + "blocks:\n" + blocks + "layers:\n  - b0: {}\n", f"nested more than {expand.MAX_NESTING} deep")


@pytest.mark.parametrize("count", [-1, expand.MAX_REPEAT + 1, 10**12, "2.5", "10 ** 9"])
def test_repeat_count(count):
    fails(HEAD + f"layers:\n  - relu: {{}}\n  - {{relu: {{}}, repeat: {count}}}\n", "repeat", line=5, layer="relu1")


def test_total_layer_count(monkeypatch):
    monkeypatch.setattr(expand, "MAX_NODES", 500)
    fails(HEAD + "layers:\n  - {relu: {}, repeat: 501}\n", "more than 500 layers", line=4)


def test_total_layer_count_real_limit():
    blocks = "blocks:\n  eight:\n    layers:\n" + "      - relu: {}\n" * 8
    fails(HEAD + blocks + "layers:\n  - {eight: {}, repeat: 7000}\n", f"more than {expand.MAX_NODES:,} layers")


def test_expansion_steps(monkeypatch):
    monkeypatch.setattr(expand, "MAX_STEPS", 5_000)
    blocks = ("blocks:\n  empty:\n    layers:\n      - {relu: {}, if: false}\n"
              "  many:\n    layers:\n      - {empty: {}, repeat: 100}\n")
    fails(HEAD + blocks + "layers:\n  - {many: {}, repeat: 100}\n", "more than 5,000 layers", line=6)


@pytest.mark.parametrize("layer, fragment", [
    ("conv2d: {out_channels: 10000000000, kernel_size: 1}", "elements"),
    ("zeropad2d: {padding: 10000000}", "elements"),
    ("conv_transpose2d: {out_channels: 64, kernel_size: 1, stride: 100000000}", "elements"),
    ("adaptive_avg_pool2d: {output_size: 100000000}", "elements"),
])
def test_tensor_element_limit(layer, fragment):
    fails(HEAD + f"layers:\n  - relu: {{}}\n  - {layer}\n", fragment, "memory", line=5)


def test_input_element_limit():
    fails("name: lim\ninput: [3, 10000000, 10000000]\nlayers:\n  - relu: {}\n", "input shape", "elements", line=2)
    with pytest.raises(SpecError, match="elements"):
        archcost.analyze("mobilenetv2", input=(3, 10**7, 10**7))


def test_yaml_alias_bomb():
    levels = "".join(f"  l{i}: &l{i} [" + ", ".join([f"*l{i - 1}"] * 10) + "]\n" for i in range(1, 9))
    text = HEAD + "notes:\n  l0: &l0 [a, a, a, a, a, a, a, a, a, a]\n" + levels + "layers:\n  - relu: {}\n"
    err = fails(text, "expand to more than")
    assert err.line <= 13


def test_yaml_alias_count():
    text = HEAD + "params:\n  a: &a 1\n  b: [" + ", ".join(["*a"] * (yamlload.MAX_ALIASES + 1)) + "]\nlayers: []\n"
    fails(text, f"more than {yamlload.MAX_ALIASES} YAML alias")


def test_yaml_self_reference():
    fails(HEAD + "layers: &l\n  - sequential: *l\n", "refers to the mapping or list that contains it", line=3)


@pytest.mark.parametrize("deep", [
    "notes: " + "[" * 100 + "]" * 100 + "\n",
    "notes: " + "{a: " * 100 + "1" + "}" * 100 + "\n",
    "notes:\n" + "".join(" " * (i + 1) + f"k{i}:\n" for i in range(100)),
    "notes:\n  " + "- " * 100 + "x\n",
])
def test_yaml_nesting_depth(deep):
    fails(HEAD + deep + "layers:\n  - relu: {}\n", "nesting")


def test_yaml_extreme_compact_nesting_does_not_crash():
    """`- - - ... x` 100,000 deep once crashed libyaml's recursive composer (segfault): run it out of process."""
    code = textwrap.dedent("""
        from archcost.errors import SpecError
        from archcost.language.yamlload import load_yaml_text
        for text in ["- " * 100000 + "x", "? " * 100000 + "x", "[" * 100000, "- [" * 50000]:
            try:
                load_yaml_text(text, "deep.yaml")
            except SpecError as err:
                assert str(err).startswith("deep.yaml:1"), err
        print("ok")
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0 and out.stdout.strip() == "ok", (out.returncode, out.stderr[-2000:])


def test_file_size(tmp_path):
    big = HEAD + "layers:\n  - relu: {}\n" + "# padding\n" * (yamlload.MAX_FILE_BYTES // 10 + 1)
    fails(big, "limit", line=1)
    path = tmp_path / "big.yaml"
    path.write_text(big)
    with pytest.raises(SpecError) as info:
        archcost.analyze(str(path))
    assert str(info.value).startswith(f"{path}:1:") and "limit" in str(info.value)


def test_expression_length():
    expr = " + ".join(["1"] * (MAX_EXPR_CHARS // 4 + 10))
    fails(HEAD + f'layers:\n  - conv2d: {{out_channels: "{expr}", kernel_size: 1}}\n', "longer than", line=4,
          layer="conv2d0")


def test_expression_bracket_depth():
    fails(HEAD + 'layers:\n  - conv2d: {out_channels: "' + "(" * 60 + "4" + ")" * 60 + '", kernel_size: 1}\n',
          "brackets", line=4, layer="conv2d0")


def test_expression_unary_chain():
    """497 unary minus signs: parsed (recursively) without a RecursionError, evaluated to -4."""
    fails(HEAD + 'layers:\n  - conv2d: {out_channels: "' + "-" * 497 + '4", kernel_size: 1}\n', "at least 1",
          line=4, layer="conv2d0")


def test_recursion_limit_is_a_spec_error():
    """If the interpreter's recursion limit is hit anyway (a deep stack at the call site), the user still
    gets a located SpecError, not a RecursionError."""
    blocks = "".join(f"  b{i}:\n    layers:\n      - b{i + 1}: {{}}\n" for i in range(31)) + "  b31:\n    layers: [relu: {}]\n"
    spec = load_spec("lim.yaml", text=HEAD + "blocks:\n" + blocks + "layers:\n  - b0: {}\n")

    def nest(k):
        return build_graph(spec) if k == 0 else nest(k - 1)

    old = sys.getrecursionlimit()
    depth = len(__import__("inspect").stack(0))
    sys.setrecursionlimit(depth + 80)
    try:
        with pytest.raises(SpecError) as info:
            nest(10)
    finally:
        sys.setrecursionlimit(old)
    assert str(info.value).startswith("lim.yaml:") and "deep" in str(info.value)

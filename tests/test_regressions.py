"""Regression tests: the shrunk examples of bugs found by fuzzing and property testing.

Each test names the bug it pins down.  Before the fix, every one of these raised
something other than SpecError, hung, crashed the interpreter, or gave numbers for
a layer torch refuses.
"""

from __future__ import annotations

import signal
import subprocess
import sys

import pytest

import archcost
from archcost.errors import SpecError
from archcost.language import build_graph, load_spec
from located import assert_located

HEAD = "name: reg\ninput: [3, 16, 16]\nlayers:\n"


def spec_error(text, *fragments, line=None, layer=None):
    def _hang(*_):
        raise TimeoutError("hang")

    old = signal.signal(signal.SIGALRM, _hang)
    signal.alarm(60)  # a hang detector, not a speed test: generous on a loaded 2-core machine
    try:
        with pytest.raises(SpecError) as info:
            archcost.analyze(build_graph(load_spec("reg.yaml", text=text)))
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)
    return assert_located(info.value, "reg.yaml", *fragments, line=line, layer=layer)


# ---------------------------------------------------------------- expressions
def test_concat_dim_word_was_value_error():
    spec_error(HEAD + "  - {relu: {}, name: a}\n  - {concat: {dim: x}, from: [a, a]}\n", "'x'", line=5, layer="concat0")


def test_concat_dim_list_was_type_error():
    spec_error(HEAD + "  - {relu: {}, name: a}\n  - {concat: {dim: [1]}, from: [a, a]}\n", "dim", line=5)


def test_string_repetition_was_memory_error():
    spec_error(HEAD + "  - conv2d: {out_channels: \"'ab' * 100000000000\", kernel_size: 1}\n", "cannot apply '*'")


def test_float_power_overflow_was_overflow_error():
    spec_error(HEAD + "  - conv2d: {out_channels: \"1e15 ** 64\", kernel_size: 1}\n", "too large")


def test_round_with_huge_ndigits_hung():
    spec_error(HEAD + "  - conv2d: {out_channels: \"round(1.5, 100000000)\", kernel_size: 1}\n", "ndigits")


def test_make_divisible_by_zero_was_zero_division_error():
    spec_error(HEAD + "  - conv2d: {out_channels: \"make_divisible(3, 0)\", kernel_size: 1}\n", "divisor")


def test_deep_brackets_were_recursion_error():
    spec_error(HEAD + "  - conv2d: {out_channels: \"" + "(" * 200 + "1" + ")" * 200 + "\", kernel_size: 1}\n", "brackets")


def test_power_of_negative_gave_complex_number():
    spec_error(HEAD + "  - conv2d: {out_channels: \"(-8) ** 0.5\", kernel_size: 1}\n", "complex")


def test_comma_in_flow_mapping_hints_to_quote():
    msg = spec_error("name: reg\ninput: [3, 16, 16]\nparams: {width: 1.0}\nlayers:\n"
                     "  - conv2d: {out_channels: make_divisible(32 * width, 8), kernel_size: 3}\n", line=5)
    assert "quote" in msg and '"make_divisible(32 * width, 8)"' in msg


# ---------------------------------------------------------------- ops: accepted what torch refuses, or crashed
def test_layernorm_float_shape_was_type_error():
    g = build_graph(load_spec("reg.yaml", text=HEAD + "  - layernorm: {normalized_shape: 16.0}\n"))
    assert g.nodes[0].attrs["normalized_shape"] == (16,)
    spec_error(HEAD + "  - layernorm: {normalized_shape: 2.5}\n", "normalized_shape")


@pytest.mark.parametrize("end_dim", [0, -10, 7])
def test_flatten_end_dim_out_of_range_was_accepted(end_dim):
    # torch: "start_dim cannot come after end_dim" / "Dimension out of range"
    spec_error(HEAD + f"  - flatten: {{end_dim: {end_dim}}}\n", "end_dim", layer="flatten0")


def test_flatten_negative_dims_follow_torch():
    g = build_graph(load_spec("reg.yaml", text=HEAD + "  - flatten: {start_dim: -2, end_dim: -1}\n"))
    assert g.nodes[0].out_shape == (3, 256)


def test_multiply_of_different_ranks_was_accepted():
    # with the batch in front torch aligns (N, C) with (H, W): wrong result, or an error for batch > 1
    spec_error(HEAD + "  - {relu: {}, name: a}\n  - {global_avg_pool2d: {}}\n  - {flatten: {}, name: b}\n"
               "  - {multiply: {}, from: [a, b]}\n", "different ranks")


def test_negative_output_padding_was_accepted():
    spec_error(HEAD + "  - conv_transpose2d: {out_channels: 4, kernel_size: 3, stride: 2, output_padding: -1}\n",
               "output_padding")


def test_instance_norm_of_one_element_was_accepted():
    # torch: "Expected more than 1 spatial element when training"
    spec_error(HEAD + "  - global_avg_pool2d: {}\n  - instancenorm2d: {}\n", "instance norm", layer="instancenorm2d0")
    build_graph(load_spec("reg.yaml", text=HEAD + "  - global_avg_pool2d: {}\n"
                                               "  - instancenorm2d: {track_running_stats: true}\n"))


def test_batchnorm_eps_zero_with_batch_statistics_was_accepted():
    # found by tests/test_ops_property.py; torch: "batch_norm eps must be positive during training"
    spec_error("name: reg\ninput: [1]\nlayers:\n  - batchnorm1d: {eps: 0.0, track_running_stats: false}\n", "eps")
    build_graph(load_spec("reg.yaml", text="name: reg\ninput: [1]\nlayers:\n  - batchnorm1d: {eps: 0.0}\n"))


def test_linear_on_feature_map_was_accepted():
    spec_error(HEAD + "  - linear: {out_features: 10}\n", "flatten", layer="linear0")


def test_activation_fn_list_was_type_error():
    spec_error(HEAD + "  - activation: {fn: [relu]}\n", "unknown activation")


# ---------------------------------------------------------------- hostile YAML
def test_yaml_huge_integer_was_value_error():
    spec_error(HEAD + "  - conv2d: {out_channels: " + "9" * 5000 + ", kernel_size: 1}\n", "cannot read", line=4)


@pytest.mark.parametrize("value", ["2024-13-45", "!!int abc", "!!float abc", "!!int "])
def test_yaml_unconstructable_scalar_was_value_error(value):
    # `!!int ` (an IndexError inside PyYAML) was found by tests/test_fuzz_loader.py
    spec_error(f"name: reg\nnotes: {value}\ninput: [3, 16, 16]\nlayers: []\n", line=2)


def _bomb(levels=8):
    text = "  l0: &l0 [a, a, a, a, a, a, a, a, a]\n"
    for i in range(1, levels + 1):
        text += f"  l{i}: &l{i} [" + ", ".join([f"*l{i - 1}"] * 9) + "]\n"
    return text


def test_alias_bomb_in_params_hung():
    spec_error("name: reg\ninput: [3, 16, 16]\nparams:\n" + _bomb() + "layers:\n  - relu: {}\n", "expand")


def test_alias_bomb_in_error_message_hung():
    # the bomb reached a message's repr(): the frame's error for `notes:`, and the expander's for a layer
    spec_error("name: reg\ninput: [3, 16, 16]\nnotes:\n" + _bomb(4) + "layers:\n  - relu: {}\n", "'notes'")
    spec_error("name: reg\ninput: [3, 16, 16]\nparams:\n" + _bomb(4) + "layers:\n  - [*l4]\n", "each layer")


def test_repeat_of_empty_blocks_hung():
    blocks = "".join(f"  e{i}:\n    layers:\n      - {{e{i + 1}: {{}}, repeat: 100}}\n" for i in range(5))
    spec_error("name: reg\ninput: [3, 16, 16]\nblocks:\n" + blocks + "  e5:\n    layers:\n      - {relu: {}, if: false}\n"
               "layers:\n  - e0: {}\n", "more than")


def test_compact_nested_sequences_crashed_libyaml():
    """`- - - ... x` (100,000 deep) made libyaml recurse until the process died with SIGSEGV; and 100 deep
    passed the nesting limit unchecked."""
    spec_error("name: reg\ninput: [3, 16, 16]\nnotes:\n  " + "- " * 100 + "x\nlayers: []\n", "nesting")
    code = ("from archcost.language.yamlload import load_yaml_text\nfrom archcost.errors import SpecError\n"
            "try:\n    load_yaml_text('- ' * 100000 + 'x', 'f')\nexcept SpecError:\n    print('ok')\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0 and out.stdout.strip() == "ok", (out.returncode, out.stderr[-1000:])


# ---------------------------------------------------------------- locations and names
def test_missing_include_had_no_line():
    spec_error("name: reg\ninput: [3, 16, 16]\ninclude:\n  - nope\nlayers: []\n", "nope", line=4)


def test_include_name_too_long_was_os_error():
    spec_error("name: reg\ninput: [3, 16, 16]\ninclude:\n  - " + "x" * 5000 + "\nlayers: []\n", "cannot find", line=4)


def test_block_default_error_pointed_at_the_call_line():
    # before: the block's file with the *call's* line number
    spec_error("name: reg\ninput: [3, 16, 16]\nblocks:\n  b:\n    args: {k: \"3 +\"}\n    layers:\n      - relu: {}\n"
               "layers:\n  - relu: {}\n  - b: {}\n", "3 +", line=5, layer="b0")


def test_layer_and_group_with_one_name_broke_lowering():
    """A layer `residual0.shortcut` and the group `residual0.shortcut.*`: the lowered module nested one
    conv inside the other, so torch counted both convs' parameters for the first."""
    spec_error(HEAD + "  - residual:\n      layers:\n        - {conv2d: {out_channels: 3, kernel_size: 1}, name: shortcut}\n"
               "      shortcut:\n        - conv2d: {out_channels: 3, kernel_size: 1}\n",
               "used both for a layer and for a group")


def test_input_elements_were_unlimited():
    spec_error("name: reg\ninput: [3, 10000000, 10000000]\nlayers:\n  - relu: {}\n", "elements", line=2)


def test_input_unknown_name_said_positive_integers():
    spec_error("name: reg\ninput: [3, res, res]\nparams: {resolution: 8}\nlayers:\n  - relu: {}\n",
               "unknown name 'res'", line=2)


def test_error_inside_library_block_names_the_call():
    text = open(archcost.language.specs_dir() / "inception_v3.yaml").read()
    if "basic_conv: {out: 48}" not in text:
        pytest.skip("inception_v3.yaml changed")
    text = text.replace("basic_conv: {out: 48}", "basic_conv: {out: 48, k: 500}", 1)
    path = str(archcost.language.specs_dir() / "inception_v3.yaml")
    with pytest.raises(SpecError) as info:
        build_graph(load_spec(path, text=text))
    msg = str(info.value)
    assert "blocks/inception.yaml:" in msg and f"called at {path}:" in msg, msg


@pytest.mark.parametrize("value", ["1.0e+30", "'1e30'", "[1, 1.0e+20]"])
def test_integral_float_beyond_int64_was_accepted(value):
    # found by tests/test_ops_property.py (conv1d stride 1e+30): archcost computed a shape, torch failed with
    # "Overflow when unpacking long long"
    spec_error(f"name: reg\ninput: [1, 4]\nlayers:\n  - conv1d: {{out_channels: 1, kernel_size: 1, stride: {value}}}\n",
               "too large", line=4, layer="conv1d0")


@pytest.mark.parametrize("shape", ["[8, 1, 1]", "[8, 1]"])
def test_group_norm_of_single_values_was_accepted(shape):
    # found by benchmarks/fuzz_networks.py (a groupnorm after a squeeze-excitation on a 1×1 map):
    # torch: "Expected more than 1 value per channel when training, got input size [1, 8, 1, 1]"
    spec_error(f"name: reg\ninput: {shape}\nlayers:\n  - groupnorm: {{num_groups: 8}}\n", "single values", line=4,
               layer="groupnorm0")
    build_graph(load_spec("reg.yaml", text=f"name: reg\ninput: {shape}\nlayers:\n  - groupnorm: {{num_groups: 4}}\n"))

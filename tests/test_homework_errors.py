"""Bad answers files: one located paragraph (file:line, what, a fix), exit 2 from `archcost check`."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from archcost.cli import app
from archcost.errors import SpecError
from archcost.homework import check_file
from located import assert_located

runner = CliRunner()

# (name, file text, the line the error must name, fragments of the message)
BAD = [
    ("unknown model", "questions:\n  - model: vgg17\n    quantity: params\n    answer: 1\n", 2,
     ["vgg17", "neither a spec file nor a zoo model", "vgg16"]),
    ("unknown layer", "questions:\n  - model: googlenet\n    layer: inception9z\n    quantity: params\n    answer: 1\n", 3,
     ["no layer or block 'inception9z'"]),
    ("unknown quantity", "questions:\n  - model: vgg16\n    quantity: flops_per_watt\n    answer: 1\n", 3,
     ["unknown quantity 'flops_per_watt'"]),
    ("misspelt quantity", "questions:\n  - model: vgg16\n    quantity: parms\n    answer: 1\n", 3,
     ["did you mean params"]),
    ("ratio without two subjects", "questions:\n  - model: vgg16\n    quantity: ratio\n    of: {quantity: macs}\n"
     "    answer: 2x\n", 2, ["needs two subjects", "`to:` is missing"]),
    ("ratio side without quantity", "questions:\n  - quantity: ratio\n    of: {model: vgg16}\n"
     "    to: {model: vgg11, quantity: macs}\n    answer: 2x\n", 3, ["`of` needs `quantity:`"]),
    ("fraction with ratio keys", "questions:\n  - model: vgg16\n    quantity: fraction\n    of: {quantity: macs}\n"
     "    to: {quantity: macs}\n", 4, ["takes `part:` and `whole:`"]),
    ("no subject", "questions:\n  - quantity: params\n    answer: 1\n", 2, ["names no subject"]),
    ("two subjects", "questions:\n  - model: vgg16\n    spec: x.yaml\n    quantity: params\n", 3, ["2 subjects"]),
    ("unknown key", "questions:\n  - model: vgg16\n    quantity: params\n    anwser: 1\n", 4,
     ["unknown key 'anwser'", "did you mean answer"]),
    ("unknown top key", "title: x\nquestion:\n  - model: vgg16\n", 2, ["unknown top-level key 'question'"]),
    ("no questions", "title: x\n", 1, ["needs `questions:`"]),
    ("empty file", "", 1, ["is empty"]),
    ("a list", "- model: vgg16\n", 1, ["a list"]),
    ("question not a mapping", "questions:\n  - just text\n", 2, ["must be a mapping"]),
    ("missing quantity", "questions:\n  - model: vgg16\n    answer: 1\n", 2, ["has no `quantity`"]),
    ("bad tolerance", "questions:\n  - model: vgg16\n    quantity: params\n    tolerance: loose\n    answer: 1\n", 4,
     ["unknown tolerance"]),
    ("bad convention", "questions:\n  - model: vgg16\n    quantity: params\n    convention: tf\n", 4,
     ["unknown convention 'tf'"]),
    ("bad layout", "questions:\n  - model: vgg16\n    quantity: output_shape\n    layout: whc\n", 4, ["chw or hwc"]),
    ("bad dtype", "questions:\n  - model: vgg16\n    quantity: weight_bytes\n    dtype: float8\n", 4,
     ["unknown dtype"]),
    ("bad batch", "questions:\n  - model: vgg16\n    quantity: macs\n    batch: 0\n", 4, ["positive integer"]),
    ("missing spec file", "questions:\n  - spec: nowhere.yaml\n    quantity: params\n", 2, ["no spec file"]),
    ("bad op in inline layer", "questions:\n  - conv2d: {in: [3, 8, 8], out_channels: 4, kernal_size: 3}\n"
     "    quantity: params\n", 2, ["has no argument 'kernal_size'"]),
    ("inline layer without input", "questions:\n  - conv2d: {out_channels: 4, kernel_size: 3}\n    quantity: params\n",
     2, ["needs its input shape"]),
    ("inline layers without input", "questions:\n  - layers: [{relu: {}}]\n    quantity: params\n", 2,
     ["need `input:`"]),
    ("kernel larger than input", "questions:\n  - conv2d: {in: [3, 4, 4], out_channels: 4, kernel_size: 7}\n"
     "    quantity: params\n", 2, ["larger than the padded input"]),
    ("duplicate key", "questions:\n  - model: vgg16\n    layer: linear0\n    layer: x\n", 4,
     ["duplicate key 'layer'"]),
    ("duplicate id", "questions:\n  - {id: a, model: vgg16, quantity: params}\n  - {id: a, model: vgg16, quantity: macs}\n",
     3, ["two questions have the id 'a'"]),
    ("unknown ops", "questions:\n  - model: vgg16\n    ops: [convolution]\n    quantity: params\n", 3,
     ["`ops` must list op names"]),
    ("ops matching nothing", "questions:\n  - model: vgg16\n    ops: [batchnorm2d]\n    quantity: params\n", 3,
     ["no layer of vgg16 is one of the ops batchnorm2d"]),
    ("count without op", "questions:\n  - model: vgg16\n    quantity: count\n    answer: 13\n", 2,
     ["needs `op:`"]),
    ("defaults with answer", "defaults: {answer: 3}\nquestions:\n  - model: vgg16\n    quantity: params\n", 1,
     ["`defaults` cannot set 'answer'"]),
    ("version", "version: 2\nquestions:\n  - model: vgg16\n    quantity: params\n", 1, ["version 2"]),
    ("YAML syntax", "questions:\n  - model: [vgg16\n    quantity: params\n", 3, ["YAML syntax error"]),
    ("bad set", "questions:\n  - model: mobilenetv2\n    set: {depth: 2}\n    quantity: params\n", 3,
     ["no parameter 'depth'"]),
    ("training of a layer", "questions:\n  - model: vgg16\n    layer: linear0\n    quantity: training_bytes\n", 2,
     ["whole-network quantity"]),
]


# an answer that cannot be read, or is of the wrong kind, makes only its question wrong (issue 19): the
# rest of the file is graded, and the verdict says why
PER_QUESTION = [
    ("unparseable answer", "questions:\n  - model: vgg16\n    quantity: params\n    answer: lots\n", 4,
     ["cannot read the answer 'lots'"]),
    ("shape answer for a number", "questions:\n  - model: vgg16\n    quantity: params\n    answer: 55x55x96\n", 4,
     ["is a shape, but params is a number"]),
    ("number answer for a shape", "questions:\n  - model: vgg16\n    layer: vgg_stage0\n    quantity: output_shape\n"
     "    answer: 96\n", 5, ["is a number, but output_shape is a shape"]),
]


@pytest.mark.parametrize("name,text,line,fragments", PER_QUESTION, ids=[b[0] for b in PER_QUESTION])
def test_bad_answer_is_a_wrong_question_not_a_bad_file(tmp_path, name, text, line, fragments):
    path = tmp_path / "answers.yaml"
    path.write_text(text + "  - {id: ok, model: vgg16, quantity: params, answer: 138M}\n")
    report = check_file(str(path))
    bad, ok = report.results
    assert bad.status == "wrong" and bad.question.answer_line == line and ok.status == "right"
    for f in fragments:
        assert f in bad.verdict.message
    assert report.score == 1


@pytest.mark.parametrize("name,text,line,fragments", BAD, ids=[b[0] for b in BAD])
def test_bad_file_is_a_located_error(tmp_path, name, text, line, fragments):
    path = tmp_path / "answers.yaml"
    path.write_text(text)
    with pytest.raises(SpecError) as e:
        check_file(str(path))
    assert_located(e.value, str(path), *fragments, line=line)


@pytest.mark.parametrize("name,text,line,fragments", BAD[:6], ids=[b[0] for b in BAD[:6]])
def test_cli_exit_2_one_paragraph(tmp_path, name, text, line, fragments):
    path = tmp_path / "answers.yaml"
    path.write_text(text)
    r = runner.invoke(app, ["check", str(path)])
    assert r.exit_code == 2, r.output
    assert r.output.strip().count("\n") == 0 and "Traceback" not in r.output
    assert f"{path}:{line}:" in r.output


def test_gradescope_still_writes_results_for_a_bad_file(tmp_path):
    path = tmp_path / "answers.yaml"
    path.write_text(BAD[0][1])
    out = tmp_path / "results.json"
    r = runner.invoke(app, ["check", str(path), "-f", "gradescope", "-o", str(out)])
    assert r.exit_code == 2
    d = json.loads(out.read_text())
    assert d["score"] == 0 and d["tests"] == [] and "vgg17" in d["output"]


def test_errors_inside_a_spec_file_name_that_file_and_the_question(tmp_path):
    spec = tmp_path / "net.yaml"
    spec.write_text("name: net\ninput: [3, 8, 8]\nlayers:\n  - conv2d: {out_channels: 4, kernel_size: 9}\n")
    path = tmp_path / "answers.yaml"
    path.write_text("questions:\n  - spec: net.yaml\n    quantity: params\n")
    with pytest.raises(SpecError) as e:
        check_file(str(path))
    assert e.value.file == str(spec) and e.value.line == 4
    assert f"{path}:2" in str(e.value)

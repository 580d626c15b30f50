"""Issue 20: answers as students write them, questions as courses ask them, a variant per student."""

from __future__ import annotations

import json
import shutil
from fractions import Fraction as F
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from archcost.cli import app
from archcost.errors import SpecError
from archcost.homework import check_file
from archcost.homework.diagnose import explains_better
from archcost.homework.grade import Tolerance, judge_answer, judge_number, parse_tolerance
from archcost.homework.parse import parse_answer
from archcost.homework.records import Subject
from archcost.homework.subjects import build_subject
from archcost.homework.quiz import write_sheets
from archcost.homework.variants import parse_vary, read_roster, seed, student_from_metadata
from archcost.ops import working as wk

HW = Path(__file__).resolve().parent.parent / "specs" / "homework"
VAR = HW / "variants"
runner = CliRunner()


def judged(text, true, tol=None):
    return judge_number(parse_answer(text), true, tol or Tolerance())


# ---------------------------------------------------------------------------- comparisons

@pytest.mark.parametrize("text,true,right", [
    ("< 1", F(1, 9), True), ("< 1", F(9, 1), False), ("> 0.5", F(6, 10), True), ("> 0.5", F(1, 2), False),
    (">= 0.5", F(1, 2), True), ("≤ 2x", 2, True), ("≤ 2x", F(21, 10), False), ("fewer", F(1, 2), True),
    ("fewer", 2, False), ("cheaper", F(1, 10), True), ("more", 3, True), ("more", F(1, 3), False),
    ("more than 2x", 3, True), ("more than 2x", 2, False), ("less than half", F(1, 3), True),
    ("less than half", F(2, 3), False), ("at most 5%", F(5, 100), True), ("at least 2", F(19, 10), False),
    ("fewer params", F(1, 2), True), ("< 1M", 999_999, True), ("< 1M", 1_000_000, False),
])
def test_comparisons(text, true, right):
    a = parse_answer(text)
    assert a.kind == "comparison"
    assert judged(text, true).right is right


def test_comparison_needs_a_number():
    for text in ("<", "more than", "< 3x3x4", "fewer apples"):
        with pytest.raises(SpecError):
            parse_answer(text)


# ---------------------------------------------------------------------------- direction words

@pytest.mark.parametrize("text,true,right", [
    ("9x fewer", F(1, 9), True), ("9x fewer", F(10, 92), True),   # GoogLeNet / AlexNet params ≈ 1/9.2
    ("9x fewer", 9, False), ("9 times less", F(1, 9), True), ("10x cheaper", F(1, 10), True),
    ("10x cheaper", F(1, 2), False), ("3 times more", 3, True), ("3 times more", F(1, 3), False),
    ("3x larger", 3, True), ("x10", 10, True), ("twice", 2, True), ("twice", 3, False),
    ("a tenth", F(1033, 10000), True), ("a tenth", F(1, 2), False), ("half", F(1, 2), True), ("a quarter", F(1, 4), True),
    ("one third", F(1, 3), True), ("a third", F(1, 10), False),
])
def test_direction_words(text, true, right):
    assert judged(text, true).right is right


def test_nine_times_fewer_is_a_ninth_and_inverted_stays_for_upside_down():
    a = parse_answer("9x fewer")
    assert a.value == F(1, 9) and a.inverse
    v = judged("9x fewer", F(6_624_904, 61_100_840))
    assert v.right and "1/9" in v.message
    report = check_file(str(HW / "as_students_write.answers.yaml"))
    by = {r.question.id: r for r in report.results}
    assert [d.name for d in by["savings-10x-more"].diagnoses] == ["inverted"]
    assert by["savings-10x-cheaper"].right


# ---------------------------------------------------------------------------- approximate markers, separators

@pytest.mark.parametrize("text,true,right", [
    ("about 60,000", 60_840, True), ("60,000", 60_840, False), ("~60,000", 64_999, True), ("≈ 60,000", 66_000, False),
    ("roughly 120M", 124_000_000, True), ("120M", 124_000_000, False), ("about 1.20M", 1_204_000, True),
    ("about 1.20M", 1_206_000, False), ("about 100,000,000", 120_422_400, True),
])
def test_approximate_markers_make_trailing_zeros_not_significant(text, true, right):
    assert judged(text, true).right is right


@pytest.mark.parametrize("text,value", [
    ("34'944", 34_944), ("34\u2009944", 34_944), ("34\u202f944", 34_944), ("1.2·10^8", 120_000_000),
    ("1,2 M", 1_200_000), ("12,5%", F(1, 8)), ("1,234", 1234), ("0,25", F(1, 4)),
])
def test_separators(text, value):
    assert parse_answer(text).value == value


def test_a_comma_with_three_digits_stays_a_thousands_separator():
    assert parse_answer("1,234").step == 1
    with pytest.raises(SpecError):
        parse_answer("1,2.5")


@pytest.mark.parametrize("text,expected,right", [
    ("1024", (1024, 1, 1), True), ("(1024)", (1024, 1, 1), True), ("[1024]", (1024, 1, 1), True),
    ("512", (1024, 1, 1), False), ("1024", (1024, 7, 7), None), ("(1024)", (1024, 7, 7), False),
])
def test_one_dimensional_shape_against_c_by_1_by_1(text, expected, right):
    v = judge_answer("shape", parse_answer(text), expected)
    if right is None:
        assert v is None or not v.right
    else:
        assert v.right is right
        if right:
            assert "1×1" in v.message


# ---------------------------------------------------------------------------- displays

def test_displays_never_print_zero_scaled_values(tmp_path):
    v = judged("1M", 10_080)
    assert "0M" not in v.message and "10,080" in v.message
    f = tmp_path / "a.answers.yaml"
    f.write_text("questions:\n"
                 "  - {id: a, conv2d: {in: [3, 32, 32], out_channels: 8, kernel_size: 3}, quantity: macs, answer: 1M}\n"
                 "  - {id: b, quantity: ratio, of: {model: googlenet, quantity: params},"
                 " to: {model: alexnet, quantity: params}, answer: 2x}\n", encoding="utf-8")
    r = runner.invoke(app, ["check", str(f)])
    assert "0.0M" not in r.stdout and "(0M)" not in r.stdout and "(0x)" not in r.stdout
    assert "≈ 1/9.22" in r.stdout


# ---------------------------------------------------------------------------- diagnosis margin

def test_a_diagnosis_only_when_it_beats_rounding():
    from archcost.homework.records import Options, Question

    q = Question("q", "", "params", Subject(None), Options(), None, 1, parse_tolerance("10%"), None, "f")
    a = parse_answer("102")
    assert not explains_better(a, 100, F(10_515, 100), q)   # 2% from the mistake, 3% from the truth
    assert explains_better(a, 102, 150, q)                  # on the mistake, far from the truth
    q.tolerance = Tolerance()
    assert explains_better(parse_answer("240.8M"), 240_844_800, 120_422_400, q)


def test_the_mistake_is_still_named_when_the_answer_is_on_it(tmp_path):
    f = tmp_path / "a.answers.yaml"
    # conv 3x3 on 3x32x32, padding 1: 16·27·1024 = 442,368 MACs; ignoring the padding: 16·27·900 = 388,800
    f.write_text("questions:\n  - {id: a, conv2d: {in: [3, 32, 32], out_channels: 16, kernel_size: 3, padding: 1},"
                 " quantity: macs, tolerance: 10%, answer: '388,800'}\n", encoding="utf-8")
    r = check_file(str(f)).results[0]
    assert not r.right and "ignored_padding" in [d.name for d in r.diagnoses]


# ---------------------------------------------------------------------------- paper names

@pytest.mark.parametrize("model,name,first,count", [
    ("resnet50", "conv2_x", "layer1.", None), ("resnet18", "conv5_x", "layer4.", None),
    ("vgg16", "conv5_3", "vgg_stage4.conv_act2.", 2), ("vgg16", "pool5", "vgg_stage4.max_pool2d0", 1),
    ("googlenet", "inception (3a)", "inception3a.", None), ("googlenet", "inception_3a", "inception3a.", None),
    ("alexnet", "conv1", "conv_act0.", 2), ("alexnet", "fc8", "linear2", 1),
    ("mobilenet_v2", "bottleneck2", "inverted_residual1.", None),
])
def test_paper_names(model, name, first, count):
    sel = build_subject(Subject("model", model, layer=(name,)), None)
    assert sel.nodes[0].id.startswith(first)
    if count:
        assert len(sel.nodes) == count


def test_mobilenet_bottleneck_rows_follow_table_2():
    rows = [1, 2, 3, 4, 3, 3, 1]
    for i, n in enumerate(rows, 1):
        sel = build_subject(Subject("model", "mobilenet_v2", layer=(f"bottleneck{i}",)), None)
        assert len({x.id.split(".")[0] for x in sel.nodes}) == n


def test_unknown_paper_name_suggests_and_missing_variant_name_says_so():
    with pytest.raises(SpecError) as e:
        build_subject(Subject("model", "resnet50", layer=("conv9_x",)), None)
    assert "conv5_x" in str(e.value) and "--layers" in str(e.value)
    with pytest.raises(SpecError) as e:
        build_subject(Subject("model", "vgg16", layer=("conv5_4",)), None)
    assert "does not have" in str(e.value)


def test_explain_layers_lists_paper_names():
    r = runner.invoke(app, ["explain", "resnet50", "--layers"])
    assert r.exit_code == 0 and "conv2_x" in r.stdout and "layer1" in r.stdout


def test_unknown_model_suggests_spec_next_to_the_answers(tmp_path):
    shutil.copy(HW / "alexnet_conv1.yaml", tmp_path / "alexnet_conv1.yaml")
    f = tmp_path / "a.answers.yaml"
    f.write_text("questions:\n  - {id: a, model: alexnet_conv1, quantity: params, answer: 1}\n", encoding="utf-8")
    r = runner.invoke(app, ["check", str(f)])
    assert r.exit_code == 2 and "spec: alexnet_conv1.yaml" in r.stderr and "Traceback" not in r.stderr


# ---------------------------------------------------------------------------- new quantities

QUESTIONS = """
questions:
  - {id: ch, model: vgg16, layer: conv5_3, quantity: channels, answer: 512}
  - {id: ch-wrong, model: vgg16, layer: conv5_3, quantity: channels, answer: 256}
  - {id: sp, model: vgg16, layer: pool5, quantity: spatial_size, answer: 7x7}
  - {id: sp-one, model: vgg16, layer: pool5, quantity: spatial_size, answer: 7}
  - {id: sp-wrong, model: vgg16, layer: pool4, quantity: spatial_size, answer: 7x7}
  - {id: ds, model: resnet50, layer: [conv1, conv2_x], quantity: downsampling, answer: 4}
  - {id: ds-wrong, model: resnet50, layer: [conv1, conv2_x], quantity: downsampling, answer: 2}
  - {id: st, model: resnet50, quantity: stage_channels, answer: "[256, 512, 1024, 2048]"}
  - {id: st-wrong, model: resnet50, quantity: stage_channels, answer: "[64, 128, 256, 512]"}
  - {id: hid, model: alexnet, quantity: count, op: linear, classifier: false, answer: 2}
  - {id: hid-wrong, model: alexnet, quantity: count, op: linear, classifier: false, answer: 3}
  - {id: all-fc, model: alexnet, quantity: count, op: linear, answer: 3}
  - {id: eff, conv2d: {in: [3, 32, 32], out_channels: 8, kernel_size: 3, dilation: 3}, quantity: effective_kernel_size, answer: 7}
  - {id: eff-wrong, conv2d: {in: [3, 32, 32], out_channels: 8, kernel_size: 3, dilation: 3}, quantity: effective_kernel_size, answer: 9x9}
  - {id: zt, conv2d: {in: [3, 32, 32], out_channels: 8, kernel_size: 3, dilation: 3}, quantity: zero_taps, answer: 40}
  - {id: zt-wrong, conv2d: {in: [3, 32, 32], out_channels: 8, kernel_size: 3, dilation: 3}, quantity: zero_taps, answer: 49}
"""


def test_new_quantities_right_and_wrong(tmp_path):
    f = tmp_path / "q.answers.yaml"
    f.write_text(QUESTIONS, encoding="utf-8")
    report = check_file(str(f))
    got = {r.question.id: r.status for r in report.results}
    assert got == {k: ("wrong" if k.endswith("-wrong") else "right") for k in got}
    for r in report.results:  # every working's sides equal its value
        assert wk.verify(r.expected.working) == [], r.question.id
    hid = next(r for r in report.results if r.question.id == "hid")
    assert "classifier (linear2) left out" in hid.expected.working.note


def test_new_quantities_bad_subjects_are_located(tmp_path):
    f = tmp_path / "q.answers.yaml"
    for body in ("{id: a, model: alexnet, layer: fc8, quantity: channels, answer: 1}",
                 "{id: a, linear: {in: [10], out_features: 4}, quantity: zero_taps, answer: 1}",
                 "{id: a, model: alexnet, quantity: count, block: x, classifier: false, answer: 1}",
                 "{id: a, model: alexnet, quantity: count, op: linear, classifier: maybe, answer: 1}"):
        f.write_text("questions:\n  - " + body + "\n", encoding="utf-8")
        r = runner.invoke(app, ["check", str(f)])
        assert r.exit_code == 2 and "q.answers.yaml:2" in r.stderr and "Traceback" not in r.stderr, r.stderr


def test_ratio_working_between_large_models_is_summarised(tmp_path):
    f = tmp_path / "r.answers.yaml"
    f.write_text("questions:\n  - {id: r, quantity: ratio, of: {model: googlenet, quantity: params},"
                 " to: {model: alexnet, quantity: params}, answer: 9x fewer}\n", encoding="utf-8")
    short = runner.invoke(app, ["check", str(f), "--depth", "9"]).stdout
    full = runner.invoke(app, ["check", str(f), "--depth", "9", "--full-working"]).stdout
    assert "largest of" in short and len(short.splitlines()) < 30
    assert len(full.splitlines()) > 3 * len(short.splitlines())
    assert "7,000,000" not in short  # sanity: the totals are the models' params
    d = json.loads(runner.invoke(app, ["check", str(f), "-f", "json"]).stdout)
    assert d["questions"][0]["right"]


# ---------------------------------------------------------------------------- variants

def test_vary_is_validated(tmp_path):
    for bad in ("[1, 2]", "{k: []}", "{k: {from: 5, to: 1}}", "{input: [3, 4]}", "{'1x': [1]}",
                "{a: {from: 1, to: 100000}, b: {from: 1, to: 100}}"):
        with pytest.raises(SpecError):
            parse_vary(yaml.safe_load(bad))
    assert parse_vary({"k": {"from": 16, "to": 64, "step": 16}}) == {"k": [16, 32, 48, 64]}


def test_seed_is_stable():
    assert seed("s001", {"k": [1, 2]}) == seed("s001", {"k": [1, 2]}) != seed("s002", {"k": [1, 2]})
    import hashlib

    digest = hashlib.sha256(b'archcost-variant\x00s001\x00{"k": [1, 2]}').digest()
    assert seed("s001", {"k": [1, 2]}) == int.from_bytes(digest[:8], "big")  # not Python's salted hash()


def test_invalid_combinations_are_never_drawn():
    from archcost.homework.answers import load_answers
    from archcost.homework.check import evaluate_question
    from archcost.homework.variants import draw

    af = load_answers(str(VAR / "conv_layer.key.yaml"))
    q = af.questions[0]
    for i in range(60):
        q2, values = draw(q, f"student{i}")
        assert not (values["input"][1] == 6 and values["kernel_size"] == 7)
        evaluate_question(q2)


def test_variants_end_to_end(tmp_path):
    """Generate the sheets, answer each right and wrong, grade each against its student's variant."""
    from archcost.homework.answers import load_answers
    from archcost.homework.check import check_question
    from archcost.homework.variants import variant_of

    out = tmp_path / "sheets"
    r = runner.invoke(app, ["quiz", str(VAR / "conv_layer.key.yaml"), "--students", str(VAR / "roster.csv"),
                            "-o", str(out)])
    assert r.exit_code == 0, r.stderr
    students = [sid for sid, _ in read_roster(str(VAR / "roster.csv"))]
    assert sorted(p.name for p in out.iterdir()) == sorted(f"{s}.{e}" for s in students for e in ("md", "json"))
    for s in students:  # the committed example sheets are what quiz writes
        assert (out / f"{s}.md").read_text() == (VAR / "sheets" / f"{s}.md").read_text()
        assert (out / f"{s}.json").read_text() == (VAR / "sheets" / f"{s}.json").read_text()
    key = yaml.safe_load((VAR / "conv_layer.key.yaml").read_text())
    af = load_answers(str(VAR / "conv_layer.key.yaml"))
    seen = set()
    for s in students:
        sheet = json.loads((out / f"{s}.json").read_text())
        assert sheet["student"]["id"] == s and [q["id"] for q in sheet["questions"]] == [q["id"] for q in key["questions"]]
        truth = {res.question.id: res.expected.value for res in map(check_question, variant_of(af, s).questions)}
        seen.add(tuple(sorted(map(str, truth.values()))))
        for right in (True, False):
            doc = json.loads(json.dumps(key))
            for q in doc["questions"]:
                v = truth[q["id"]]
                if isinstance(v, tuple):
                    v = tuple(x + (0 if right else 1) for x in v)
                    q["answer"] = "x".join(str(x) for x in v)
                else:
                    q["answer"] = int(v) + (0 if right else 7)
            f = tmp_path / f"{s}-{right}.answers.yaml"
            f.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
            res = runner.invoke(app, ["check", str(f), "--student", s, "-f", "json"])
            d = json.loads(res.stdout)
            assert res.exit_code == (0 if right else 1)
            assert d["right"] == (len(key["questions"]) if right else 0)
    assert len(seen) == len(students)  # each student has their own numbers


def test_a_right_sheet_for_one_student_is_wrong_for_another(tmp_path):
    from archcost.homework.answers import load_answers
    from archcost.homework.check import check_question
    from archcost.homework.variants import variant_of

    af = load_answers(str(VAR / "conv_layer.key.yaml"))
    t1 = [check_question(q).expected.value for q in variant_of(af, "s001").questions]
    t2 = [check_question(q).expected.value for q in variant_of(af, "s002").questions]
    assert t1 != t2


def test_submission_metadata(tmp_path):
    meta = tmp_path / "submission_metadata.json"
    meta.write_text(json.dumps({"id": 1, "users": [{"email": "s002", "id": 7, "name": "Alan"}]}), encoding="utf-8")
    assert student_from_metadata(str(meta)) == "s002"
    for bad in ("{}", "[]", '{"users": []}', '{"users": [{"id": 1}]}', "not json"):
        meta.write_text(bad, encoding="utf-8")
        with pytest.raises(SpecError):
            student_from_metadata(str(meta))
    meta.write_text(json.dumps({"users": [{"email": "x" * 500}]}), encoding="utf-8")
    with pytest.raises(SpecError):
        student_from_metadata(str(meta))
    meta.write_text(json.dumps({"users": [{"email": "s002"}], "pad": "x" * 2_000_000}), encoding="utf-8")
    r = runner.invoke(app, ["check", str(VAR / "conv_layer.key.yaml"), "--submission-metadata", str(meta)])
    assert r.exit_code == 2 and "Traceback" not in r.stderr


def test_check_with_metadata_equals_check_with_student(tmp_path):
    meta = tmp_path / "m.json"
    meta.write_text(json.dumps({"users": [{"email": "s003"}]}), encoding="utf-8")
    a = runner.invoke(app, ["check", str(VAR / "conv_layer.key.yaml"), "--submission-metadata", str(meta), "-f", "json"])
    b = runner.invoke(app, ["check", str(VAR / "conv_layer.key.yaml"), "--student", "s003", "-f", "json"])
    assert json.loads(a.stdout)["questions"] == json.loads(b.stdout)["questions"]


def test_bad_rosters(tmp_path):
    for text in ("name\nAda\n", "id\ns1\ns1\n", "id\n" + "x" * 200 + "\n", "id\n\n"):
        p = tmp_path / "r.csv"
        p.write_text(text, encoding="utf-8")
        with pytest.raises(SpecError):
            read_roster(str(p))
    with pytest.raises(SpecError):
        write_sheets(str(HW / "inception_5x5.answers.yaml"), str(VAR / "roster.csv"), str(tmp_path / "o"))

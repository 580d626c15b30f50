"""The records of an answers file: what a question asks about, how it is counted, the question itself.

Plain dataclasses, filled in by the hand validation of :mod:`.answers` and read by
:mod:`.subjects`, :mod:`.quantities`, :mod:`.check` and the rest; kept apart from that validation
so that the modules reading a question need not import the module that reads the file.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .grade import Tolerance
from .parse import Answer


@dataclass
class Subject:
    """What a question is about, before it is built: a zoo model, a spec file, an inline layer or
    sequence; optionally narrowed to layers (``layer``) and ops (``ops``)."""

    kind: str | None  # model | spec | op | layers | None (not given)
    name: str = ""  # model name, spec path (resolved), op name
    value: object = None  # the inline op's arguments / the inline layers
    input: tuple | None = None
    set: dict = field(default_factory=dict)
    layer: tuple | None = None
    ops: tuple | None = None
    include: tuple = ()
    line: int | None = None  # line of the subject's main key
    layer_line: int | None = None
    ops_line: int | None = None
    set_line: int | None = None


@dataclass
class Options:
    convention: str = "default"
    dtype: str = "float32"
    batch: int = 1
    layout: str = "chw"
    include_input: bool = False
    optimizer: str = "adam"


@dataclass
class Side:
    """One side of a ratio or fraction: a subject and a quantity."""

    key: str
    subject: Subject
    quantity: str
    options: Options
    line: int | None
    op: tuple | None = None
    block: str | None = None
    classifier: bool = True


@dataclass
class Question:
    id: str
    text: str
    quantity: str
    subject: Subject
    options: Options
    answer: Answer | None
    points: float
    tolerance: Tolerance
    line: int | None
    file: str
    sides: dict = field(default_factory=dict)  # of/to or part/whole -> Side
    op: tuple | None = None  # count: which ops
    block: str | None = None  # count: which block kind
    answer_line: int | None = None
    classifier: bool = True  # count: False leaves the classifier out ("hidden" layers)
    vary: dict = field(default_factory=dict)  # variants: name -> choices (see .variants)
    vary_line: int | None = None
    answer_raw: str | None = None  # the answer as written, when it could not be read
    answer_error: str | None = None  # why it could not be read (the question is then wrong, the rest graded)
    show: str | None = None  # all | expected | verdict; None: the mode's default (see answers.DEFAULT_SHOW)
    visibility: str = "visible"  # Gradescope's: visible | hidden | after_due_date | after_published
    answer_file: str | None = None  # where the answer was read (the responses file in the two-file form)


@dataclass
class AnswersFile:
    file: str
    title: str
    questions: list
    notices: list = field(default_factory=list)  # what was reported and not obeyed (a responses file's extra keys)
    responses: str | None = None  # the responses file, in the two-file form

    @property
    def max_score(self) -> float:
        return sum(q.points for q in self.questions)

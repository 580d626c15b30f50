"""The graph IR: the one truth that analysis, lowering and reports read.

A :class:`Graph` is a list of :class:`Node` in topological order.  Each node is
one primitive op with prepared attributes, the ids of its inputs (``"input"``
is the network input) and its input/output shapes without the batch.  Node
ids are dotted layer paths (``stage1.inverted_residual0.conv2d0``); the
lowered torch module has a submodule of exactly that dotted name, so rows,
modules and profiler entries line up by name.
"""

from __future__ import annotations

from dataclasses import dataclass, field

INPUT = "input"


@dataclass(slots=True)
class Node:
    id: str
    op: str
    attrs: dict
    inputs: tuple
    in_shapes: tuple
    out_shape: tuple
    line: int | None = None
    file: str | None = None


@dataclass
class Graph:
    name: str
    input_shape: tuple
    nodes: list
    output: str
    file: str = "<spec>"
    params: dict = field(default_factory=dict)
    meta: dict = field(default_factory=dict)
    groups: dict = field(default_factory=dict)  # dotted path of each block call -> the block's name

    def __len__(self) -> int:
        return len(self.nodes)

    def by_id(self) -> dict:
        return {n.id: n for n in self.nodes}

"""The top level of a spec file, validated by pydantic.

Layers are *not* validated here: the expander checks each layer against the
op registry as it walks the network, so a layer error can name the layer path
and the line.  Here we check the frame: name, metadata, input, params, blocks.

Spec syntax is a contract with users' files, so it changes only by adding
keys.  The keys, and why:

``name``        zoo name (lower_snake) — what `archcost table NAME` takes
``aliases``     other names (torchvision's spelling, e.g. ``mobilenet_v2``)
``family``      zoo grouping for ``archcost zoo --family``
``title``, ``paper``, ``accuracy``   metadata printed with every table
``input``       input shape without batch; entries may be expressions over params
``params``      named numbers (width, depth, resolution, classes ...); the CLI's
                ``--set k=v`` overrides them; later params may use earlier ones
``include``     block libraries from specs/blocks/NAME.yaml
``blocks``      reusable parameterised blocks (args + layers)
``layers``      the network, top to bottom
``variants``    named parameter sets (efficientnet_b0..b7 from one file)
``reference``   independent figures the tests compare against
"""

from __future__ import annotations

from typing import Any, Literal, Optional, Union

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError

from ..errors import SpecError, short_repr
from .yamlload import LocDict, LocList


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=False)


class Paper(_Strict):
    title: str
    authors: Optional[str] = None
    year: Optional[int] = None
    arxiv: Optional[str] = None
    venue: Optional[str] = None
    url: Optional[str] = None


class Accuracy(_Strict):
    top1: Optional[float] = None
    top5: Optional[float] = None
    dataset: str = "ImageNet-1k"
    source: str


class BlockDef(_Strict):
    doc: Optional[str] = None
    args: dict[str, Any] = Field(default_factory=dict)
    residual: Literal["none", "auto"] = "none"  # add the input when shapes match
    layers: list[Any]
    _raw: Any = PrivateAttr(default=None)  # the YAML mapping, for line numbers of args


class Variant(_Strict):
    params: dict[str, Any] = Field(default_factory=dict)
    aliases: list[str] = Field(default_factory=list)
    title: Optional[str] = None
    accuracy: Optional[Accuracy] = None
    reference: dict[str, Any] = Field(default_factory=dict)


class SpecModel(_Strict):
    name: str
    aliases: list[str] = Field(default_factory=list)
    family: Optional[str] = None
    title: Optional[str] = None
    paper: Optional[Paper] = None
    accuracy: Optional[Accuracy] = None
    notes: Optional[str] = None
    input: list[Union[int, str]]
    params: dict[str, Any] = Field(default_factory=dict)
    include: list[str] = Field(default_factory=list)
    blocks: dict[str, BlockDef] = Field(default_factory=dict)
    layers: list[Any]
    variants: dict[str, Variant] = Field(default_factory=dict)
    reference: dict[str, Any] = Field(default_factory=dict)


class BlockLibrary(_Strict):
    doc: Optional[str] = None
    blocks: dict[str, BlockDef]


def line_of(raw, loc) -> int | None:
    """Follow a pydantic ``loc`` path through LocDict/LocList to the best line."""
    line = getattr(raw, "line", None)
    node = raw
    for key in loc:
        if isinstance(node, LocDict) and key in node:
            line = node.key_line(key)
            node = node[key]
        elif isinstance(node, LocList) and isinstance(key, int) and 0 <= key < len(node):
            line = node.item_line(key)
            node = node[key]
        else:
            break
        line = getattr(node, "line", None) or line
    return line


def validate(model_cls, raw, file: str):
    """Validate raw YAML data against a pydantic model; raise a located SpecError."""
    if not isinstance(raw, dict):
        what = "empty" if raw is None else "a list" if isinstance(raw, list) else f"a {type(raw).__name__}"
        raise SpecError(f"the file is {what}, not a mapping of spec keys", file=file, line=1,
                        fix="a spec starts with `name:`, `input:` and `layers:` (see specs/lenet5.yaml).")
    try:
        return model_cls.model_validate(dict(raw))
    except ValidationError as err:
        e = err.errors()[0]
        loc = tuple(e["loc"])
        where = ".".join(str(x) for x in loc)
        kind = e["type"]
        if kind == "missing":
            msg = f"missing required key '{where}'"
            fix = {"name": "add `name: my_net`.", "input": "add e.g. `input: [3, 224, 224]` (channels, height, width).",
                   "layers": "add `layers:` with a list of layers."}.get(loc[-1], f"add `{loc[-1]}:`.")
        elif kind == "extra_forbidden":
            allowed = ", ".join(model_cls.model_fields) if len(loc) == 1 else "see the README"
            msg = f"unknown key '{where}'"
            fix = f"remove it or check the spelling; keys allowed here: {allowed}."
        else:
            msg = f"'{where}': {e['msg']} (got {short_repr(e.get('input'))})"
            fix = ("use `residual: auto` to add the block's input when shapes match, or `none`."
                   if loc[-1] == "residual" else "see the spec reference in the README.")
        raise SpecError(msg, file=file, line=line_of(raw, loc), fix=fix) from None

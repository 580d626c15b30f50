"""Spec loading: zoo names or paths → validated spec → graph IR."""

from __future__ import annotations

import functools
import os
from math import prod
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import SpecError, short_repr
from ..ir import Graph
from . import expr
from .expand import MAX_ELEMENTS, Expander, eval_value
from .model import BlockLibrary, SpecModel, validate
from .yamlload import load_yaml_file, load_yaml_text


@functools.lru_cache(maxsize=1)
def specs_dir() -> Path:
    """The zoo directory: the repo's specs/ (source checkout) or the installed copy.

    Found once per process (the package does not move while it runs): resolving it was most of a
    cached ``analyze`` call."""
    here = Path(__file__).resolve().parent.parent
    for cand in (here.parent / "specs", here / "_specs"):
        if cand.is_dir():
            return cand
    return here.parent / "specs"


@functools.lru_cache(maxsize=1)
def _specs_prefix() -> str:
    return os.path.join(str(specs_dir()), "")


@dataclass
class Spec:
    """A loaded, validated spec file (possibly one of its variants)."""

    model: SpecModel
    raw: dict
    file: str
    variant: str | None = None
    blocks: dict = field(default_factory=dict)  # name -> (BlockDef, file)

    @property
    def name(self) -> str:
        return self.variant or self.model.name

    def variant_model(self):
        return self.model.variants.get(self.variant) if self.variant else None

    @property
    def accuracy(self):
        v = self.variant_model()
        return (v.accuracy if v and v.accuracy else None) or (None if v else self.model.accuracy)

    @property
    def reference(self) -> dict:
        # a variant's reference replaces the file's (it describes a different network)
        v = self.variant_model()
        return dict(v.reference) if v and v.reference else dict(self.model.reference)

    @property
    def title(self) -> str:
        v = self.variant_model()
        return (v.title if v and v.title else None) or self.model.title or self.name

    def default_params(self) -> dict:
        v = self.variant_model()
        return {**self.model.params, **(v.params if v else {})}


def _load_blocks(model: SpecModel, file: str, raw=None) -> dict:
    blocks = {}
    inc_lines = raw.get("include") if isinstance(raw, dict) else None
    for k, inc in enumerate(model.include):
        base = Path(file).parent
        line = inc_lines.item_line(k) if hasattr(inc_lines, "item_line") else None
        path = _include_path(inc, base, file, line)
        if path is None:
            raise SpecError(f"cannot find block library {short_repr(inc)}", file=file,
                            line=line, fix=f"put it at specs/blocks/{inc}.yaml or give a path relative to the spec.")
        lib_raw = load_yaml_file(str(path))
        lib = validate(BlockLibrary, lib_raw, str(path))
        for name, bdef in lib.blocks.items():
            bdef._raw = lib_raw["blocks"][name]
            blocks[name] = (bdef, str(path))
    for name, bdef in model.blocks.items():
        bdef._raw = raw["blocks"][name] if isinstance(raw, dict) and isinstance(raw.get("blocks"), dict) else None
        blocks[name] = (bdef, file)
    return blocks


def _include_path(inc: str, base: Path, file: str, line):
    """The block library an ``include:`` names: a library's name (the spec's ``blocks/`` folder, then
    the zoo's) or a file relative to the spec, never outside the spec's folder (nor the zoo's
    ``blocks/``): an absolute or escaping path is refused without looking at what it names."""
    from .safefile import confine, within

    if os.path.isabs(inc) or inc.startswith("~") or "\0" in inc:
        confine(inc, str(base), what="include", file=file, line=line)  # raises, saying nothing of the file
    zoo_blocks = specs_dir() / "blocks"
    for cand, root in ((base / "blocks" / f"{inc}.yaml", base), (zoo_blocks / f"{inc}.yaml", zoo_blocks)):
        if _is_file(cand) and within(str(cand), str(root)):
            return cand
    path = Path(confine(inc, str(base), what="include", file=file, line=line))
    return path if _is_file(path) else None


def _is_file(path: Path) -> bool:
    try:
        return path.is_file()
    except (OSError, ValueError):  # a name too long, or with a NUL byte
        return False


def _zoo_index() -> dict:
    """name or alias -> (path, variant).  A family file's own names (its stem and `name`) map to
    (path, that name), which :func:`load_resolved` refuses with the list of the family's models."""
    index = {}
    d = specs_dir()
    if not d.is_dir():
        return index
    for p in sorted(d.glob("*.yaml")):
        raw = _cheap_header(p)
        variants = raw["variants"]
        # the file's own name and aliases: the file itself, or the variant of that name (mobilenetv2),
        # or, for a family of variants (resnet), that name (refused with the list of models)
        own = raw["names"][0] if raw["names"] and raw["names"][0] in variants else None
        for name in [p.stem] + raw["names"]:
            if isinstance(name, str):
                index.setdefault(name, (p, (own or name) if variants else None))
        for vname, valiases in raw["variants"].items():
            index[vname] = (p, vname)
            for a in valiases:
                index.setdefault(a, (p, vname))
    return index


def model_names() -> list:
    """Every name `archcost table` accepts as a zoo model (names, aliases, variants), sorted."""
    out = []
    for name, (p, v) in zoo_index().items():
        if v is None or v in _cheap_header(p)["variants"]:  # not a family file's own name
            out.append(name)
    return sorted(set(out))


@functools.lru_cache(maxsize=None)
def _cheap_header(path: Path) -> dict:
    """Name, aliases and variant names of one zoo file (a full YAML parse: the index is built at most
    once per process, and only for names that are not a file's stem)."""
    data = load_yaml_file(str(path))
    out = {"names": [], "variants": {}}
    if isinstance(data, dict):
        out["names"] = [data.get("name")] + list(data.get("aliases") or [])
        for vname, v in (data.get("variants") or {}).items():
            out["variants"][vname] = list((v or {}).get("aliases") or []) if isinstance(v, dict) else []
    return out


_INDEX: dict | None = None


def zoo_index() -> dict:
    global _INDEX
    if _INDEX is None:
        _INDEX = _zoo_index()
    return _INDEX


def resolve(name_or_path: str) -> tuple[str, str | None]:
    """A zoo name, alias or file path → (path, variant).

    For a zoo file's stem (``mobilenetv2``) the variant returned is the stem itself: a file may
    define a variant of its own name, and :func:`load_resolved` keeps it only if it does.  That
    way the common case never parses the other zoo files to build the alias index.
    """
    if os.path.sep in name_or_path or name_or_path.endswith((".yaml", ".yml")) or os.path.isfile(name_or_path):
        if not os.path.isfile(name_or_path):
            raise SpecError("no such spec file", file=name_or_path,
                            fix="check the path, or give a zoo name (run `archcost zoo`).")
        return name_or_path, None
    direct = f"{_specs_prefix()}{name_or_path}.yaml"  # plain strings: this runs on every analyze() call
    if os.path.isfile(direct):
        return direct, name_or_path
    idx = zoo_index()
    key = name_or_path.lower().replace("-", "_")
    for k in (name_or_path, key):
        if k in idx:
            p, v = idx[k]
            return str(p), v
    close = suggest_models(key)
    raise SpecError(f"'{name_or_path}' is neither a spec file nor a zoo model",
                    fix=(f"did you mean {', '.join(close)}? " if close else "") + "run `archcost zoo` to list models.")


def suggest_models(typo: str, n: int = 3) -> list:
    """Zoo names a mistyped one probably meant: names it begins (``mobilenetv3`` → ``mobilenet_v3_large``,
    ``mobilenet_v3_small``, compared without ``_`` and ``-``), or else the closest spellings."""
    import difflib

    names = model_names()
    squash = lambda s: s.lower().replace("_", "").replace("-", "")  # noqa: E731
    t = squash(typo)
    begun = [nm for nm in names if squash(nm).startswith(t) and squash(nm) != t]
    return begun[:4] if begun else difflib.get_close_matches(typo, names, n=n)


def load_spec(name_or_path: str, *, text: str | None = None) -> Spec:
    """Load and validate a spec from a zoo name, a path, or (with ``text``) a string."""
    if text is not None:
        return _from_raw(load_yaml_text(text, file=name_or_path), name_or_path, None)
    return load_resolved(*resolve(name_or_path))


def spec_from_data(raw, file: str) -> Spec:
    """A spec from already-loaded YAML data (a LocDict keeps the lines of the file it came from,
    so errors in an inline spec point into that file, e.g. a homework answers file)."""
    return _from_raw(raw, file, None)


def load_resolved(file: str, variant: str | None = None) -> Spec:
    """Load and validate the spec file ``file`` (as returned by :func:`resolve`), as ``variant``."""
    return _from_raw(load_yaml_file(file), file, variant)


def _from_raw(raw, file: str, variant: str | None) -> Spec:
    model = validate(SpecModel, raw, file)
    if variant not in model.variants:
        if variant is not None and model.variants:
            names = list(model.variants)
            raise SpecError(f"'{variant}' is a family of {len(names)} zoo models, not one model: {', '.join(names)}",
                            fix=f"name one of them, e.g. `archcost table {names[0]}` (or give the file path, "
                                f"{file}, to build it with its default parameters).")
        variant = None  # a file-stem hit on a file without variants: the file itself
    spec = Spec(model=model, raw=raw, file=file, variant=variant)
    spec.blocks = _load_blocks(model, file, raw)
    for name, (bdef, bfile) in spec.blocks.items():
        if bdef.residual not in ("none", "auto"):
            raise SpecError(f"block '{name}': residual must be none or auto, got {bdef.residual!r}", file=bfile,
                            fix="use `residual: auto` to add the input when shapes match, or a `residual:` layer.")
    return spec


def parse_override(text: str):
    """Turn a CLI `--set k=v` value into a number/bool/string without eval."""
    try:
        return expr.evaluate(text, {})
    except SpecError:
        return text


def _warn_channels_last(shape, where: str):
    """Warn when an input looks like H×W×C (images as numpy/PIL hold them): archcost reads C×H×W."""
    if len(shape) == 3 and shape[2] in (1, 3, 4) and shape[0] >= 16 and shape[1] >= 16:
        import warnings

        from ..errors import ArchcostWarning

        c_first = [shape[2], shape[0], shape[1]]
        warnings.warn(ArchcostWarning(
            f"{where} looks like height × width × channels; archcost reads channels first "
            f"(C×H×W), so this is {shape[0]} channels of {shape[1]}×{shape[2]}. If you meant {shape[2]} channels, "
            f"write {c_first} (--input {','.join(map(str, c_first))})."), stacklevel=3)


def build_graph(spec: Spec, *, input_shape=None, overrides: dict | None = None) -> Graph:
    """Expand a spec (with param overrides and an optional input shape) into the graph IR."""
    raw_params = spec.default_params()
    unknown = [k for k in (overrides or {}) if k not in raw_params]
    if unknown:
        raise SpecError(f"--set {unknown[0]}: the spec has no parameter '{unknown[0]}'", file=spec.file,
                        fix=f"its parameters are: {', '.join(raw_params) or 'none'}.")
    params: dict = {}
    for k, v in {**raw_params, **(overrides or {})}.items():
        try:
            params[k] = eval_value(v, params)
        except SpecError as e:
            e.message = f"parameter '{k}': {e.message}"
            raise e.located(file=spec.file, line=getattr(spec.raw.get("params"), "key_line", lambda _: None)(k))
    from_option = input_shape is not None
    if input_shape is None:
        try:
            input_shape = [eval_value(x, params, "int") for x in spec.model.input]
        except SpecError as e:
            raise e.located(file=spec.file, line=spec.raw.key_line("input"))
    input_shape = tuple(int(x) if isinstance(x, float) and x.is_integer() else x for x in input_shape)
    if not input_shape or not all(isinstance(x, int) and not isinstance(x, bool) and x > 0 for x in input_shape):
        raise SpecError(f"input shape {short_repr(list(input_shape))} must be positive integers "
                        "(channels first, no batch)", file=spec.file, line=spec.raw.key_line("input"),
                        fix="write e.g. `input: [3, 224, 224]`.")
    if prod(input_shape) > MAX_ELEMENTS:
        raise SpecError(f"input shape {list(input_shape)} has {prod(input_shape):.3g} elements, beyond any "
                        "machine's memory", file=spec.file, line=spec.raw.key_line("input"),
                        fix="check the input size (channels, height, width).")
    paper, acc = spec.model.paper, spec.accuracy
    meta = {"title": spec.title, "variant": spec.variant,
            "paper": paper.as_dict() if paper else None,
            "accuracy": acc.as_dict() if acc else None}
    ex = Expander(name=spec.name, file=spec.file, params=params, blocks=spec.blocks, input_shape=input_shape,
                  meta=meta)
    _warn_channels_last(input_shape, "--input " + ",".join(map(str, input_shape)) if from_option else
                        f"{spec.file}:{spec.raw.key_line('input')}: input {list(input_shape)}")
    try:
        return ex.build(spec.raw["layers"])
    except SpecError as e:
        if not getattr(e, "input_blame", False):
            raise
        e.message = e.message.split(" (inside block")[0]  # where the block was called is beside the point
        if from_option:  # --input was given: blame it, not a line of the spec
            e.message = f"--input {','.join(map(str, input_shape))}: {e.message}"
            e.file = e.line = e.path = None
        else:
            e.file, e.line, e.path = spec.file, spec.raw.key_line("input"), None
        e.args = (str(e),)
        raise
    except RecursionError:
        raise SpecError("the network is nested too deeply to expand", file=spec.file,
                        line=spec.raw.key_line("layers"),
                        fix="flatten the structure: fewer blocks and groups inside each other.") from None

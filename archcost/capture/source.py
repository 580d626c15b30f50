"""Module sources on the command line: which strings name a torch module, and how to load one.

Pure Python until a module is actually loaded.  ``path.py:make(width=0.5)`` arguments are parsed
with :mod:`ast` and each argument node read with ``ast.literal_eval`` — never ``eval``.  A
``file.py:Name`` source runs that file's code, as importing it would: accept it only from the
user's own command line, Python code or an instructor's key, never from untrusted input.
"""

from __future__ import annotations

import ast
import contextlib
import os
import re
from dataclasses import dataclass, field

from ..errors import SpecError

_HUB = ("torchvision", "timm")
_PY = re.compile(r"^(?P<path>.+?\.py):(?P<call>[A-Za-z_][A-Za-z0-9_.]*(\(.*\))?)$", re.S)


@dataclass
class Source:
    kind: str  # torchvision | timm | file
    name: str  # model name, or the callable's name in the file
    path: str | None = None
    kwargs: dict = field(default_factory=dict)
    text: str = ""


class Tokens(tuple):
    """An input of integer token ids, of this shape without the batch: ``--input tokens:128`` (CLI),
    ``input=("tokens", 128)`` (Python).  A capture traces the module on ``torch.long`` ids instead of
    floats, which a model starting with ``nn.Embedding`` needs.  Only a capture asks: a spec's input
    is ids exactly when an ``embedding`` reads it (see the README, "Your own model")."""

    def __repr__(self):
        return f"Tokens{tuple(self)!r}"


def parse_input(value):
    """An input shape without batch, as ``input=`` and ``--input`` take it: ``"3,224,224"``, ``"3x224x224"``
    or a sequence of positive ints, as a tuple (None stays None); anything else is a SpecError.

    ``"tokens:128"`` / ``("tokens", 128)``: 128 integer token ids per sample (a :class:`Tokens`, a tuple),
    for a torch module that starts with ``nn.Embedding``; the shape is without the batch, as always."""
    if value is None:
        return None
    if isinstance(value, Tokens):
        return value
    if isinstance(value, str) and value.startswith("tokens:"):
        return Tokens(parse_input(value[len("tokens:"):]))
    if isinstance(value, (tuple, list)) and value and value[0] == "tokens":
        return Tokens(parse_input(tuple(value[1:])))
    if isinstance(value, str):
        parts = [p for p in value.replace("x", ",").replace("×", ",").split(",") if p.strip()]
        try:
            value = [int(p) for p in parts]
        except ValueError:
            raise SpecError(f"--input {value!r} must be comma-separated integers",
                            fix="write e.g. --input 3,224,224 (or tokens:128 for integer token ids).") from None
    value = tuple(value)
    if not value or not all(isinstance(x, int) and x > 0 for x in value):
        raise SpecError(f"input shape {list(value)} must be positive integers (channels first, no batch)",
                        fix="write e.g. --input 3,224,224.")
    return value


def is_module_source(text) -> bool:
    """Does ``text`` name a torch module (``torchvision:NAME``, ``timm:NAME``, ``file.py:Name``)?"""
    if not isinstance(text, str):
        return False
    head = text.split(":", 1)[0]
    return (head in _HUB and ":" in text) or bool(_PY.match(text))


def parse_source(text: str) -> Source:
    head, _, rest = text.partition(":")
    if head in _HUB:
        name, kwargs = _call(rest, text)
        return Source(head, name, kwargs=kwargs, text=text)
    m = _PY.match(text)
    if not m:
        raise SpecError(f"{text!r} does not name a torch module",
                        fix="write torchvision:NAME, timm:NAME, path/to/model.py:ClassName or model.py:make_net(width=0.5).")
    name, kwargs = _call(m["call"], text)
    return Source("file", name, path=m["path"], kwargs=kwargs, text=text)


def _call(text: str, whole: str):
    """``Name`` or ``Name(k=literal, ...)`` → (name, kwargs); the arguments are literals only."""
    text = text.strip()
    try:
        tree = ast.parse(text, mode="eval").body
    except SyntaxError:
        raise SpecError(f"cannot read {whole!r}: {text!r} is not a name or a call with keyword arguments",
                        fix="write e.g. model.py:make_net(width=0.5, depth=3) (literals only).") from None
    if isinstance(tree, (ast.Name, ast.Attribute)):
        return text, {}
    if not isinstance(tree, ast.Call) or tree.args or not isinstance(tree.func, (ast.Name, ast.Attribute)):
        raise SpecError(f"cannot read {whole!r}: only keyword arguments are accepted",
                        fix="write e.g. make_net(width=0.5) rather than make_net(0.5).")
    kwargs = {}
    for kw in tree.keywords:
        if kw.arg is None:
            raise SpecError(f"cannot read {whole!r}: **kwargs is not accepted", fix="spell each argument out.")
        try:
            kwargs[kw.arg] = ast.literal_eval(kw.value)
        except ValueError:
            raise SpecError(f"argument {kw.arg} of {whole!r} is not a literal ({ast.unparse(kw.value)})",
                            fix="pass numbers, strings, booleans, None, or lists/tuples/dicts of them.") from None
    return ast.unparse(tree.func), kwargs


# models whose torchvision constructor needs arguments to match the module that ships with weights
_TV_KWARGS = {"googlenet": {"aux_logits": False, "init_weights": False},
              "inception_v3": {"aux_logits": False, "init_weights": False}}
# Swin V2: the crop of its DEFAULT weights (256), where torchvision measured its _ops and specs/swin_v2.yaml is written
_TV_INPUT = {"inception_v3": (3, 299, 299), "swin_v2_t": (3, 256, 256), "swin_v2_s": (3, 256, 256),
             "swin_v2_b": (3, 256, 256)}


def load(src: Source, *, meta: bool = False):
    """Instantiate the module a source names (random weights) → (module, default input shape or None).

    ``meta=True`` builds a torchvision or timm model on the ``meta`` device: parameters with shapes and
    no storage, which is all an analysis reads — no weight initialisation (most of a build's time) and
    no memory, so a 600M-parameter model costs nothing.  A constructor that cannot run on ``meta`` is
    built normally.  A file's module is always built normally (its code may need real tensors).
    """
    if meta and src.kind in _HUB:
        import torch

        # torch.device("meta") makes every tensor meta, which breaks a constructor that computes with
        # tensors (torchvision's RegNet rounds its widths with torch ops); then only the parameters and
        # buffers a module registers go to meta, as they are registered (before their initialisation)
        for ctx in (lambda: torch.device("meta"), _registered_on_meta):
            try:
                with ctx():
                    return load(src)
            except SpecError:
                raise
            except Exception:  # noqa: BLE001 - a constructor that needs real tensors: try the next way
                pass
    if src.kind == "torchvision":
        from ..extras import need

        need("torch", f"{src.text}", ("torch", "torchvision"))
        import torchvision

        try:
            fn = torchvision.models.get_model_builder(src.name)
        except ValueError:
            import difflib

            close = difflib.get_close_matches(src.name, torchvision.models.list_models(), n=3)
            raise SpecError(f"torchvision has no model {src.name!r}",
                            fix=(f"did you mean {', '.join(close)}? " if close else "") +
                                "see torchvision.models.list_models().") from None
        kwargs = {**_TV_KWARGS.get(src.name, {}), **src.kwargs}
        return fn(weights=None, **kwargs), _TV_INPUT.get(src.name, (3, 224, 224))
    if src.kind == "timm":
        from ..extras import need

        need("timm", f"{src.text}")
        import timm

        try:
            m = timm.create_model(src.name, pretrained=False, **src.kwargs)
        except RuntimeError as err:
            raise SpecError(f"timm cannot create {src.name!r}: {err}", fix="see timm.list_models().") from None
        cfg = getattr(m, "pretrained_cfg", None) or {}
        shape = cfg.get("input_size")
        return m, tuple(shape) if shape else None
    # a Python file: run it as a module and call (or instantiate) the named object
    from ..extras import need

    need("torch", f"{src.text}")
    import importlib.util

    if not os.path.isfile(src.path):
        raise SpecError("no such Python file", file=src.path, fix="check the path before the colon.")
    mod_name = "_archcost_user_" + re.sub(r"\W", "_", os.path.splitext(os.path.basename(src.path))[0])
    spec = importlib.util.spec_from_file_location(mod_name, src.path)
    module = importlib.util.module_from_spec(spec)
    import sys

    sys.modules[mod_name] = module
    try:
        spec.loader.exec_module(module)
    except Exception as err:  # noqa: BLE001 - the user's file failed: say where
        line = _user_line(err, src.path)
        raise SpecError(f"running {src.path} failed: {type(err).__name__}: {err}", file=src.path, line=line,
                        fix="make the file importable on its own (python -c 'import ...').") from None
    obj = module
    for part in src.name.split("."):
        obj = getattr(obj, part, None)
        if obj is None:
            raise SpecError(f"{src.path} defines no {src.name!r}", file=src.path,
                            fix="name a class or function defined in the file, after the colon.")
    try:
        net = obj(**src.kwargs)
    except Exception as err:  # noqa: BLE001
        raise SpecError(f"{src.name}(...) failed: {type(err).__name__}: {err}", file=src.path,
                        line=_user_line(err, src.path), fix="check the arguments after the colon.") from None
    import torch

    if not isinstance(net, torch.nn.Module):
        raise SpecError(f"{src.name} returned a {type(net).__name__}, not a torch.nn.Module", file=src.path,
                        fix="name a module class or a function returning a module.")
    shape = getattr(net, "input_shape", None)
    return net, tuple(shape) if shape else None


@contextlib.contextmanager
def _registered_on_meta():
    """Every parameter and buffer a module registers meanwhile is moved to the meta device."""
    from torch import nn

    reg_p, reg_b = nn.Module.register_parameter, nn.Module.register_buffer

    def register_parameter(self, name, param):
        if param is not None and not param.is_meta:
            param = nn.Parameter(param.to("meta"), requires_grad=param.requires_grad)
        reg_p(self, name, param)

    def register_buffer(self, name, tensor, persistent=True):
        reg_b(self, name, tensor.to("meta") if tensor is not None else None, persistent)

    nn.Module.register_parameter, nn.Module.register_buffer = register_parameter, register_buffer
    try:
        yield
    finally:
        nn.Module.register_parameter, nn.Module.register_buffer = reg_p, reg_b


def _user_line(err, path):
    tb, line = err.__traceback__, None
    target = os.path.abspath(path)
    while tb is not None:
        if os.path.abspath(tb.tb_frame.f_code.co_filename) == target:
            line = tb.tb_lineno
        tb = tb.tb_next
    return line

"""Trace a torch module into rows: one per call, named by module path, mapped onto registry ops.

Why torch.fx symbolic tracing first: it runs ``forward`` once with proxies and records every call
with the module it was made in — the module paths torchvision's ``feature_extraction`` names nodes
by — and it keeps ``nn.Conv2d`` & co. whole (leaf modules), so a row carries the layer's own
arguments (kernel_size, stride, ...), which is what a spec needs.

Shapes come from a propagation pass (:class:`_Probe`) that computes nothing numeric: a call mapped
onto a registry op takes its output shape from that op (the shape functions the property tests hold
equal to torch's), and every other call runs on the ``meta`` device (a module with real weights is
run with ``meta`` stand-ins for them through ``torch.func.functional_call``, so the user's module is
never changed or copied).  Only the calls no op describes run again under ``FlopCounterMode``, for
the FLOPs of their opaque rows.  Running the module for real (or every call under the counter) is
what made a capture take seconds; see benchmarks/capture.py.

fx cannot follow ``forward`` code that branches on tensor values (``if x.sum() > 0``) or converts
proxies to Python values; that is reported as a located error naming the user's line and what to
do.  (``torch.export`` would trace shape-dependent branches, but at the aten level, without
``nn.Conv2d``'s arguments; it is the planned fallback for such models, not implemented yet.)
"""

from __future__ import annotations

import operator
import os
import sys
from dataclasses import dataclass, field

import torch
import torch.fx as fx
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from ..errors import SpecError
from ..ops import OPS
from .mapping import PARTITIONS, Mapped, call_form, map_function, map_module, mha_call_ok

_TORCH_DIR = os.path.dirname(torch.__file__)


@dataclass
class Row:
    id: str
    op: str
    attrs: dict
    inputs: list  # ids of earlier rows, or "input"
    out_shape: tuple
    call: str = ""  # what was called (for opaque rows and notes)
    where: str = ""  # file:line of the call in the user's code, when known
    params: int = 0  # parameters of the module this row lowers to (0 for functional calls)
    module: str | None = None  # the leaf module's path (its state_dict prefix)
    shares: str | None = None  # a module called again: the id of its first call's row, whose weights it uses


@dataclass
class Trace:
    rows: list
    output: str
    input_shape: tuple
    params_total: int
    unused: list = field(default_factory=list)  # (path, params) of modules never called
    notes: list = field(default_factory=list)
    # (path, path of the same tensor where first counted, numel): a parameter two modules hold (tied weights,
    # `fc2.weight = fc1.weight`), which the second module's row counts again (no spec key says "this tensor")
    tied: list = field(default_factory=list)


class _Tracer(fx.Tracer):
    """fx tracer that records, for every node, the path of the module whose ``forward`` made it."""

    def __init__(self, autowrap_functions=()):
        super().__init__(autowrap_functions=tuple(autowrap_functions))
        self.cur_path = ""
        self.scopes: dict = {}
        self.where: dict = {}

    def is_leaf_module(self, m, qualname):
        if _math(m) is not None:
            return False
        if map_module(m, None) is not None and not isinstance(m, (nn.Sequential, nn.ModuleList, nn.ModuleDict)):
            return True
        return super().is_leaf_module(m, qualname)

    def call_module(self, m, forward, args, kwargs):
        old = self.cur_path
        self.cur_path = self.path_of_module(m)
        if _math(m) is not None:
            forward = _math(m).__get__(m)
        try:
            return super().call_module(m, forward, args, kwargs)
        finally:
            self.cur_path = old

    def create_node(self, kind, target, args, kwargs, name=None, type_expr=None):
        node = super().create_node(kind, target, args, kwargs, name, type_expr)
        self.scopes[node] = self.cur_path
        self.where[node] = _user_frame()
        return node


# -- nn.TransformerEncoderLayer and nn.TransformerEncoder: their math, traced ---------------------------
#
# Their forward first decides, on tensor properties (``src.dim()``, ``torch.is_grad_enabled()``, the
# devices, hooks), whether to run one fused kernel (``torch._transformer_encoder_layer_fwd``, in eval
# under no_grad) or the layer's submodules one by one; fx cannot follow those branches.  The fused
# kernel computes exactly what the slow path computes, so the capture traces the slow path below (the
# same calls on the same submodules: self_attn, dropout1, linear1, activation, dropout, linear2,
# dropout2, norm1, norm2, in torch 2.14's order) instead of that forward.  Masks change the attention,
# which archcost's multi_head_attention does not take: a mask is refused with a paragraph.

def _no_mask(kind, **masks):
    for name, mask in masks.items():
        if mask is not None and mask is not False:
            raise SpecError(f"{kind} is called with {name}; archcost captures it without masks",
                            fix="analyse the model without the mask (the costs are the same), or wrap the "
                                "masked call in a function decorated with torch.fx.wrap (one opaque row).")


def _encoder_layer_math(self, src, src_mask=None, src_key_padding_mask=None, is_causal=False):
    _no_mask("nn.TransformerEncoderLayer", src_mask=src_mask, src_key_padding_mask=src_key_padding_mask,
             is_causal=is_causal)
    x = src
    if self.norm_first:
        x = x + self._sa_block(self.norm1(x), None, None)
        x = x + _ff_block(self, self.norm2(x))
    else:
        x = self.norm1(x + self._sa_block(x, None, None))
        x = self.norm2(x + _ff_block(self, x))
    return x


def _ff_block(self, x):
    """TransformerEncoderLayer._ff_block.  Its activation is the function the layer was built with
    (``self.activation = F.relu``), a reference taken before any peer patches ``F.relu``: ptflops, which
    counts a patched ``F.relu`` call, never sees this one, so its row takes the ``method`` form."""
    h = self.activation(self.linear1(x))
    if isinstance(h, fx.Proxy) and not isinstance(self.activation, nn.Module):
        h.node.meta["archcost_form"] = "method"
    return self.dropout2(self.linear2(self.dropout(h)))


def _encoder_math(self, src, mask=None, src_key_padding_mask=None, is_causal=None):
    _no_mask("nn.TransformerEncoder", mask=mask, src_key_padding_mask=src_key_padding_mask, is_causal=is_causal)
    out = src
    for layer in self.layers:
        out = layer(out)
    if self.norm is not None:
        out = self.norm(out)
    return out


# -- torchvision MaxViT's PartitionAttentionLayer: as specs/maxvit.yaml writes it ----------------------
#
# Its forward cuts the C×H×W map into B×G×s²×C groups (WindowPartition, and for a grid SwapAxes(-2, -3)),
# attends and runs the MLP on them, and puts the map back.  archcost's window_partition writes the groups
# as (H·W)×C tokens in groups of s² consecutive tokens instead (the same order of tokens, one dimension
# fewer), on which layer norms, linears and relative_position_attention apply as on any tokens.  So the
# capture traces the same calls on the same submodules in that layout: partition_op (with the swap) is
# one window_partition row, departition_op (with its swap) one window_departition row.

def _partition_attention_math(self, x):
    part = {"partition_size": self.g if self.partition_type == "grid" else self.p,
            "partition_type": self.partition_type}
    PARTITIONS[self.partition_op] = ("window_partition", part)
    PARTITIONS[self.departition_op] = ("window_departition", {**part, "output_size": list(self.grid_size)})
    x = self.partition_op(x)
    x = x + self.stochastic_dropout(self.attn_layer(x))
    x = x + self.stochastic_dropout(self.mlp_layer(x))
    return self.departition_op(x)


_MATH = {nn.TransformerEncoderLayer: _encoder_layer_math, nn.TransformerEncoder: _encoder_math}


def _math(m):
    """The forward the capture traces instead of ``m``'s own, or None."""
    t = type(m)
    if t in _MATH:
        return _MATH[t]
    if t.__name__ == "PartitionAttentionLayer" and t.__module__.startswith("torchvision"):
        return _partition_attention_math
    return None


def _user_frame() -> str:
    """file:line of the innermost frame outside torch and archcost: the user's line for this call.
    (Walks frames rather than ``traceback.extract_stack``, which reads every file's source lines.)"""
    fr = sys._getframe(2)
    while fr is not None:
        f = fr.f_code.co_filename
        if not f.startswith(_TORCH_DIR) and "/archcost/" not in f.replace(os.sep, "/") and "<" not in f[:1]:
            return f"{os.path.basename(f)}:{fr.f_lineno}"
        fr = fr.f_back
    return ""


def _autowrap():
    """Functions traced as one call (each maps onto one op) instead of being traced through."""
    out = []
    try:
        from torchvision.models import shufflenetv2

        out.append(shufflenetv2.channel_shuffle)
    except ImportError:
        pass
    return out


def trace(model: nn.Module, input_shape: tuple, tokens: bool = False) -> Trace:
    """Rows of ``model`` on an input of ``input_shape`` (without the batch): float, or integer token
    ids when ``tokens`` (a model that starts with an ``nn.Embedding``)."""
    model = model.eval()
    tracer = _Tracer(_autowrap())
    try:
        graph = tracer.trace(model, concrete_args=_defaults(model))
    except Exception as err:  # noqa: BLE001 - fx's errors become one located paragraph
        raise _trace_error(err, model) from None
    gm = fx.GraphModule(tracer.root, graph)
    placeholders = [n for n in graph.nodes if n.op == "placeholder" and not n.args]  # args: a bound default
    if len(placeholders) != 1:
        raise SpecError(f"{type(model).__name__}.forward takes {len(placeholders)} inputs; archcost captures "
                        "modules with one tensor input", fix="wrap the module so forward(x) takes one tensor.")
    probe = _Probe(gm, model, modules=dict(model.named_modules()))
    probe.run(torch.empty(1, *input_shape, device="meta", dtype=torch.long if tokens else torch.float32))
    return _rows(model, gm, tracer, probe, input_shape)


def _defaults(model):
    """forward's arguments after the first that have defaults (timm's ``forward(x, attn_mask=None)``),
    bound to them: the capture is of ``model(x)``."""
    import inspect

    try:
        sig = inspect.signature(model.forward)
    except (TypeError, ValueError):
        return None
    params = [p for p in sig.parameters.values() if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    out = {p.name: p.default for p in params[1:] if p.default is not p.empty}
    return out or None


def _meta(v):
    """A tensor (or nested tuple/list of them) as ``meta`` stand-ins of the same shape and dtype."""
    if isinstance(v, torch.Tensor):
        return v if v.is_meta else torch.empty_like(v, device="meta")
    if isinstance(v, (tuple, list)):
        return type(v)(_meta(x) for x in v)
    return v


class _Probe(fx.Interpreter):
    """Propagates shapes through the traced graph on the meta device (see the module docstring):
    ``values`` holds every node's meta value, ``flops`` FlopCounterMode's count for each opaque call."""

    def __init__(self, gm, model, modules):
        super().__init__(gm)
        self.model = model
        self.modules = modules
        self.values: dict = {}
        self.flops: dict = {}
        self._meta_state: dict = {}

    def run_node(self, n):
        value = self._registry_shape(n)
        if value is None:
            value = _meta(super().run_node(n))
        self.values[n] = value
        return value

    def get_attr(self, target, args, kwargs):
        return _meta(super().get_attr(target, args, kwargs))

    def call_module(self, target, args, kwargs):
        mod = self.modules[target]
        state = self._meta_state.get(target)
        if state is None:
            state = {k: _meta(v) for k, v in [*mod.named_parameters(), *mod.named_buffers()]}
            self._meta_state[target] = state
        return torch.func.functional_call(mod, state, tuple(args), dict(kwargs))

    def _registry_shape(self, n):
        """A mapped leaf module's output as a meta tensor of the shape its registry op infers; None otherwise."""
        if n.op != "call_module" or len(n.args) != 1 or n.kwargs or not isinstance(n.args[0], fx.Node):
            return None
        x = self.values.get(n.args[0])
        if not isinstance(x, torch.Tensor):
            return None
        in_shape = tuple(x.shape[1:])
        mapped = map_module(self.modules[n.target], [in_shape])
        if not isinstance(mapped, tuple) or len(mapped) != 2:
            return None
        out = _op_shape(mapped[0], mapped[1], in_shape)
        return None if out is None else torch.empty((x.shape[0], *out), dtype=x.dtype, device="meta")

    def count_flops(self, n) -> int:
        """FlopCounterMode's FLOPs for one call, run again on its meta inputs (for an opaque row)."""
        args = fx.node.map_arg(n.args, self.values.__getitem__)  # the env frees values; self.values keeps them
        kwargs = fx.node.map_arg(n.kwargs, self.values.__getitem__)
        with FlopCounterMode(display=False) as fc:
            getattr(self, n.op)(n.target, args, kwargs)
        return fc.get_total_flops()


def _op_shape(opname, attrs, in_shape):
    """The registry op's output shape (without batch) for torch-named ``attrs``, or None if it cannot say."""
    from ..ops import OPS
    from ..ops.base import REQUIRED

    op = OPS.get(opname)
    if op is None or op.arity not in (1, None):
        return None
    a = dict(attrs)
    for attr in op.attrs:
        if attr.name not in a:
            if attr.default is REQUIRED:
                return None
            a[attr.name] = attr.default
    try:
        a = op.prepare(a, [in_shape]) if op.prepare else a
        return tuple(op.shape(a, [in_shape]))
    except Exception:  # noqa: BLE001 - the registry refuses these attributes: let torch say (meta run)
        return None


def _shape(value):
    return tuple(value.shape[1:]) if isinstance(value, torch.Tensor) else None


def _tensor_args(args, values, skip=()):
    """The nodes among (nested) arguments whose values are tensors, in order (parameters, and tensors made
    from parameters only, are not inputs: ``skip``)."""
    found = []

    def walk(a):
        if isinstance(a, fx.Node):
            if a.op != "get_attr" and a not in skip and isinstance(values.get(a), torch.Tensor):
                found.append(a)
        elif isinstance(a, (list, tuple)):
            for x in a:
                walk(x)
        elif isinstance(a, dict):
            for x in a.values():
                walk(x)
    walk(args)
    return found


def _as_mapped(mapped):
    """A mapping's answer as a :class:`Mapped` (None and ``("alias",)`` pass through)."""
    if mapped is None or isinstance(mapped, Mapped) or mapped[0] == "alias":
        return mapped
    return Mapped([("", mapped[0], mapped[1], None)])


def _rows(model, gm, tracer, probe, input_shape) -> Trace:
    values = probe.values
    modules = dict(model.named_modules())
    used = set(modules)  # ids already taken: every module path, so a functional call never shadows one
    ids: dict = {}  # node -> id of the row that produces its tensor
    rows: list = []
    row_ids: set = set()
    called: set = set()
    counted_params: set = set()
    param_path: dict = {}  # id of a counted parameter -> its path where first counted
    tied: list = []
    owners: dict = {}  # module path -> the row of its first call (a later call of it shares its weights)
    # parameters (and buffers) used in forward, and tensors computed from them alone
    # (self.class_token.expand(n, -1, -1)): no rows, but what a mapping reads and a row's params count
    pinfo: dict = {}  # node -> (path, shape) of the (first) parameter it is made from
    roots: dict = {}  # node -> get_attr targets it is made from
    tuple_rows: dict = {}  # a module call returning a tuple (nn.MultiheadAttention) -> its row id
    out_id = None
    # tensor-producing calls per module scope: a functional call takes its module's name (F.layer_norm
    # with the module's weight) only when it is that module's one call, else the name would also be a group
    calls_in: dict = {}
    for n in gm.graph.nodes:
        if n.op in ("call_function", "call_method") and isinstance(values.get(n), torch.Tensor):
            scope = tracer.scopes.get(n, "")
            calls_in[scope] = calls_in.get(scope, 0) + 1
        elif n.op == "call_module":  # a submodule's call: its rows would sit inside the module's name too
            parts = n.target.split(".")
            for k in range(1, len(parts)):
                scope = ".".join(parts[:k])
                calls_in[scope] = calls_in.get(scope, 0) + 1

    def fresh(base):
        return free_name(base, used)

    def own_params(n):
        """Parameters a functional call uses directly (F.layer_norm(x, s, self.weight), x * self.gamma), not
        yet counted by another row."""
        total = 0
        for a in n.all_input_nodes:
            for target in roots.get(a, ()):
                if not _is_param(model, target):
                    continue
                p = _get(model, target)
                if id(p) not in counted_params:
                    counted_params.add(id(p))
                    param_path[id(p)] = target
                    total += p.numel()
        return total

    for n in gm.graph.nodes:
        if n.op == "placeholder":
            ids[n] = "input"
            continue
        if n.op == "output":
            outs = _tensor_args(n.args, values, roots)
            if not outs:
                raise SpecError(f"{type(model).__name__}.forward returns no tensor", fix="return the output tensor.")
            out_id = ids[outs[0]]
            continue
        value = values.get(n)
        if n.op == "get_attr":
            if isinstance(value, torch.Tensor):
                roots[n] = {n.target}
                pinfo[n] = (n.target, tuple(_get(model, n.target).shape))
            continue
        if n.target is operator.getitem and n.args[0] in tuple_rows:
            if n.args[1] == 0:  # the attention output of (output, weights)
                ids[n] = tuple_rows[n.args[0]]
            elif isinstance(value, torch.Tensor):  # the attention weights, when asked for and used
                raise SpecError(f"the attention weights of {n.args[0].target} are used at "
                                f"{tracer.where.get(n, '') or n.args[0].target}; archcost captures the attention "
                                "output only", fix="call it with need_weights=False, or leave the weights unused.")
            continue
        is_tuple_row = (n.op == "call_module" and isinstance(modules[n.target], nn.MultiheadAttention)
                        and isinstance(value, tuple) and isinstance(value[0], torch.Tensor))
        if is_tuple_row:
            value = value[0]
        if not isinstance(value, torch.Tensor):
            # sizes, shapes, tuples from chunk/split: not rows (their getitem children are)
            continue
        scope = tracer.scopes.get(n, "")
        where = tracer.where.get(n, "")
        ins = _tensor_args((n.args, n.kwargs), values, roots)
        made_of = [a for a in n.all_input_nodes if a in roots]
        if not ins and n.op != "call_module" and made_of and all(
                a in roots or not isinstance(values.get(a), torch.Tensor) for a in n.all_input_nodes):
            roots[n] = set().union(*(roots[a] for a in made_of))  # sizes read from the input are no tensors
            pinfo[n] = pinfo[made_of[0]]
            continue
        if not ins and n.target is operator.getitem and isinstance(n.args[0], fx.Node):
            ins = _tensor_args((n.args[0].args, n.args[0].kwargs), values, roots)  # chunk(...)[k]: from chunk's input
        if is_tuple_row:
            ins = ins[:1]  # m(x, x, x): self-attention reads one tensor
        in_shapes = [_shape(values[i]) for i in ins]
        out_shape = _shape(value)
        params = 0
        if n.op == "call_module":
            mod = modules[n.target]
            if isinstance(mod, nn.Embedding) and ins and values[ins[0]].is_floating_point():
                shape = ",".join(map(str, input_shape))
                raise SpecError(f"the nn.Embedding {n.target} reads integer token ids, but the input is floats",
                                fix=f"say the input is token ids: --input tokens:{shape} (CLI), "
                                    f"input=('tokens', {shape}) (Python), or input_shape = ('tokens', {shape}) "
                                    "on the module.")
            mapped = map_module(mod, in_shapes)
            if is_tuple_row and not mha_call_ok(n):
                mapped = None
            call = f"{type(mod).__module__.split('.')[0]}.{type(mod).__name__}"
            first_call = n.target not in called
            rid = n.target if first_call else fresh(n.target)
            if first_call:
                used.add(n.target)
            called.add(n.target)
            for pname, p in mod.named_parameters(remove_duplicate=False):
                if id(p) not in counted_params:
                    counted_params.add(id(p))
                    param_path[id(p)] = f"{n.target}.{pname}"
                    params += p.numel()
                elif first_call:  # another module's tensor: tied weights, which the spec row counts again
                    tied.append((f"{n.target}.{pname}", param_path[id(p)], p.numel()))
            module_path = n.target
        else:
            mapped = map_function(n, values, in_shapes, out_shape, ins, pinfo)
            call = _call_name(n)
            rid = None
            module_path = None
            params = own_params(n)
        mapped = _as_mapped(mapped)
        if isinstance(mapped, Mapped) and not mapped.batch_moved and _not_batch_first(value, ins, values):
            # the batch folded with other dims (Swin's windows as the batch, a sequence-first layer): a row
            # counts per sample, so it would count one of them; the call is measured as an opaque row instead
            mapped = None
        if mapped is not None and not isinstance(mapped, Mapped):
            # ("alias",): a no-op for costs (x.contiguous()): the row producing its input stands for it
            ids[n] = ids[ins[0]] if ins else "input"
            continue
        if rid is None:
            name = mapped.name if mapped is not None else None
            if name and name not in row_ids and (name not in used or name in modules and name not in called
                                                 and calls_in.get(name) == 1):
                rid = name  # a parameter's path, or the module whose parameters F.layer_norm uses
                used.add(name)
                called.add(name)
                module_path = name if name in modules else None
            else:
                rid = fresh(f"{scope}.{_short(n)}" if scope else _short(n))
        if mapped is None:
            buffers = sum(b.numel() for b in modules[n.target].buffers()) if n.op == "call_module" else 0
            mapped = Mapped([("", "opaque", {"call": f"{call} at {where}" if where else call,
                                             "output_shape": list(out_shape), "flops": int(probe.count_flops(n)),
                                             "params": params, "buffers": buffers}, None)])
            if not ins:
                raise SpecError(f"the call {call} at {where or scope} produces a tensor from no input tensor",
                                fix="archcost captures networks whose tensors all come from the input; "
                                    "register constant tensors as buffers used by a module.")
        input_ids = [ids[i] for i in ins]
        if mapped.rows[0][1] == "opaque":
            input_ids = input_ids[:1]  # an opaque row reads its first tensor (the language's one-input ops)
        last = None
        for suffix, op, attrs, shape in mapped.rows:
            main = suffix == ""
            row_id = rid if main else fresh(f"{rid}_{suffix}")
            if n.op != "call_module" and "form" in OPS[op].attr_index:
                attrs = {**attrs, "form": call_form(n)}
            row = Row(row_id, op, attrs, input_ids if last is None else [last],
                      tuple(shape) if shape is not None else out_shape, call, where,
                      params if main else 0, module_path if main else None)
            if main and n.op == "call_module" and op != "opaque" and (
                    next(mod.parameters(), None) is not None or next(mod.buffers(), None) is not None):
                first = owners.setdefault(module_path, row)
                if first is not row and first.op == op and first.attrs == attrs:
                    row.shares = first.id  # the same module called again (weights counted once, at its first call)
            rows.append(row)
            row_ids.add(row_id)
            last = row_id
        ids[n] = last
        if is_tuple_row:
            tuple_rows[n] = last
    total = sum(p.numel() for p in model.parameters())
    unused = []
    for name, mod in modules.items():
        if not name or name in called or any(name.startswith(c + ".") for c in called if c):
            continue
        own = sum(p.numel() for p in mod.parameters(recurse=False) if id(p) not in counted_params)
        if own:
            unused.append((name, own))
    # parameters used in forward by no row (a tensor made from parameters and never joined with the data)
    loose = [(name, p.numel()) for name, p in model.named_parameters()
             if id(p) not in counted_params and "." not in name and p.numel()]
    return Trace(rows, out_id, tuple(input_shape), total, unused + loose, tied=tied)


def free_name(base, used, start=1):
    """The first of ``base``, ``base_{start}``, ``base_{start+1}``, ... not in ``used``; added to ``used``."""
    name, k = base, start
    while name in used:
        name = f"{base}_{k}"
        k += 1
    used.add(name)
    return name


def _not_batch_first(value, ins, values) -> bool:
    """Does the call read or make a tensor whose dim 0 is not the probe's batch of 1?"""
    return any(isinstance(v, torch.Tensor) and v.dim() and v.shape[0] != 1 for v in [value, *(values[i] for i in ins)])


def _is_param(model, target):
    try:
        return isinstance(_get(model, target), nn.Parameter)
    except AttributeError:
        return False


def _get(model, target):
    obj = model
    for part in target.split("."):
        obj = getattr(obj, part)
    return obj


def _short(n) -> str:
    """A row name for a functional call: the function's or method's name (relu, add, flatten, cat)."""
    t = n.target
    name = t if isinstance(t, str) else getattr(t, "__name__", str(t))
    return name.strip("_").replace(".", "_") or "call"


def _call_name(n) -> str:
    t = n.target
    if n.op == "call_method":
        return f"Tensor.{t}"
    mod = getattr(t, "__module__", None) or ""
    name = getattr(t, "__name__", str(t))
    if mod in ("_operator", "operator"):
        return f"operator.{name}"
    if mod.startswith("torch.nn.functional"):
        return f"F.{name}"
    if mod.startswith("torch"):
        return f"torch.{name}"
    return f"{mod}.{name}" if mod else name


def _trace_error(err, model) -> SpecError:
    """fx's failure as one paragraph: the user's line, what fx could not do, what to do."""
    line, file = None, None
    tb = err.__traceback__
    while tb is not None:
        f = tb.tb_frame.f_code.co_filename
        if not f.startswith(_TORCH_DIR) and "/archcost/" not in f.replace(os.sep, "/"):
            file, line = f, tb.tb_lineno
        tb = tb.tb_next
    text = str(err).split("\n")[0]
    if "control flow" in text or "iterate" in text or "bool" in text.lower():
        msg = (f"{type(model).__name__}.forward branches or loops on a tensor's value or shape ({text}); archcost "
               "traces forward once with symbolic tensors, so such a branch has no single answer")
        fix = ("make the branch depend on a constructor argument or a module attribute (self.use_x) instead of the "
               "tensor, or move that code into a function decorated with torch.fx.wrap (it becomes one opaque row).")
    else:
        msg = f"cannot trace {type(model).__name__}.forward with torch.fx: {type(err).__name__}: {text}"
        fix = "move the untraceable code into a function decorated with torch.fx.wrap (it becomes one opaque row)."
    return SpecError(msg, file=file, line=line, fix=fix)

"""Property test: random valid networks agree with torch and fvcore, layer by layer.

``strategies.networks()`` draws a whole network in the spec language (chains,
residual and projection shortcuts, parallel concat/add/multiply, squeeze-excitation
gates, splits, named tensors, repeated blocks with expressions, 1-D and 2-D ops,
transposed convolutions, norms, pools, heads).  For each one:

* archcost must accept it (the generator only builds valid networks);
* the network's output shape must equal the one the generator computed itself
  with torch's size formulas;
* ``verify_graph``: every layer's analytic output shape and parameter count equal
  the lowered torch module's, and its fvcore-convention MACs equal fvcore's.

``ARCHCOST_FUZZ_EXAMPLES`` sets the number of networks (default 100);
``benchmarks/fuzz_networks.py`` runs thousands.
"""

from __future__ import annotations

import atexit
import itertools
import os
import shutil
import tempfile

import pytest
from hypothesis import HealthCheck, given, note, settings

import archcost
from strategies import networks

pytest.importorskip("torch")
pytest.importorskip("fvcore")
from archcost.verify import verify_graph  # noqa: E402

EXAMPLES = int(os.environ.get("ARCHCOST_FUZZ_EXAMPLES", 100))
STATS = {"tried": 0, "nodes": 0}
_DIR = tempfile.mkdtemp(prefix="archcost_fuzz_")
atexit.register(shutil.rmtree, _DIR, ignore_errors=True)
_COUNTER = itertools.count()


def check_network(net) -> int:
    """Write the spec to a fresh file, build it and compare with torch/fvcore; return the node count."""
    path = os.path.join(_DIR, f"net{next(_COUNTER)}.yaml")  # a fresh path: archcost.build caches by path
    with open(path, "w", encoding="utf-8") as fh:
        fh.write(net.text)
    graph = archcost.build(path)
    out = graph.by_id()[graph.output].out_shape if graph.output in graph.by_id() else graph.input_shape
    assert tuple(out) == tuple(net.output_shape), f"output shape {out}, generator computed {net.output_shape}"
    report = verify_graph(graph)
    assert report.ok, "\n".join(report.problems()[:20])
    return len(graph.nodes)


@pytest.mark.slow
@settings(max_examples=EXAMPLES, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much])
@given(net=networks())
def test_random_networks_match_torch_and_fvcore(net):
    note(net.text)
    STATS["tried"] += 1
    STATS["nodes"] += check_network(net)

from .conventions import CONVENTIONS, DTYPE_BYTES
from .engine import Analysis, Row, analyze_graph, peak_activation_elems

__all__ = ["CONVENTIONS", "DTYPE_BYTES", "Analysis", "Row", "analyze_graph", "peak_activation_elems"]

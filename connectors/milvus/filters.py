"""vecbridge filters compiled into Milvus boolean expressions over the hidden filter index.

Every condition runs on the record's filter index (``shadow.py``), never on the metadata itself,
so Milvus's own JSON rules (``1 == true``, lists not searched, nulls in three-valued logic) do not
leak into vecbridge's semantics:

* ``$eq`` / ``$in``: ``json_contains(vb_filter["t"], term)`` / ``json_contains_any(..., [terms])``;
* ``$exists``: the key's presence term;
* ``$ne`` / ``$nin`` / ``$not``: ``not (...)`` of the above, exact complements because the term
  list is on every record (true or false, never null);
* ranges: ``(exists vb_filter["hi<hex>"]) and vb_filter["hi<hex>"] > x`` (``lo`` for ``<``,
  ``dlo`` / ``dhi`` for dates). The ``exists`` guard makes a missing bound *false* rather than
  null, so a negated range still matches records without the key.

Every node the compiler emits is atomic (a function call) or parenthesised, so the precedence of
Milvus's grammar (``Plan.g4``: ``not`` and ``exists`` bind tighter than comparisons) never regroups
it.

Values are never pasted raw: strings become double-quoted literals with ``\\``, ``"`` and line
breaks escaped (the escapes both Milvus's grammar and Milvus Lite's accept), numbers are float
``repr``s, and JSON paths hold only fixed names and hexadecimal keys. (Milvus 2.5 servers also take
``filter_params`` templates, but Milvus Lite 3.2 does not parse them, and one compiler for both
keeps the tested path the one servers run.)
"""

from __future__ import annotations

from vecbridge.core.filters import Comparison, FilterCompiler, Instant

from .schema import FILTER_FIELD
from .shadow import TERMS, key_path, number_text, presence_term, value_term

__all__ = ["MilvusFilterCompiler", "literal", "number_literal"]

_ESCAPES = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r", "\t": "\\t"}
_RANGE_OPS = {"gt": ">", "gte": ">=", "lt": "<", "lte": "<="}


def literal(text: str) -> str:
    """``text`` as a Milvus string literal (double quotes, escaped)."""
    return '"' + "".join(_ESCAPES.get(ch, ch) for ch in text) + '"'


def number_literal(value: float) -> str:
    """A number as a Milvus literal: its float ``repr`` (``1e+308``, ``-2.5``, ``5e-324``)."""
    return number_text(value)


def _path(key: str) -> str:
    return f'{FILTER_FIELD}["{key}"]'


def _term(field: str, value: object) -> str:
    term = value_term(field, value)
    assert term is not None, "the parser only lets strings, numbers and booleans through"
    return term


class MilvusFilterCompiler(FilterCompiler[str]):
    """Compiles the portable filter AST into a Milvus expression string."""

    def compile_and(self, children: list[str]) -> str:
        return "(" + " and ".join(children) + ")"

    def compile_or(self, children: list[str]) -> str:
        return "(" + " or ".join(children) + ")"

    def compile_not(self, child: str) -> str:
        return f"(not {child})"

    def compile_comparison(self, node: Comparison) -> str:
        terms = _path(TERMS)
        op = node.op
        if op in ("eq", "ne"):
            found = f"json_contains({terms}, {literal(_term(node.field, node.value))})"
            return found if op == "eq" else f"(not {found})"
        if op in ("in", "nin"):
            values = ", ".join(literal(_term(node.field, v)) for v in node.value)
            found = f"json_contains_any({terms}, [{values}])"
            return found if op == "in" else f"(not {found})"
        if op == "exists":
            present = f"json_contains({terms}, {literal(presence_term(node.field))})"
            return present if node.value else f"(not {present})"
        return self._range(node)

    @staticmethod
    def _range(node: Comparison) -> str:
        # "any element > x" is "the largest > x"; "any element < x" is "the smallest < x".
        upper = node.op in ("gt", "gte")
        if isinstance(node.value, Instant):
            bound, value = ("dhi" if upper else "dlo"), node.value.seconds
        else:
            bound, value = ("hi" if upper else "lo"), float(node.value)
        path = _path(key_path(bound, node.field))
        return f"((exists {path}) and {path} {_RANGE_OPS[node.op]} {number_literal(value)})"

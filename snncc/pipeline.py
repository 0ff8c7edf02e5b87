"""Pass pipelines: parse ``"fold-batchnorm,quantize{weight_bits=8},map-cores"``, run
them with verification after each pass, per-pass timing and change records, and
optional numbered IR dumps (``003_fold-batchnorm.snnir``)."""
from __future__ import annotations

import dataclasses
import os
import re
import time
import typing
from dataclasses import dataclass, field
from typing import Any, Sequence

from .diagnostics import Diagnostic, Severity, SnnccError
from .ir import Graph, verify
from .passbase import Pass, PassContext, is_lossy
from .registry import PASSES

_ITEM = re.compile(r"\s*([a-z0-9][a-z0-9-]*)\s*(?:\{([^{}]*)\})?\s*(?:,|$)")


def _convert(cls: type, key: str, text: str) -> Any:
    hints = typing.get_type_hints(cls)
    fields = {f.name for f in dataclasses.fields(cls)}
    if key not in fields:
        raise SnnccError.single("SNN304", f"pass '{cls.name}' has no option '{key}'",
                                hint=f"options: {', '.join(sorted(fields)) or 'none'}")
    kind = hints[key]
    text = text.strip()
    try:
        if kind is bool or kind == "bool":
            if text.lower() not in ("true", "false", "1", "0"):
                raise ValueError(text)
            return text.lower() in ("true", "1")
        if kind is int:
            return int(text)
        if kind is float:
            return float(text)
        if typing.get_origin(kind) is typing.Union or isinstance(kind, type(int | None)):
            args = [a for a in typing.get_args(kind) if a is not type(None)]
            if text.lower() == "none":
                return None
            return args[0](text)
        return text
    except ValueError:
        raise SnnccError.single("SNN304", f"option '{key}' of pass '{cls.name}' expects {getattr(kind, '__name__', kind)}, got '{text}'") from None


def parse_pipeline(spec: str) -> list[Pass]:
    """Parse pipeline text into pass objects (unknown passes/options are errors)."""
    passes: list[Pass] = []
    position = 0
    spec = spec.strip()
    while position < len(spec):
        match = _ITEM.match(spec, position)
        if not match or match.end() == position:
            raise SnnccError.single("SNN304", f"cannot parse pipeline at '{spec[position:]}'",
                                    hint="write name{key=value,...} items separated by commas")
        name, body = match.group(1), match.group(2)
        cls = PASSES.get(name)
        options = {}
        for item in filter(None, (body or "").split(",")):
            key, _, value = item.partition("=")
            options[key.strip()] = _convert(cls, key.strip(), value)
        passes.append(cls(**options))
        position = match.end()
    return passes


def pipeline_spec(passes: Sequence[Pass]) -> str:
    return ",".join(p.spec() for p in passes)


@dataclass
class PassRecord:
    name: str
    spec: str
    seconds: float
    modified: bool
    changes: dict[str, Any] = field(default_factory=dict)


@dataclass
class PassManager:
    passes: Sequence[Pass]
    verify_each: bool = True
    dump_dir: str | None = None
    progress: Any = None  # callable(index, total, name) for long pipelines

    def run(self, graph: Graph, ctx: PassContext | None = None) -> tuple[Graph, list[PassRecord]]:
        ctx = ctx or PassContext()
        records: list[PassRecord] = []
        if self.dump_dir:
            os.makedirs(self.dump_dir, exist_ok=True)
            self._dump(graph, 0, "input")
        for index, pass_ in enumerate(self.passes, 1):
            if self.progress:
                self.progress(index, len(self.passes), pass_.name)
            history = [r.name for r in records]
            if ctx.before_lossy is None and is_lossy(pass_):
                ctx.before_lossy = graph
            start = time.perf_counter()
            try:
                result = pass_.run(graph, ctx)
            except SnnccError as exc:
                raise SnnccError(dataclasses.replace(d, pass_name=d.pass_name or pass_.name) for d in exc.diagnostics) from None
            seconds = time.perf_counter() - start
            if self.verify_each and result.modified:
                problems = [d for d in verify(result.graph) if d.severity is Severity.ERROR]
                if problems:
                    raise SnnccError(
                        Diagnostic("SNN305", f"graph invalid after pass (passes run before: {history or 'none'}): {d.message}",
                                   node=d.node, hint=d.hint, pass_name=pass_.name)
                        for d in problems
                    )
            graph = result.graph
            records.append(PassRecord(pass_.name, pass_.spec(), seconds, result.modified, result.changes))
            if self.dump_dir:
                self._dump(graph, index, pass_.name)
        return graph, records

    def _dump(self, graph: Graph, index: int, name: str) -> None:
        from .ir.printer import print_graph

        with open(os.path.join(self.dump_dir, f"{index:03d}_{name}.snnir"), "w") as handle:
            handle.write(print_graph(graph))

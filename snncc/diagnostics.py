"""Structured diagnostics with stable codes, collected and raised together.

Every user-facing failure in snncc is a :class:`Diagnostic` (code, where, message,
hint). Codes are stable so tests and scripts can match on them:

- ``SNN1xx`` input files (missing, unreadable, wrong format)
- ``SNN2xx`` graph structure (shapes, edges, cycles, unknown nodes, bad values)
- ``SNN3xx`` passes and pipelines
- ``SNN4xx`` target limits (hardware violations)
- ``SNN5xx`` runtime / backends
- ``SNN6xx`` running compiled directories: ``snncc run`` / ``bench`` input, labels, options
  (601 not a compiled directory, 602 unknown backend, 603 input, 604 labels, 605 bench
  options, 606 no fidelity summary)
"""
from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Iterable


class Severity(str, enum.Enum):
    ERROR = "error"
    WARNING = "warning"
    NOTE = "note"


@dataclass(frozen=True)
class Diagnostic:
    code: str
    message: str
    node: str | None = None
    hint: str | None = None
    severity: Severity = Severity.ERROR
    file: str | None = None
    pass_name: str | None = None

    def render(self) -> str:
        where = ":".join(p for p in (self.file, self.node and f"node '{self.node}'") if p)
        text = f"{self.severity.value}[{self.code}]"
        if self.pass_name:
            text += f" in pass '{self.pass_name}'"
        if where:
            text += f" {where}"
        text += f": {self.message}"
        if self.hint:
            text += f" (hint: {self.hint})"
        return text

    def to_dict(self) -> dict:
        return {k: (v.value if isinstance(v, Severity) else v) for k, v in self.__dict__.items()}


class SnnccError(Exception):
    """Raised with every error diagnostic found, never just the first."""

    def __init__(self, diagnostics: Iterable[Diagnostic]):
        self.diagnostics: list[Diagnostic] = list(diagnostics)
        super().__init__("\n".join(d.render() for d in self.diagnostics))

    @classmethod
    def single(cls, code: str, message: str, **kwargs) -> "SnnccError":
        return cls([Diagnostic(code, message, **kwargs)])

    def with_file(self, file: str) -> "SnnccError":
        return SnnccError(
            Diagnostic(**{**d.__dict__, "file": d.file or file}) for d in self.diagnostics
        )


@dataclass
class DiagnosticList:
    """Accumulates diagnostics; ``raise_if_errors`` raises them all at once."""

    items: list[Diagnostic] = field(default_factory=list)

    def add(self, code: str, message: str, **kwargs) -> None:
        self.items.append(Diagnostic(code, message, **kwargs))

    def extend(self, diagnostics: Iterable[Diagnostic]) -> None:
        self.items.extend(diagnostics)

    @property
    def errors(self) -> list[Diagnostic]:
        return [d for d in self.items if d.severity is Severity.ERROR]

    def raise_if_errors(self) -> None:
        if self.errors:
            raise SnnccError(self.errors)

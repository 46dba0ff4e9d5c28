"""What a check is given besides the draft: the request, the media as evidence, the
settings, the calls that ran, and whether this is the final pass."""

from __future__ import annotations

from dataclasses import dataclass, field

from muie.agent.verify.evidence import Evidence
from muie.calls import CallKey
from muie.request import Request
from muie.settings import Settings


@dataclass
class VerifyContext:
    request: Request
    evidence: Evidence
    settings: Settings
    history: list[CallKey] = field(default_factory=list)
    final: bool = False
    """The last pass, on the draft whose media mentions are groundings."""

"""Incompleteness: what is likely missing gets a second, targeted pass.

- a name in a text read off media (speech, a sign) that no entity covers, once the
  entity tool has read that part: a run of capitalised words (``Vandelay Industries``,
  ``GLOBEX``), not a lone capitalised word that starts a sentence, nor a common word;
  the reasoner reads that span again (``reextract``);
- an event whose type has roles and that has no argument at all: the reasoner looks
  again at its sentence for them (``refill``).

Each pass is asked once; what it does not find stays missing.
"""

from __future__ import annotations

import re

from muie.agent.verify.context import VerifyContext
from muie.derived import OCR
from muie.draft import Draft
from muie.findings import Finding, Replan

WORD = re.compile(r"[A-Za-z][\w'&-]*(?:\.[A-Za-z][\w'&-]*)*\.?")
"""A word; dots inside it (``U.S.``) and one after it (``Inc.``) belong to it."""
JOINERS = {"of", "de", "van", "von", "&", "the", "la", "le", "du", "da"}
COMMON = {"the", "a", "an", "i", "it", "this", "that", "we", "he", "she", "they", "you", "and", "but", "in", "on",
          "at", "to", "of", "for", "with", "by", "from", "as", "is", "are", "was", "were", "be", "so", "then",
          "there", "here", "today", "yesterday", "now", "yes", "no", "ok", "okay", "my", "our", "his", "her",
          "their", "its", "what", "when", "where", "who", "why", "how", "open", "closed", "exit", "sale", "welcome"}
MAX_PER_ROUND = 16


def _capital(w: str) -> bool:
    return w[0].isupper() and len(w.strip(".'-")) >= 2


def name_runs(text: str, ocr: bool) -> list[tuple[int, int]]:
    """Spans of runs of capitalised words that read like names."""
    toks = [(m.start(), m.end(), m.group()) for m in WORD.finditer(text)]
    out, k = [], 0
    while k < len(toks):
        if not _capital(toks[k][2]):
            k += 1
            continue
        j = k
        while j + 1 < len(toks):
            if toks[j][2].endswith(".") and toks[j][2].count(".") == 1:
                break  # a full stop ends the name ("NASA. She")
            if _capital(toks[j + 1][2]) and text[toks[j][1]:toks[j + 1][0]].strip(" ") == "":
                j += 1
            elif (j + 2 < len(toks) and toks[j + 1][2].lower() in JOINERS and _capital(toks[j + 2][2])
                  and "\n" not in text[toks[j][1]:toks[j + 2][0]]):
                j += 2
            else:
                break
        run = toks[k:j + 1]
        while len(run) > 1 and run[0][2].lower().strip(".") in COMMON:  # "The U.S. Army" -> "U.S. Army"
            run = run[1:]
        start, end, last = run[0][0], run[-1][1], run[-1][2]
        if last.endswith(".") and last.count(".") == 1 and (len(last) > 4 or last[:-1].isupper()):
            end -= 1  # the full stop after a name is not part of it ("NASA.")
        words = [t[2] for t in run]
        lone = len(run) == 1
        sentence_start = not text[:start].strip() or text[:start].rstrip()[-1] in ".!?\n"
        common = all(w.lower().strip(".") in COMMON for w in words)
        if not common and not (lone and (sentence_start and not ocr or len(words[0]) < 3)):
            out.append((start, end))
        k = j + 1
    return out


def _read(vc: VerifyContext) -> dict[str, list[tuple[int, int]]]:
    """Text id -> spans the entity tool has read."""
    out: dict[str, list[tuple[int, int]]] = {}
    for key in vc.history:
        if key.tool.startswith("recognize_entities.") and key.span is not None:
            out.setdefault(key.input, []).append((int(key.span[0]), int(key.span[1])))
    return out


def missing_names(draft: Draft, vc: VerifyContext) -> list[Finding]:
    if not vc.request.schema_.entity_types:
        return []
    read = _read(vc)
    covered: dict[str, list[tuple[int, int]]] = {}
    for e in draft.entities:
        for m in e.mentions:
            covered.setdefault(m.input, []).append((m.start, m.end))
    out: list[Finding] = []
    for d in vc.request.derived:
        for s, e in name_runs(d.text, d.kind == OCR):
            if not any(a <= s and e <= b for a, b in read.get(d.id, [])):
                continue
            if any(a < e and s < b for a, b in covered.get(d.id, [])):
                continue
            out.append(Finding(check="incomplete", where=f"{d.id} [{s}, {e})", severity="warning", confidence=0.5,
                               message=f"{d.text[s:e]!r} reads like a name and no entity covers it",
                               action="asked to read it again",
                               replan=Replan(goal="reextract", input=d.id, start=s, end=e)))
            if len(out) >= MAX_PER_ROUND:
                return out
    return out


def sentence(text: str, start: int, end: int) -> tuple[int, int]:
    """The sentence (or line) around ``[start, end)``."""
    left = max(text.rfind(c, 0, start) for c in ".!?\n") + 1
    rights = [i for c in ".!?\n" if (i := text.find(c, end)) >= 0]
    right = min(rights) + 1 if rights else len(text)
    while left < start and text[left].isspace():
        left += 1
    return left, min(right, len(text))


def missing_arguments(draft: Draft, vc: VerifyContext) -> list[Finding]:
    roles = vc.request.schema_.event_types
    texts = vc.request.all_texts
    out = []
    for v in draft.events:
        if v.arguments or not roles.get(v.type) or not v.trigger.mentions:
            continue
        m = v.trigger.mentions[0]
        text = texts.get(m.input)
        if text is None:
            continue
        s, e = sentence(text, m.start, m.end)
        out.append(Finding(check="incomplete", where=f"event {v.id}", severity="warning", confidence=0.5,
                           message=f"{v.type} {v.trigger.text!r} has none of its roles "
                                   f"({', '.join(roles[v.type])}) filled",
                           action="asked to look again",
                           replan=Replan(goal="refill", input=m.input, event=v.id, start=s, end=e)))
    return out

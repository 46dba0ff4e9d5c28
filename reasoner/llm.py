"""The LLM reasoner: any OpenAI-compatible (multimodal) LLM reads the text and plans tools.

Each text of the run (the user's, then each text read off the media: an image's words,
a recording's transcript) goes to the LLM once, in pieces of at most ``llm_max_chars``,
with the schema, the images as data URLs, the transcripts with their times, the tool
catalogue for the media the case has, and the verifier's critique. It answers typed
(``reasoner.llm_prompt.Extraction``, plus tool calls when tools were offered): the
entities, relations and events as words copied from the text, which the reasoner then
finds in the text (the first occurrence of each in the piece, exact case first); offsets
are never taken from the model, so a mention always reads as the text does. Words it
cannot find are dropped and counted in the trace.

The verifier's critique goes into the prompt, and its re-plans (a region again by the
entity's words, a span read again, an event's arguments looked for again) become the
targeted calls the embedded reasoner makes for them (``reasoner.critique``).

Media are perceived as the embedded reasoner does (read each image, transcribe each
recording, listen for the schema's sounds, link the entities to image regions), plus the
calls the LLM asks for; a region or segment an LLM call finds for an entity's words
becomes that entity's grounding. The text tools are not called: the LLM reads the text.

With ``llm_mode=meta`` the LLM plans every call as REAMO's meta-response text instead
(``reasoner.llm_meta``), for a model fine-tuned to answer so.

When the endpoint fails for good (``reasoner.llm_client.LLMError``: unreachable, timeout,
rate limit, 5xx, malformed or schema-violating output, retries spent), the run goes on
with the embedded reasoner from where it stands, and the trace says why
(``llm_on_error=fallback``); with ``llm_on_error=fail`` the error ends the run.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from muie.calls import CallKey, History
from muie.derived import OCR, SPEECH, derived_id
from muie.draft import Draft, DraftBuilder
from muie.reasoner.base import Decision, View
from muie.reasoner.critique import critique_calls
from muie.reasoner.embedded import EmbeddedReasoner
from muie.reasoner.llm_client import LLMClient, LLMError
from muie.reasoner.llm_meta import decide_meta
from muie.reasoner.llm_prompt import Extraction, audio_part, image_data_url, messages, offered_tools, plan_model
from muie.reasoner.media_plan import image_audio_calls, link_calls
from muie.repair import repair
from muie.request import Request
from muie.settings import Settings, default_settings
from muie.spans import ArgumentCandidate, EventCandidate, RelationCandidate, SpanCandidate
from muie.tools import key_of

log = logging.getLogger("muie")

LLM_SCORE = 0.8
"""Score of what the LLM states (it gives none): above the embedded thresholds, below certainty."""
_MEDIA_TEXTS = {"transcribe.v1": SPEECH, "read_text.v1": OCR}


class LLMReasoner:
    name = "llm"

    def __init__(self, settings: Settings | None = None, client: Any | None = None) -> None:
        self.settings = settings or default_settings()
        self.client = client or LLMClient(self.settings)
        self.embedded = EmbeddedReasoner(self.settings)

    def decide(self, view: View) -> Decision:
        meta = self.settings.llm_mode == "meta"
        ran = History(view.history)
        if not meta and any(ran.ran(self.settings.entity_tool, i, (s, e)) for i, s, e in view.chunks):
            # the embedded text tools read a whole chunk:
            return self.embedded.decide(view)  # it fell back earlier in this run, and goes on
        try:
            if meta:
                return decide_meta(self.settings, self.client, view)
            return self._decide(view)
        except LLMError as e:
            if self.settings.llm_on_error == "fail":
                raise
            log.warning("%s; falling back to the embedded reasoner", e)
            d = self.embedded.decide(view)
            return d.model_copy(update={"note": f"fallback to the embedded reasoner: {e}; {d.note}"})

    def _decide(self, view: View) -> Decision:
        req = view.request
        draft = view.draft
        notes: list[str] = []
        critique: list[dict[str, Any]] = []
        if view.findings:  # the checks' repairs, and the targeted calls the critique asks for
            draft = repair(draft, req)
            critique = critique_calls(view, draft, self.settings)
            notes.append(f"answered {len(view.findings)} finding(s) with {len(critique)} targeted call(s)")
        tools = offered_tools(req)
        llm_calls: list[dict[str, Any]] = []
        if view.call_errors:  # the graph rejected calls: the LLM corrects its own, once per retry
            if tools:
                src, text = next(iter(req.texts.items()), ("text", ""))
                answer = self._ask(req, src, text, tools, view, call_errors=view.call_errors)
                llm_calls = [c.model_dump() for c in getattr(answer, "calls", [])]
                notes.append(f"LLM corrected its calls: {len(llm_calls)}")
        else:
            b = DraftBuilder(draft, per_input=req.is_batch)
            for source, start, end in self._new_pieces(view):
                text = req.all_texts[source][start:end]
                offer = tools if source in req.texts and start == 0 else ()
                answer = self._ask(req, source, text, offer, view)
                kept, lost = _merge_answer(b, req, source, start, text, answer)
                llm_calls += [c.model_dump() for c in getattr(answer, "calls", [])]
                lost_note = f", {lost} not found" if lost else ""
                notes.append(f"LLM read {source}[{start}:{end}]: {kept} item(s){lost_note}")
            draft = b.draft()
        calls = self._plan(view, draft, critique + llm_calls)
        if llm_calls:
            notes.append(f"LLM asked for {len(llm_calls)} call(s)")
        if calls:
            notes.append(f"{len(calls)} call(s) on media")
        return Decision(calls=calls, draft=draft, done=not calls, note="; ".join(notes) or "nothing left to call")

    def _ask(self, req: Request, source: str, text: str, tools: tuple[str, ...], view: View,
             call_errors: list[str] = ()) -> Extraction:  # type: ignore[assignment]
        s = self.settings
        images = [image_data_url(i.path, s.llm_image_side) for i in req.inputs
                  if i.modality == "image" and i.path] if s.llm_send_images else []
        audio = [audio_part(i.path) for i in req.inputs if i.modality == "audio" and i.path] if s.llm_send_audio else []
        msgs = messages(req, source, text, tools=tools, findings=view.findings, call_errors=call_errors,
                        images=images, audio=audio)
        answer = self.client.ask(msgs, plan_model(tools) if tools else Extraction)
        log.info("LLM answered on %s in %.1f s (%d+%d tokens)", source, answer.seconds, answer.prompt_tokens,
                 answer.completion_tokens)
        return answer.value  # type: ignore[return-value]

    def _new_pieces(self, view: View) -> list[tuple[str, int, int]]:
        """The texts the LLM has not read yet: the user's in the first round, a media's
        text right after the call that read it; each cut into pieces of whole chunks."""
        req = view.request
        fresh = set(req.texts) if view.iteration == 0 else set()
        fresh |= {derived_id(o.call.arguments.input, _MEDIA_TEXTS[o.call.tool]) for o in view.observations
                  if o.call.tool in _MEDIA_TEXTS and o.result is not None}
        pieces: list[tuple[str, int, int]] = []
        for source, s, e in view.chunks:
            if source not in fresh:
                continue
            if pieces and pieces[-1][0] == source and e - pieces[-1][1] <= self.settings.llm_max_chars:
                pieces[-1] = (source, pieces[-1][1], e)
            else:
                pieces.append((source, s, e))
        return pieces

    def _plan(self, view: View, draft: Draft, llm_calls: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """The embedded reasoner's media plan (every text counted as read) and the LLM's
        calls, each call once, none that ran already."""
        ran = History(view.history)
        read = ran.with_keys(CallKey(tool=self.settings.entity_tool, input=i, span=(s, e)) for i, s, e in view.chunks)
        plan = image_audio_calls(view, draft, read, self.settings) + link_calls(view, draft, ran)
        seen: set[CallKey | str] = {_key(c) for c in plan} | set(ran.keys)
        for c in llm_calls:
            c = _for_entity(c, draft)
            if _key(c) not in seen:
                plan.append(c)
                seen.add(_key(c))
        return plan


def _key(call: dict[str, Any]) -> CallKey | str:
    """The call's key as the run's history keeps it (an invalid call: its own text)."""
    return key_of(call) or repr(call)


_WORDS_ARGUMENT = {"segment_image.v1": "text", "segment_audio.v1": "target"}
"""The argument holding the words a call looks for, per tool that can be an entity's."""


def _for_entity(call: dict[str, Any], draft: Draft) -> dict[str, Any]:
    """A call the LLM asked for an entity's words (a region or a time segment found by
    them) is marked as that entity's: what it finds becomes the entity's grounding."""
    args, field = call.get("arguments"), _WORDS_ARGUMENT.get(call.get("tool"))
    words = args.get(field) if field is not None and isinstance(args, dict) else None
    if not isinstance(words, str) or args.get("entity") is not None:
        return call
    wanted = " ".join(words.lower().split())
    e = next((e for e in draft.entities if " ".join(e.text.lower().split()) == wanted), None)
    return call if e is None else {**call, "arguments": {**args, "entity": e.id}}


def locate(text: str, words: str) -> list[tuple[int, int]]:
    """Every place ``words`` occur in ``text`` as whole words: exact case first, else
    ignoring case (runs of spaces match any space); else without a leading article."""
    words = words.strip().strip("\"'`")
    if not words:
        return []
    pattern = r"(?<!\w)" + r"\s+".join(re.escape(w) for w in words.split()) + r"(?!\w)"
    for flags in (0, re.IGNORECASE):
        found = [(m.start(), m.end()) for m in re.finditer(pattern, text, flags)]
        if found:
            return found
    bare = re.sub(r"^(the|a|an)\s+", "", words, flags=re.IGNORECASE)
    return locate(text, bare) if bare != words else []


def _canon(name: str, names: list[str] | dict[str, Any]) -> str | None:
    """The schema's spelling of a type or role the LLM named (case and separators ignored)."""
    flat = re.sub(r"[\s_\-]+", "", name).lower()
    return next((n for n in names if re.sub(r"[\s_\-]+", "", n).lower() == flat), None)


def _merge_answer(b: DraftBuilder, req: Request, source: str, offset: int, text: str,
                  answer: Extraction) -> tuple[int, int]:
    """Add what the LLM stated in ``text`` (which starts at ``offset`` of ``source``).
    Returns (items kept, items whose words are not in the text)."""
    s = req.schema_
    kept = lost = 0
    spans: dict[str, SpanCandidate] = {}
    for ent in answer.entities:
        etype = _canon(ent.type, s.entity_types)
        places = locate(text, ent.text)
        if etype is None or not places:
            lost += not places
            continue
        cands = [SpanCandidate(start=offset + i, end=offset + j, text=text[i:j], type=etype, score=LLM_SCORE,
                               source="llm") for i, j in places]
        spans.setdefault(ent.text.strip().lower(), cands[0])
        b.add_entities(source, cands)
        kept += 1
    ids = {(source, m.start, m.end): e.id for e in b.entities for m in e.mentions}

    def entity_of(words: str) -> str | None:
        c = spans.get(words.strip().lower())
        if c is None:  # an entity the LLM did not list: one listed inside or around the words
            c = next((v for k, v in spans.items() if k in words.lower() or words.lower().strip() in k), None)
        return ids.get((source, c.start, c.end)) if c is not None else None

    rels = []
    for r in answer.relations:
        rtype, head, tail = _canon(r.type, s.relation_types), entity_of(r.head), entity_of(r.tail)
        if rtype and head and tail and head != tail:
            rels.append(RelationCandidate(type=rtype, head=head, tail=tail, score=LLM_SCORE, evidence="llm"))
    b.add_relations(rels)
    events = []
    for v in answer.events:
        vtype = _canon(v.type, s.event_types)
        places = locate(text, v.trigger)
        if vtype is None or not places:
            lost += not places
            continue
        at = places[0]
        trig = SpanCandidate(start=offset + at[0], end=offset + at[1], text=text[at[0]:at[1]], type=vtype,
                             score=LLM_SCORE, source="llm")
        args = [ArgumentCandidate(role=role, entity=ent, score=LLM_SCORE) for a in v.arguments
                if (role := _canon(a.role, s.event_types[vtype])) and (ent := entity_of(a.text))]
        events.append(EventCandidate(type=vtype, trigger=trig, score=LLM_SCORE, arguments=args))
    b.add_events(source, events)
    return kept + len(rels) + len(events), lost



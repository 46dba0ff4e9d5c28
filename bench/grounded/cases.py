"""The image case kinds: image_paste, image_ocr, image_negative (and helpers shared by all kinds)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from .common import Gold, Sentence, TextBuilder, encode_mask, mask_bbox
from .images import SOURCES, H, Source, W, background, draw_sign, paste_photos, place, save_png, sign_size

PHOTOS = sorted(SOURCES)

CAPTIONS = {
    1: ["This picture shows {0}.", "Here you can see {0}.", "{0} in a photo collage."],
    2: ["{0} sits next to {1}.", "The picture shows {0} and {1}.", "You can see {0} and {1} here."],
    3: ["The picture shows {0}, {1} and {2}.", "You can see {0}, {1} and {2} in this picture."],
}

# Things no sample photo shows, for captions that name what is not in the picture.
ABSENT = [Source("", t, ty, d) for t, ty, d in [
    ("dog", "animal", "a"), ("elephant", "animal", "an"), ("bicycle", "vehicle", "a"), ("guitar", "object", "a"),
    ("umbrella", "object", "an"), ("car", "vehicle", "a"), ("teapot", "object", "a"),
    ("Albert Einstein", "person", ""), ("giraffe", "animal", "a")]]
BEACH = Source("", "beach", "location", "the")
NEGATIVE_ALONE = ["{0} %s on {beach}.", "There is {0} in this picture.", "This picture shows {0}."]
NEGATIVE_WITH = ["{0} is next to {1}.", "This picture shows {0} and {1}.", "{0} appears beside {1}."]
ON_THE_BEACH = {"animal": "runs", "person": "walks"}  # anything else "lies" on the beach

SIGN_WORDS = [("ACME Corporation", "organization"), ("Globex Bank", "organization"), ("Initech", "organization"),
              ("Northwind Traders", "organization"), ("Ada Lovelace", "person"), ("Alan Turing", "person"),
              ("Marie Curie", "person"), ("Paris", "location"), ("Lake Geneva", "location"), ("Tokyo", "location"),
              ("Berlin", "location")]


def _captioned_image(case_id: str, out: Path, canvas: np.ndarray, sent: Any) -> tuple[Gold, str]:
    """Save the image and start its gold: the caption as the text input, the image input."""
    tb = TextBuilder()
    tb.add(sent)
    rel = f"media/{case_id}.png"
    save_png(canvas, out / rel)
    gold = Gold()
    gold.add_input({"id": "text", "modality": "text"})
    image_input(gold, rel)
    gold.add_text(tb)
    return gold, tb.text


def caption(template: str, things: dict[str, Source]) -> Sentence:
    """Template with {name} slots -> Sentence; each slot's determiner joins the plain words before it."""
    chunks: list[tuple[str, str | None]] = []
    plain = ""
    for piece in re.split(r"(\{\w+\})", template.rstrip(".")):
        if piece.startswith("{"):
            src = things[piece[1:-1]]
            plain = (plain.strip() + " " + src.det).strip()
            if plain:
                chunks.append((plain, None))
            chunks.append((src.text, src.type))
            plain = ""
        else:
            plain += piece
    if plain.strip():
        chunks.append((plain.strip(), None))
    return Sentence(chunks)


def pick(rng: np.random.Generator, pool: list, k: int) -> list:
    return [pool[i] for i in rng.choice(len(pool), size=k, replace=False)]


def finish(case_id: str, kind: str, gold: Gold, text: str | None, **extra: Any) -> dict[str, Any]:
    case: dict[str, Any] = {"id": case_id, "kind": kind}
    if text is not None:
        case["text"] = text
    transcript = extra.pop("transcript", None)
    if transcript is not None:
        case["transcript"] = transcript
    case.update(gold.result(text))
    case.update({k: v for k, v in extra.items() if v is not None})
    return case


def image_input(gold: Gold, rel: str) -> None:
    gold.add_input({"id": "image0", "modality": "image", "path": rel, "width": W, "height": H})


def region(rect_mask: np.ndarray) -> dict[str, Any]:
    return {"kind": "region", "input": "image0", "bbox": mask_bbox(rect_mask), "mask": encode_mask(rect_mask),
            "score": 1.0}


def pasted_provenance(items, gold: Gold | None, in_gold) -> list[dict[str, Any]]:
    return [{"source": n, "rect": r, "entity": gold.eid(SOURCES[n].text) if g else None, "in_gold": bool(g)}
            for (n, r, _), g in zip(items, in_gold)]


def image_paste(rng: np.random.Generator, case_id: str, out: Path, index: int) -> dict[str, Any]:
    k = int(rng.integers(1, 4))
    names = pick(rng, PHOTOS, k)
    if index == 0 and "horse" not in names:  # the first case always has the non-rectangular mask
        names[0] = "horse"
    canvas = background(rng)
    items = paste_photos(rng, names, canvas)
    named = sorted(pick(rng, list(range(k)), int(rng.integers(1, k + 1))))
    tpl = CAPTIONS[len(named)][int(rng.integers(len(CAPTIONS[len(named)])))]
    sent = caption(tpl, {str(i): SOURCES[names[j]] for i, j in enumerate(named)})
    gold, text = _captioned_image(case_id, out, canvas, sent)
    for n, _, m in items:
        gold.ground(SOURCES[n].text, SOURCES[n].type, region(m))
    return finish(case_id, "image_paste", gold, text, provenance=pasted_provenance(items, gold, [True] * k))


def image_ocr(rng: np.random.Generator, case_id: str, out: Path, index: int) -> dict[str, Any]:
    canvas = background(rng)
    photo = rng.random() < 0.5
    items = paste_photos(rng, pick(rng, PHOTOS, 1), canvas, 100, 200) if photo else []
    taken = [r for _, r, _ in items]
    signs = []
    for words, type_ in pick(rng, SIGN_WORDS, int(rng.integers(1, 3))):
        size, pad = int(rng.integers(22, 45)), int(rng.integers(6, 17))
        rect = place(rng, [sign_size(words, size, pad)], taken)
        while rect is None and size > 16:  # no room: a smaller sign
            size -= 6
            rect = place(rng, [sign_size(words, size, pad)], taken)
        if rect is None:
            continue
        taken.append(rect[0])
        dark = rng.random() < 0.5
        plate = tuple(int(v) for v in (rng.integers(0, 60, 3) if dark else rng.integers(200, 256, 3)))
        ink = tuple(int(v) for v in (rng.integers(200, 256, 3) if dark else rng.integers(0, 60, 3)))
        signs.append((words, type_, size, pad, rect[0], plate, ink))
    if not signs:
        raise RuntimeError(f"{case_id}: no room for a sign")
    img = Image.fromarray(canvas)
    rel = f"media/{case_id}.png"
    gold = Gold()
    text = None
    if photo and rng.random() < 0.5:  # a caption that names the photo, never the sign
        tb = TextBuilder()
        tb.add(caption(CAPTIONS[1][int(rng.integers(2))], {"0": SOURCES[items[0][0]]}))
        text = tb.text
        gold.add_input({"id": "text", "modality": "text"})
        image_input(gold, rel)
        gold.add_text(tb)
    else:
        image_input(gold, rel)
    for n, _, m in items:
        gold.ground(SOURCES[n].text, SOURCES[n].type, region(m))
    prov = pasted_provenance(items, gold, [True] * len(items))
    for words, type_, size, pad, plate, plate_rgb, ink in signs:
        bbox = draw_sign(img, words, size, plate, pad, plate_rgb, ink)
        eid = gold.ground(words, type_, {"kind": "region", "input": "image0", "bbox": bbox, "score": 1.0})
        prov.append({"sign": words, "entity": eid, "plate": plate, "plate_rgb": list(plate_rgb),
                     "ink_rgb": list(ink), "font_size": size})
    save_png(img, out / rel)
    return finish(case_id, "image_ocr", gold, text, provenance=prov)


def image_negative(rng: np.random.Generator, case_id: str, out: Path, index: int) -> dict[str, Any]:
    names = pick(rng, PHOTOS, int(rng.integers(1, 3)))
    canvas = background(rng)
    items = paste_photos(rng, names, canvas)
    absent = pick(rng, ABSENT, 1)[0]
    with_pasted = rng.random() < 0.5
    if with_pasted:
        tpl = NEGATIVE_WITH[int(rng.integers(len(NEGATIVE_WITH)))]
        sent = caption(tpl, {"0": absent, "1": SOURCES[names[0]]})
    else:
        tpl = NEGATIVE_ALONE[int(rng.integers(len(NEGATIVE_ALONE)))].replace("%s",
                                                                             ON_THE_BEACH.get(absent.type, "lies"))
        sent = caption(tpl, {"0": absent, "beach": BEACH})
    gold, text = _captioned_image(case_id, out, canvas, sent)
    for n, _, m in items:  # every pasted photo is shown: the one named, and the others as seen only
        gold.ground(SOURCES[n].text, SOURCES[n].type, region(m))
    in_gold = [True] * len(items)
    seen = {SOURCES[n].text for n, _, _ in items}
    negatives = [{"entity": gold.eid(w), "text": w, "absent_from": "image0"}
                 for w, _ in sent.entities() if w not in seen]
    return finish(case_id, "image_negative", gold, text, provenance=pasted_provenance(items, gold, in_gold),
                  negatives=negatives)

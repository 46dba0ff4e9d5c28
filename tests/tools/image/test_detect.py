"""``detect.v1`` on real images with the real models: NanoDet (COCO objects, converted from
its TFJS graph), MediaPipe (faces, pose, person masks) and the Haar cascade.

The converter is checked twice: on a small TFJS graph written here, against the same
network computed with torch, and on NanoDet itself, against outputs TensorFlow.js 4.22
gave for the same input. Each model loads once for the module.
"""

from __future__ import annotations

import base64
import json

import cv2
import numpy as np
import pytest
import skimage.data
from matplotlib import cbook
from PIL import Image
from pydantic import ValidationError

from muie.errors import CallError
from muie.settings import Settings
from muie.tools.base import ToolContext
from muie.tools.image.boxes import iou, rle_mask
from muie.tools.image.detect import MODEL_SIDE, Detect, DetectArgs, DetectResult, DetectTool, detect_objects
from muie.tools.image.detect_labels import resolve_classes
from muie.tools.models import nanodet, people
from muie.tools.models.tfjs_onnx import convert


def grace_hopper() -> np.ndarray:
    with cbook.get_sample_data("grace_hopper.jpg") as f:
        return np.array(Image.open(f).convert("RGB"))


def boxes_of(dets, label):
    return [d for d in dets if d.label == label]


def inside(inner, outer, slack=8.0) -> bool:
    return (inner[0] >= outer[0] - slack and inner[1] >= outer[1] - slack
            and inner[2] <= outer[2] + slack and inner[3] <= outer[3] + slack)


@pytest.fixture(scope="module")
def tool() -> DetectTool:
    return DetectTool()


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> dict[str, str]:
    d = tmp_path_factory.mktemp("images")
    out = {}
    for name, rgb in (("astronaut", skimage.data.astronaut()), ("coffee", skimage.data.coffee()),
                      ("hopper", grace_hopper())):
        out[name] = str(d / f"{name}.jpg")
        Image.fromarray(rgb).save(out[name], quality=95)
    out["notes"] = str(d / "notes.txt")
    with open(out["notes"], "w") as f:
        f.write("not an image")
    return out


def ctx_for(files: dict[str, str]) -> ToolContext:
    return ToolContext(texts={"text": "A caption."}, settings=Settings(), media=dict(files))


# --------------------------------------------------------------------------- the converter

def _b64(s: str) -> str:
    return base64.b64encode(s.encode()).decode()


def _tiny_tfjs(folder, w, b, dw):
    """A TFJS graph: fused conv (SAME, bias, ReLU), 2x2 max-pool, depthwise conv, reshape."""
    nhwc = {"data_format": {"s": _b64("NHWC")}}
    nodes = [
        {"name": "x", "op": "Placeholder", "attr": {"dtype": {"type": "DT_FLOAT"},
                                                    "shape": {"shape": {"dim": [{"size": "1"}, {"size": "6"},
                                                                                {"size": "6"}, {"size": "2"}]}}}},
        {"name": "w", "op": "Const", "attr": {"dtype": {"type": "DT_FLOAT"}}},
        {"name": "b", "op": "Const", "attr": {"dtype": {"type": "DT_FLOAT"}}},
        {"name": "dw", "op": "Const", "attr": {"dtype": {"type": "DT_FLOAT"}}},
        {"name": "shape", "op": "Const", "attr": {"dtype": {"type": "DT_INT32"}}},
        {"name": "conv", "op": "_FusedConv2D", "input": ["x", "w", "b"],
         "attr": {**nhwc, "strides": {"list": {"i": ["1", "1", "1", "1"]}}, "padding": {"s": _b64("SAME")},
                  "fused_ops": {"list": {"s": [_b64("BiasAdd"), _b64("Relu")]}}, "num_args": {"i": "1"}}},
        {"name": "pool", "op": "MaxPool", "input": ["conv"],
         "attr": {**nhwc, "ksize": {"list": {"i": ["1", "2", "2", "1"]}},
                  "strides": {"list": {"i": ["1", "2", "2", "1"]}}, "padding": {"s": _b64("VALID")}}},
        {"name": "depth", "op": "DepthwiseConv2dNative", "input": ["pool", "dw"],
         "attr": {**nhwc, "strides": {"list": {"i": ["1", "1", "1", "1"]}}, "padding": {"s": _b64("VALID")}}},
        {"name": "out", "op": "Reshape", "input": ["depth", "shape"]},
    ]
    shape = np.array([1, -1], np.int32)
    manifest = [{"paths": ["tiny.bin"], "weights": [
        {"name": "w", "shape": list(w.shape), "dtype": "float32",
         "quantization": {"dtype": "float16", "original_dtype": "float32"}},
        {"name": "b", "shape": list(b.shape), "dtype": "float32"},
        {"name": "dw", "shape": list(dw.shape), "dtype": "float32"},
        {"name": "shape", "shape": [2], "dtype": "int32"}]}]
    (folder / "tiny.bin").write_bytes(w.astype(np.float16).tobytes() + b.tobytes() + dw.tobytes() + shape.tobytes())
    model = {"format": "graph-model", "modelTopology": {"node": nodes}, "weightsManifest": manifest,
             "signature": {"outputs": {"out:0": {"name": "out:0"}}}}
    (folder / "tiny.json").write_text(json.dumps(model))
    return folder / "tiny.json"


def test_converter_matches_torch_on_a_small_graph(tmp_path):
    import onnxruntime as ort
    import torch

    rng = np.random.default_rng(0)
    w = rng.normal(size=(3, 3, 2, 4)).astype(np.float32)
    b = rng.normal(size=4).astype(np.float32)
    dw = rng.normal(size=(3, 3, 4, 1)).astype(np.float32)
    x = rng.normal(size=(1, 6, 6, 2)).astype(np.float32)
    model = convert(_tiny_tfjs(tmp_path, w, b, dw))
    got = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"]).run(None, {"x": x})[0]

    t = torch.from_numpy(x).permute(0, 3, 1, 2)
    w16 = torch.from_numpy(w.astype(np.float16).astype(np.float32)).permute(3, 2, 0, 1)
    y = torch.relu(torch.nn.functional.conv2d(t, w16, torch.from_numpy(b), padding=1))
    y = torch.nn.functional.max_pool2d(y, 2)
    y = torch.nn.functional.conv2d(y, torch.from_numpy(dw).permute(2, 3, 0, 1), groups=4)
    want = y.permute(0, 2, 3, 1).reshape(1, -1).numpy()
    assert got.shape == want.shape == (1, 4)
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-4)


def test_converter_names_an_op_it_does_not_know(tmp_path):
    rng = np.random.default_rng(1)
    path = _tiny_tfjs(tmp_path, rng.normal(size=(3, 3, 2, 4)).astype(np.float32), np.zeros(4, np.float32),
                      rng.normal(size=(3, 3, 4, 1)).astype(np.float32))
    model = json.loads(path.read_text())
    model["modelTopology"]["node"][-2]["op"] = "Erf"
    path.write_text(json.dumps(model))
    with pytest.raises(ValueError, match="Erf"):
        convert(path)


# (flat index, value) of the three largest values of each output, and the first four
# values, as TensorFlow.js 4.22 (its CPU backend) computed them for the astronaut below
TFJS = {
    "Identity": ([(160601, 0.25631), (159574, 0.24839), (160521, 0.24587)], [0.0141, 0.0022, 0.0056, 0.0017]),
    "Identity_1": ([(45351, 0.32527), (45325, 0.2939), (45245, 0.29126)], [0.0088, 0.0045, 0.0064, 0.0041]),
    "Identity_2": ([(6560, 0.78442), (6640, 0.77547), (5520, 0.76972)], [0.0106, 0.0088, 0.0085, 0.0078]),
    "Identity_3": ([(81456, 8.74677), (114379, 8.646), (114378, 8.51909)], [3.5651, 3.2481, 0.7064, -0.4017]),
    "Identity_4": ([(24875, 6.77466), (24919, 6.6009), (8846, 6.24351)], [0.2945, 0.4308, 0.066, 0.5377]),
    "Identity_5": ([(3052, 7.47423), (3096, 7.42073), (3625, 6.85741)], [0.138, 0.636, 0.5109, 0.4327]),
}


def test_nanodet_conversion_gives_what_tensorflow_js_gives():
    import onnxruntime as ort

    model = convert(nanodet.MODEL_DIR / "nanodet.json", batch=True)
    sess = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    x = cv2.resize(skimage.data.astronaut(), (416, 416), interpolation=cv2.INTER_LINEAR).astype(np.float32) / 255
    x = x.transpose(2, 0, 1)[None]
    outs = dict(zip([o.name for o in sess.get_outputs()], sess.run(None, {"input_1": np.concatenate([x, x])})))
    installed = nanodet.session().run(None, {"input_1": x})
    assert sorted(outs) == sorted(TFJS)
    for name, (top, first) in TFJS.items():
        a = outs[name]
        assert a.shape[0] == 2 and a.shape[2] in (80, 44) and a.shape[1] in (169, 676, 2704)
        np.testing.assert_allclose(a[0], a[1], atol=1e-6)  # the batch dimension is free
        flat = a[0].reshape(-1)
        assert [int(i) for i in np.argsort(-flat)[:3]] == [i for i, _ in top]
        np.testing.assert_allclose(flat[[i for i, _ in top]], [v for _, v in top], atol=2e-4)
        np.testing.assert_allclose(a[0, 0, :4], first, atol=2e-4)
    by_shape = {o.shape: o for o in installed}
    for a in outs.values():  # the installed ONNX file is this same network
        np.testing.assert_allclose(by_shape[(1, *a.shape[1:])][0], a[0], atol=1e-5)


# --------------------------------------------------------------------------- detections on arrays

def test_astronaut_is_one_person_with_a_face_and_a_mask():
    rgb = skimage.data.astronaut()
    dets = detect_objects(rgb)
    persons, faces = boxes_of(dets, "person"), boxes_of(dets, "face")
    assert len(persons) == 1 and len(faces) == 1
    person, face = persons[0], faces[0]
    assert person.score >= 0.6 and face.score >= 0.8
    assert set(person.sources) == {"nanodet", "mediapipe"}  # both found her: merged into one
    assert inside(face.bbox, person.bbox)
    fx0, fy0, fx1, fy1 = face.bbox  # her face: about x 180-270, y 80-180 of 512x512
    assert 150 < (fx0 + fx1) / 2 < 260 and 90 < (fy0 + fy1) / 2 < 170 and 60 < fx1 - fx0 < 140
    assert person.mask is not None and person.mask.size == [512, 512]
    m = rle_mask(person.mask)
    x0, y0, x1, y1 = (int(v) for v in person.bbox)
    assert m[y0:y1, x0:x1].sum() == m.sum()  # the mask lies in its box
    assert 0.3 < m.mean() < 0.8 and m[130, 220] and not m[60, 480]  # her face in, the sky beside her out
    assert [d.score for d in dets] == sorted((d.score for d in dets), reverse=True)


def test_grace_hopper_is_a_person_with_a_face():
    dets = detect_objects(grace_hopper(), classes=["person", "face"])
    assert {d.label for d in dets} == {"person", "face"}
    person, face = boxes_of(dets, "person")[0], boxes_of(dets, "face")[0]
    assert person.score >= 0.6 and face.score >= 0.8 and inside(face.bbox, person.bbox)
    assert 150 < (face.bbox[0] + face.bbox[2]) / 2 < 330 and 150 < (face.bbox[1] + face.bbox[3]) / 2 < 330


def test_coffee_is_a_cup_and_no_person():
    dets = detect_objects(skimage.data.coffee())
    assert boxes_of(dets, "cup") and not boxes_of(dets, "person") and not boxes_of(dets, "face")
    cup = boxes_of(dets, "cup")[0]
    assert cup.source == "nanodet" and cup.mask is None
    cx, cy = (cup.bbox[0] + cup.bbox[2]) / 2, (cup.bbox[1] + cup.bbox[3]) / 2
    assert 180 < cx < 420 and 120 < cy < 280  # the cup stands in the middle of the 600x400 picture


def test_a_blank_image_has_nothing():
    assert detect_objects(np.full((480, 640, 3), 255, np.uint8)) == []
    assert detect_objects(np.zeros((300, 200, 3), np.uint8), min_score=0.1) == []


def test_a_pasted_picture_is_found_where_it_was_put():
    background = cv2.resize(cv2.cvtColor(skimage.data.gravel(), cv2.COLOR_GRAY2RGB), (960, 720))
    photo = cv2.resize(grace_hopper(), (240, 280), interpolation=cv2.INTER_AREA)
    placed = np.array([600, 300, 840, 580], float)
    rgb = background.copy()
    rgb[300:580, 600:840] = photo
    persons = boxes_of(detect_objects(rgb, classes=["people"]), "person")
    assert len(persons) == 1 and iou(placed, persons[0].bbox)[0, 0] >= 0.5


def test_haar_cascade_finds_the_face_inside_a_person_box():
    rgb = grace_hopper()
    h, w = rgb.shape[:2]
    found = people.haar_faces(rgb, [np.array([0, 0, w, h], float)])
    assert found and 0 < found[0].score < 1
    face = boxes_of(detect_objects(rgb, classes=["face"]), "face")[0]
    assert iou(found[0].box, face.bbox)[0, 0] >= 0.4
    assert people.haar_faces(skimage.data.coffee(), [np.array([0, 0, 600, 400], float)]) == []
    assert people.haar_faces(rgb, []) == []


# --------------------------------------------------------------------------- the tool

def test_calls_are_typed_and_checked(tool, files):
    call = Detect.model_validate({"tool": "detect.v1", "arguments": {"input": "hopper", "classes": ["face"]}})
    assert call.arguments.max_detections == 100 and call.arguments.min_score is None
    for bad in ({"input": "hopper", "classes": []}, {"input": "hopper", "min_score": 2},
                {"input": "hopper", "max_detections": 0}, {"input": "hopper", "box": [0, 0, 1, 1]}):
        with pytest.raises(ValidationError):
            DetectArgs.model_validate(bad)
    ctx = ctx_for(files)
    tool.check(call.arguments, ctx)
    with pytest.raises(CallError, match=r"'persn' \(close: person"):
        tool.check(DetectArgs(input="hopper", classes=["persn", "face"]), ctx)
    with pytest.raises(CallError, match="unknown detection class 'zebra crossing'"):
        resolve_classes(["zebra crossing"])
    with pytest.raises(CallError, match="text input"):
        tool.check(DetectArgs(input="text"), ctx)
    with pytest.raises(CallError, match="not an image"):
        tool.check(DetectArgs(input="notes"), ctx)
    assert resolve_classes(["Cars", "sofa", "TV", "dining_table", "faces"]) == {"car", "couch", "tv", "dining table",
                                                                                 "face"}


def test_a_batch_keeps_each_call_its_own_classes_and_coordinates(tool, files, tmp_path):
    big = cv2.resize(grace_hopper(), (1536, 1800), interpolation=cv2.INTER_CUBIC)  # over MODEL_SIDE: downscaled
    files = {**files, "big": str(tmp_path / "big.png")}
    Image.fromarray(big).save(files["big"])
    ctx = ctx_for(files)
    calls = [DetectArgs(input="astronaut"), DetectArgs(input="coffee", classes=["cup"]),
             DetectArgs(input="hopper", classes=["face"]), DetectArgs(input="big", max_detections=2),
             DetectArgs(input="astronaut", classes=["person"], masks=False, min_score=0.75)]
    out = tool.run_batch([(c, ctx) for c in calls])
    assert all(isinstance(r, DetectResult) for r in out) and [r.input for r in out] == [c.input for c in calls]
    assert (out[0].width, out[0].height) == (512, 512) and {"person", "face"} <= {d.label for d in out[0].detections}
    assert {d.label for d in out[1].detections} == {"cup"}
    assert [d.label for d in out[2].detections] == ["face"]
    assert len(out[3].detections) == 2 and (out[3].width, out[3].height) == (1536, 1800) > (MODEL_SIDE, MODEL_SIDE)
    big_face = boxes_of(out[3].detections, "face")[0]
    small_face = out[2].detections[0]
    k = 1536 / 512  # the same face, in the big image's own pixels
    assert iou(np.array(small_face.bbox) * k, big_face.bbox)[0, 0] >= 0.7
    big_person = boxes_of(out[3].detections, "person")[0]
    assert big_person.mask is not None and big_person.mask.size == [1800, 1536]
    (strict,) = out[4].detections  # NanoDet's 0.78 passes, MediaPipe's pose (0.69) does not: no merge, no mask
    assert strict.label == "person" and strict.score >= 0.75 and strict.sources == ["nanodet"] and strict.mask is None


def test_threads_share_the_models_and_agree():
    from concurrent.futures import ThreadPoolExecutor

    images = [skimage.data.astronaut(), grace_hopper(), skimage.data.coffee()] * 2
    alone = [detect_objects(im) for im in images[:3]]
    with ThreadPoolExecutor(4) as pool:
        together = list(pool.map(detect_objects, images))
    assert together == alone * 2

"""A TensorFlow.js graph model (``model.json`` + weight shards) rebuilt as an ONNX model.

Some detectors ship only as TFJS graph models (in npm packages). Rather than install
TensorFlow and tf2onnx to convert them, this module reads the graph itself: the nodes of
``modelTopology`` (TensorFlow ops, NHWC), and the weights of ``weightsManifest``, stored
in order in the shards, some quantised (float16, or uint8/uint16 with scale and min).

It handles the ops such converted graphs use: convolutions (plain, depthwise, fused with
bias and one activation), max and average pooling, constant padding, element-wise
arithmetic and activations, concat, split, reshape, transpose, bilinear resize.
Everything computed from constants alone (the shape arithmetic that converters leave
behind: ``SparseToDense`` of empty indices plus a constant, casts) is folded with numpy
here, so the ONNX graph holds only the network.
TensorFlow's NHWC convolutions become ONNX NCHW ones between two transposes; onnxruntime
removes the transposes that cancel. An op outside this set raises ``ValueError`` naming it.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

OPSET = 18
IR_VERSION = 8

_NP_DTYPES = {"float32": np.float32, "int32": np.int32, "bool": np.bool_, "uint8": np.uint8,
              "int64": np.int64, "float16": np.float16, "uint16": np.uint16}
_TF_DTYPES = {"DT_FLOAT": np.float32, "DT_INT32": np.int32, "DT_INT64": np.int64, "DT_BOOL": np.bool_}
_NHWC_TO_NCHW, _NCHW_TO_NHWC = [0, 3, 1, 2], [0, 2, 3, 1]


# --------------------------------------------------------------------------- reading


def read_weights(model_json: dict[str, Any], folder: Path) -> dict[str, np.ndarray]:
    """Every weight of the manifest, dequantised to its original dtype, by name."""
    out: dict[str, np.ndarray] = {}
    for group in model_json["weightsManifest"]:
        data = b"".join((folder / p).read_bytes() for p in group["paths"])
        pos = 0
        for w in group["weights"]:
            shape = [int(d) for d in w["shape"]]
            count = int(np.prod(shape)) if shape else 1
            q = w.get("quantization")
            stored = np.dtype(_NP_DTYPES[q["dtype"] if q else w["dtype"]])
            size = count * stored.itemsize
            if pos + size > len(data):
                raise ValueError(f"weight {w['name']!r} runs past the end of the shards ({len(data)} bytes)")
            raw = np.frombuffer(data, dtype=stored, count=count, offset=pos)
            pos += size
            if q and q["dtype"] in ("uint8", "uint16"):
                arr = raw.astype(np.float32) * np.float32(q["scale"]) + np.float32(q["min"])
            else:
                arr = raw
            target = _NP_DTYPES[q.get("original_dtype", w["dtype"])] if q else stored
            out[w["name"]] = np.array(arr, dtype=target).reshape(shape)
        if pos != len(data):
            raise ValueError(f"shards hold {len(data)} bytes but the manifest reads {pos}")
    return out


def _attr(node: dict, name: str, default: Any = None) -> Any:
    a = node.get("attr", {}).get(name)
    if a is None:
        return default
    if "list" in a:
        lst = a["list"]
        if "i" in lst:
            return [int(v) for v in lst["i"]]
        if "s" in lst:
            return [base64.b64decode(v).decode() for v in lst["s"]]
        if "f" in lst:
            return [float(v) for v in lst["f"]]
        return []
    if "s" in a:
        return base64.b64decode(a["s"]).decode()
    if "i" in a:
        return int(a["i"])
    if "f" in a:
        return float(a["f"])
    if "b" in a:
        return bool(a["b"])
    if "type" in a:
        return a["type"]
    return default


def _ref(name: str) -> str:
    """A TF input reference (``node``, ``node:1``) as this module names tensors."""
    return name[:-2] if name.endswith(":0") else name


# --------------------------------------------------------------------------- folding


def _sparse_to_dense(indices, shape, values, default):
    dense = np.full([int(s) for s in np.atleast_1d(shape)], default, dtype=np.asarray(values).dtype)
    idx = np.asarray(indices).reshape(-1, dense.ndim) if dense.ndim else np.zeros((0, 0), int)
    if len(idx):
        dense[tuple(idx.T)] = values
    return dense


_FOLD: dict[str, Callable[..., np.ndarray]] = {
    "Add": np.add, "AddV2": np.add, "Sub": np.subtract, "Mul": np.multiply, "RealDiv": np.divide,
    "Maximum": np.maximum, "Minimum": np.minimum, "Identity": lambda x: x,
    "Reshape": lambda x, s: np.reshape(x, [int(v) for v in s]),
    "Transpose": lambda x, p: np.transpose(x, [int(v) for v in p]),
    "ConcatV2": lambda *xs: np.concatenate(xs[:-1], axis=int(xs[-1])),
    "Pack": lambda *xs: np.stack(xs), "Shape": lambda x: np.array(x.shape, np.int32),
    "SparseToDense": _sparse_to_dense,
}


# --------------------------------------------------------------------------- building


class _Builder:
    """ONNX nodes and initializers, built from the TF graph in its own order."""

    def __init__(self, consts: dict[str, np.ndarray], batch: bool) -> None:
        self.consts = consts
        self.batch = batch
        self.nodes: list = []
        self.inits: dict[str, np.ndarray] = {}
        self.count = 0

    def const(self, tensor: str, value: np.ndarray | None = None) -> str:
        """An initializer for a folded constant (or a value derived from it), by name."""
        name = tensor if value is None else f"{tensor}__{self.count}"
        if value is not None:
            self.count += 1
        if name not in self.inits:
            self.inits[name] = self.consts[tensor] if value is None else value
        return name

    def new(self, base: str) -> str:
        self.count += 1
        return f"{base}__t{self.count}"

    def node(self, op: str, inputs: list[str], outputs: list[str], **attrs: Any) -> None:
        from onnx import helper

        self.nodes.append(helper.make_node(op, inputs, outputs, name=outputs[0], **attrs))

    def nchw(self, op: str, x: str, out: str, extra: list[str], **attrs: Any) -> None:
        """An NCHW ONNX op applied to an NHWC tensor: transpose in, op, transpose out."""
        a, b = self.new(out), self.new(out)
        self.node("Transpose", [x], [a], perm=_NHWC_TO_NCHW)
        self.node(op, [a, *extra], [b], **attrs)
        self.node("Transpose", [b], [out], perm=_NCHW_TO_NHWC)


def _conv_attrs(node: dict, kernel_hw: tuple[int, int]) -> dict[str, Any]:
    fmt = _attr(node, "data_format", "NHWC")
    if fmt != "NHWC":
        raise ValueError(f"{node['name']}: data_format {fmt} is not handled")
    strides = _attr(node, "strides", [1, 1, 1, 1])[1:3]
    dil = _attr(node, "dilations", [1, 1, 1, 1])[1:3]
    pad = _attr(node, "padding", "VALID")
    attrs: dict[str, Any] = {"strides": strides, "dilations": dil, "kernel_shape": list(kernel_hw)}
    if pad == "SAME":
        attrs["auto_pad"] = "SAME_UPPER"  # TF puts the odd pixel at the end, as SAME_UPPER does
    elif pad == "EXPLICIT":
        p = _attr(node, "explicit_paddings")
        attrs["pads"] = [p[2], p[4], p[3], p[5]]
    elif pad != "VALID":
        raise ValueError(f"{node['name']}: padding {pad} is not handled")
    return attrs


_ACTIVATIONS = {"Relu": "Relu", "Sigmoid": "Sigmoid", "Tanh": "Tanh", "Elu": "Elu", "Exp": "Exp",
                "Sqrt": "Sqrt", "Neg": "Neg", "Abs": "Abs", "Floor": "Floor"}
_BINARY = {"Add": "Add", "AddV2": "Add", "BiasAdd": "Add", "Sub": "Sub", "Mul": "Mul", "RealDiv": "Div",
           "Maximum": "Max", "Minimum": "Min", "Pow": "Pow"}


def _activation(b: _Builder, kind: str, x: str, out: str, alpha: float = 0.2) -> None:
    if kind in _ACTIVATIONS:
        b.node(_ACTIVATIONS[kind], [x], [out])
    elif kind == "LeakyRelu":
        b.node("LeakyRelu", [x], [out], alpha=alpha)
    elif kind == "Relu6":
        b.node("Clip", [x, b.const("__zero", np.array(0, np.float32)),
                        b.const("__six", np.array(6, np.float32))], [out])
    else:
        raise ValueError(f"activation {kind} is not handled")


def _emit(b: _Builder, node: dict, ins: list[str]) -> None:
    """One TF node as ONNX nodes; ``ins`` are its data inputs (constants among them by name)."""
    op, out = node["op"], node["name"]
    c = b.consts
    tensors = ins[:-1] if op == "ConcatV2" else ins  # ConcatV2's last input is its axis
    data = [b.const(i) if i in c else i for i in tensors] if op in _BINARY or op in ("Identity", "ConcatV2") else ins
    if op in ("Conv2D", "DepthwiseConv2dNative", "FusedConv2D", "_FusedConv2D", "FusedDepthwiseConv2dNative"):
        w = c[ins[1]]  # HWIO, or HW,C,multiplier for depthwise
        depthwise = "Depthwise" in op
        if depthwise:
            kh, kw, ch, mult = w.shape
            wk = w.reshape(kh, kw, 1, ch * mult).transpose(3, 2, 0, 1)
            extra = {"group": ch}
        else:
            wk, extra = w.transpose(3, 2, 0, 1), {}
        conv_in = [b.const(ins[1], np.ascontiguousarray(wk))]
        fused = _attr(node, "fused_ops", []) if op.startswith(("Fused", "_Fused")) else []
        if fused[:1] == ["BiasAdd"]:
            conv_in.append(b.const(ins[2]) if ins[2] in c else ins[2])
            fused = fused[1:]
        conv_out = b.new(out) if fused else out
        b.nchw("Conv", ins[0], conv_out, conv_in, **_conv_attrs(node, w.shape[:2]), **extra)
        if fused:
            if len(fused) != 1:
                raise ValueError(f"{out}: fused ops {fused} are not handled")
            _activation(b, fused[0], conv_out, out, _attr(node, "leakyrelu_alpha", 0.2))
    elif op in ("MaxPool", "AvgPool"):
        k = _attr(node, "ksize")[1:3]
        attrs = _conv_attrs(node, (k[0], k[1]))
        attrs.pop("dilations")
        b.nchw("MaxPool" if op == "MaxPool" else "AveragePool", ins[0], out, [], **attrs)
    elif op in ("Pad", "PadV2"):
        p = np.asarray(c[ins[1]], np.int64)
        pads = b.const(ins[1], np.concatenate([p[:, 0], p[:, 1]]))
        args = [ins[0], pads]
        if op == "PadV2":
            args.append(b.const(ins[2], np.asarray(c[ins[2]], np.float32).reshape(())))
        b.node("Pad", args, [out], mode="constant")
    elif op in _BINARY:
        b.node(_BINARY[op], data, [out])
    elif op in _ACTIVATIONS or op in ("LeakyRelu", "Relu6"):
        _activation(b, op, ins[0], out, _attr(node, "alpha", 0.2))
    elif op == "Identity":
        b.node("Identity", data[:1], [out])
    elif op == "Transpose":
        b.node("Transpose", ins[:1], [out], perm=[int(v) for v in c[ins[1]]])
    elif op == "Reshape":
        shape = np.asarray(c[ins[1]], np.int64).copy()
        if b.batch and shape.size and shape[0] == 1:
            shape[0] = 0  # ONNX: keep the input's first dimension, the batch
        b.node("Reshape", [ins[0], b.const(ins[1], shape)], [out])
    elif op == "ConcatV2":
        b.node("Concat", data, [out], axis=int(c[ins[-1]]))
    elif op in ("SplitV", "Split"):
        if op == "Split":  # Split(axis, value): equal parts
            axis, x, n = int(c[ins[0]]), ins[1], _attr(node, "num_split")
            b.node("Split", [x], [out] + [f"{out}:{k}" for k in range(1, n)], axis=axis, num_outputs=n)
        else:
            sizes = np.asarray(c[ins[1]], np.int64)
            if (sizes < 0).any():
                raise ValueError(f"{out}: split sizes {sizes.tolist()} with -1 are not handled")
            outs = [out] + [f"{out}:{k}" for k in range(1, len(sizes))]
            b.node("Split", [ins[0], b.const(ins[1], sizes)], outs, axis=int(c[ins[2]]))
    elif op == "ResizeBilinear":
        size = np.asarray(c[ins[1]], np.int64)
        if _attr(node, "align_corners", False):
            mode = "align_corners"
        else:
            mode = "half_pixel" if _attr(node, "half_pixel_centers", False) else "asymmetric"
        b.nchw("Resize", ins[0], out, ["", "", b.const(ins[1], size)], axes=[2, 3], mode="linear",
               coordinate_transformation_mode=mode)
    else:
        raise ValueError(f"TFJS op {op} (node {out!r}) is not handled by this converter")


def convert(model_json_path: str | Path, batch: bool = False) -> Any:
    """The ONNX ``ModelProto`` of a TFJS graph model, inputs and outputs as its signature names them.

    ``batch``: make the first dimension free where the graph fixes it at 1 (inputs,
    outputs, reshapes), so that one run takes several images. Only for graphs whose
    first dimension is the batch throughout, as a detector's is.
    """
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    path = Path(model_json_path)
    mj = json.loads(path.read_text())
    if mj.get("format") not in (None, "graph-model"):
        raise ValueError(f"{path}: format {mj.get('format')!r} is not a TFJS graph model")
    topo = mj["modelTopology"]
    consts: dict[str, np.ndarray] = {}
    weights = read_weights(mj, path.parent)
    b = _Builder(consts, batch)
    inputs, dynamic = [], set()
    for node in topo["node"]:
        op, name = node["op"], node["name"]
        ins = [_ref(i) for i in node.get("input", []) if not i.startswith("^")]
        if op == "Const":
            value = weights[name]
            dt = _TF_DTYPES.get(_attr(node, "dtype"))
            consts[name] = value.astype(dt) if dt is not None else value
        elif op == "Placeholder":
            dims = [int(d.get("size", -1)) for d in node["attr"]["shape"]["shape"].get("dim", [])]
            dims = [-1, *dims[1:]] if batch and dims else dims
            inputs.append(helper.make_tensor_value_info(name, TensorProto.FLOAT, [d if d > 0 else None for d in dims]))
            dynamic.add(name)
        elif all(i in consts for i in ins) and op in _FOLD:
            consts[name] = np.asarray(_FOLD[op](*(consts[i] for i in ins)))
        elif op == "Cast" and ins[0] in consts:
            consts[name] = consts[ins[0]].astype(_TF_DTYPES[_attr(node, "DstT")])
        else:
            _emit(b, node, ins)
            dynamic.add(name)
    outputs = []
    for key, sig in mj["signature"]["outputs"].items():
        ref = _ref(sig.get("name", key))
        dims = [int(d.get("size", -1)) for d in sig.get("tensorShape", {}).get("dim", [])]
        dims = [-1, *dims[1:]] if batch and dims else dims
        if ref not in dynamic:
            raise ValueError(f"output {ref!r} does not depend on the input")
        outputs.append(helper.make_tensor_value_info(ref, TensorProto.FLOAT, [d if d > 0 else None for d in dims]))
    inits = [numpy_helper.from_array(np.ascontiguousarray(v.astype(np.float32) if v.dtype == np.float16 else v), k)
             for k, v in b.inits.items()]
    graph = helper.make_graph(b.nodes, path.stem, inputs, outputs, inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)],
                              producer_name="muie.tfjs_onnx")
    model.ir_version = IR_VERSION
    onnx.checker.check_model(model)
    return model

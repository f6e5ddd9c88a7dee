#!/usr/bin/python3
"""Static int8 (QDQ) quantisation of a YOLOv8 ONNX export, for Vigil.

On a 2-core AVX2 box without VNNI, ONNX Runtime runs a statically quantised
YOLOv8n in about 0.65x the float time, and its person detections match the
float model's (see testdata/int8/README.md and internal/detect/onnx/int8_test.go).
This script makes that model from the float export and committed calibration
ranges, so `make setup` can derive it: the weights are AGPL-3.0 and are never
committed, only the ranges (statistics) are.

  calib-graph SRC.onnx OUT.onnx
      SRC cut before its anchor decoding the way Vigil's headCut does
      (internal/detect/onnx/graph.go), with a symbolic input size and every
      float tensor a graph output. internal/tools/int8calib runs it on frames
      and writes the ranges JSON: {"ranges": {"tensor": {"min": m, "max": M}}}.

  quantise SRC.onnx RANGES.json OUT.onnx
      The recipe the probe found best; it writes a full export (same inputs
      and outputs as SRC) so Vigil's headCut still cuts it:
      - Conv weights int8, per output channel, symmetric (+-127); biases
        int32 with scale act_scale*w_scale: what ORT's QLinearConv fuses.
      - Activations uint8, asymmetric, from the calibrated min/max, with a
        QuantizeLinear->DequantizeLinear pair on every tensor read by a Conv
        or produced by Conv/Sigmoid/Mul/Add/Concat/Split, so ORT keeps whole
        chains in int8 instead of converting back and forth.
      - MaxPool/Resize/Slice/Split/Reshape/Transpose only move values: their
        output reuses the input's scale so the Q/DQ around them cancels.
      - Left float: the first conv (/model.0/: raw pixels, where int8 costs
        the most accuracy for the least time) and the decode tail (the head
        Concats and everything after them), which Vigil cuts off anyway and
        which would only lose box precision in uint8.

Needs python3-onnx (1.12) and python3-numpy from Debian. The output is a
pure function of the inputs (no randomness, no timestamps).
"""
import json
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

FLOAT_PREFIXES = ("/model.0/",)
QUANT_OPS = {"Conv", "Sigmoid", "Mul", "Add", "Concat", "MaxPool", "Resize", "Slice", "Split"}
SHARED_SCALE = {"MaxPool", "Resize", "Slice", "Split", "Reshape", "Transpose"}


def load(path):
    """The model, whose nodes the script tells apart by name."""
    m = onnx.load(path)
    names = [n.name for n in m.graph.node]
    if "" in names or len(set(names)) != len(names):
        sys.exit("quantise-yolo: %s: node names are missing or repeated" % path)
    return m


def producers(g):
    return {o: n for n in g.node for o in n.output}


def find_heads(g):
    """The per-level head tensors: the data inputs of the three Reshapes a
    Concat joins (as findHeads in graph.go), finest level first."""
    prod = producers(g)
    for n in g.node:
        if n.op_type != "Concat" or len(n.input) != 3:
            continue
        ps = [prod.get(i) for i in n.input]
        if all(p is not None and p.op_type == "Reshape" for p in ps):
            return [p.input[0] for p in ps]
    sys.exit("quantise-yolo: no YOLOv8 detection head found")


def ancestors(g, tensors):
    """Names of the nodes the tensors depend on."""
    prod = producers(g)
    seen, keep, stack = set(), set(), list(tensors)
    while stack:
        t = stack.pop()
        if t in seen:
            continue
        seen.add(t)
        p = prod.get(t)
        if p is not None and p.name not in keep:
            keep.add(p.name)
            stack.extend(p.input)
    return keep


def calib_graph(src, dst):
    m = load(src)
    g = m.graph
    heads = find_heads(g)
    keep = ancestors(g, heads)
    nodes = [n for n in g.node if n.name in keep]
    used = {i for n in nodes for i in n.input}
    inits = [i for i in g.initializer if i.name in used]
    inp = helper.make_tensor_value_info(g.input[0].name, TensorProto.FLOAT, [1, 3, "height", "width"])
    outs = [helper.make_tensor_value_info(o, TensorProto.FLOAT, None) for n in nodes for o in n.output if o]
    cm = helper.make_model(helper.make_graph(nodes, "yolov8_calib", [inp], outs, inits),
                           opset_imports=m.opset_import)
    cm.ir_version = m.ir_version
    # No onnx.checker here: it wants shapes on graph outputs, which these
    # leave open; ONNX Runtime checks the graph when int8calib loads it.
    onnx.save(cm, dst)
    print("%s: %d tensors to calibrate" % (dst, len(outs)))


def float_nodes(g):
    """Nodes left in float: the first conv and the decode tail."""
    heads = find_heads(g)
    body = ancestors(g, heads)
    prod = producers(g)
    body -= {prod[h].name for h in heads}
    return {n.name for n in g.node if n.name not in body or n.name.startswith(FLOAT_PREFIXES)}


def wanted(g, floats, inits):
    """Activation tensors that get a Q/DQ pair, in no particular order."""
    want = set()
    for n in g.node:
        if n.name in floats:
            continue
        if n.op_type == "Conv" and n.input[0] not in inits:
            want.add(n.input[0])
        if n.op_type not in QUANT_OPS:
            continue
        want.update(n.output)
        # A quantised op's inputs must be quantised too for ORT to fuse it.
        ins = n.input[:1] if n.op_type in SHARED_SCALE else n.input
        want.update(i for i in ins if i and i not in inits)
    return want


def uint8_params(lo, hi):
    lo, hi = min(lo, 0.0), max(hi, 0.0)  # zero must be exact (padding)
    scale = (hi - lo) / 255.0 if hi > lo else 1.0
    return np.float32(scale), int(np.clip(round(-lo / scale), 0, 255))


def act_params(g, want, ranges):
    """Scale and zero point per wanted tensor, in graph (topological) order."""
    params = {}
    if g.input[0].name in want:
        params[g.input[0].name] = (np.float32(1 / 255.0), 0)
    for n in g.node:
        for o in n.output:
            if o not in want:
                continue
            if n.op_type in SHARED_SCALE and n.input[0] in params:
                params[o] = params[n.input[0]]
            elif o in ranges:
                params[o] = uint8_params(ranges[o]["min"], ranges[o]["max"])
            else:
                sys.exit("quantise-yolo: no calibration range for %s" % o)
    return params


def qdq_pair(t, scale, zp, inits):
    sn, zn = t + "_scale", t + "_zp"
    inits.append(numpy_helper.from_array(np.array(scale, dtype=np.float32), sn))
    inits.append(helper.make_tensor(zn, TensorProto.UINT8, [], [zp]))
    q = helper.make_node("QuantizeLinear", [t, sn, zn], [t + "_Q"], name=t + "_QuantizeLinear")
    dq = helper.make_node("DequantizeLinear", [t + "_Q", sn, zn], [t + "_DQ"], name=t + "_DequantizeLinear")
    return [q, dq]


def dq_const(name, q, scale, inits):
    """An int initializer q dequantised per output channel (axis 0)."""
    inits += [numpy_helper.from_array(q, name + "_quantized"),
              numpy_helper.from_array(scale, name + "_scale"),
              numpy_helper.from_array(np.zeros_like(q.reshape(q.shape[0], -1)[:, 0]), name + "_zp")]
    return helper.make_node("DequantizeLinear", [name + "_quantized", name + "_scale", name + "_zp"],
                            [name + "_DQ"], name=name + "_DequantizeLinear", axis=0)


def quantise_conv(n, inits, params, new_inits):
    """Rewrites n's weight (and bias) to DQ of int constants; returns the
    DQ nodes and the replaced initializer names."""
    wname = n.input[1]
    w = numpy_helper.to_array(inits[wname]).astype(np.float32)
    amax = np.abs(w.reshape(w.shape[0], -1)).max(axis=1)
    ws = np.where(amax > 0, amax / 127, 1.0).astype(np.float32)
    wq = np.clip(np.round(w / ws.reshape(-1, 1, 1, 1)), -127, 127).astype(np.int8)
    nodes, drop = [dq_const(wname, wq, ws, new_inits)], [wname]
    n.input[1] = wname + "_DQ"
    if len(n.input) > 2 and n.input[2] and n.input[0] in params:
        bname = n.input[2]
        b = numpy_helper.to_array(inits[bname]).astype(np.float64)
        bs = (params[n.input[0]][0] * ws).astype(np.float32)
        nodes.append(dq_const(bname, np.round(b / bs).astype(np.int32), bs, new_inits))
        drop.append(bname)
        n.input[2] = bname + "_DQ"
    return nodes, drop


def rebuild(g, weight_nodes, after, drop):
    """Puts each Q/DQ pair right after its tensor's producer (the graph
    stays topologically sorted) and points the readers at the DQ output."""
    nodes = weight_nodes + after.get(g.input[0].name, [])
    for n in g.node:
        for k, i in enumerate(n.input):
            if i in after:
                n.input[k] = i + "_DQ"
        nodes.append(n)
        for o in n.output:
            nodes += after.get(o, [])
    del g.node[:]
    g.node.extend(nodes)
    keep = [i for i in g.initializer if i.name not in drop]
    del g.initializer[:]
    g.initializer.extend(keep)


def quantise(src, ranges_path, dst):
    m = load(src)
    g = m.graph
    with open(ranges_path) as f:
        ranges = json.load(f)["ranges"]
    inits = {i.name: i for i in g.initializer}
    floats = float_nodes(g)
    params = act_params(g, wanted(g, floats, inits), ranges)
    new_inits, after, weight_nodes, drop = [], {}, [], set()
    for t, (s, zp) in params.items():
        after[t] = qdq_pair(t, s, zp, new_inits)
    convs = [n for n in g.node if n.op_type == "Conv" and n.name not in floats]
    for n in convs:
        dqs, dropped = quantise_conv(n, inits, params, new_inits)
        weight_nodes += dqs
        drop.update(dropped)
    rebuild(g, weight_nodes, after, drop)
    g.initializer.extend(new_inits)
    onnx.checker.check_model(m)
    onnx.save(m, dst)
    print("%s: %d Q/DQ pairs, %d int8 convs" % (dst, len(params), len(convs)))


def main(argv):
    if len(argv) == 3 and argv[0] == "calib-graph":
        calib_graph(*argv[1:])
    elif len(argv) == 4 and argv[0] == "quantise":
        quantise(*argv[1:])
    else:
        sys.exit("usage: quantise-yolo.py calib-graph SRC.onnx OUT.onnx\n"
                 "       quantise-yolo.py quantise SRC.onnx RANGES.json OUT.onnx")


if __name__ == "__main__":
    main(sys.argv[1:])

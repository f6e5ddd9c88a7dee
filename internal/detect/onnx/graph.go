package onnx

import (
	"errors"
	"fmt"

	"google.golang.org/protobuf/encoding/protowire"
)

// Exported YOLOv8 graphs have a fixed 640×640 input because their last
// layers bake the 8400 anchor points in as constants. Everything before
// those layers is convolutional and works at any multiple of 32. headCut
// rewrites the serialized model so that it ends at the three per-level head
// tensors ([1, 4·16+classes, H/s, W/s] for s = 8, 16, 32) with a symbolic
// input size; Vigil decodes the head in Go (detect.DecodeYOLOv8Head). A
// 4:3 camera then runs at 640×480 instead of 640×640: a quarter less work
// for the same detections.
//
// Field numbers are those of onnx.proto (ModelProto, GraphProto, NodeProto,
// ValueInfoProto, TypeProto, TensorShapeProto, TensorProto).
const (
	modelGraph = 7

	graphNode        = 1
	graphInitializer = 5
	graphInput       = 11
	graphOutput      = 12
	graphValueInfo   = 13

	nodeInput  = 1
	nodeOutput = 2
	nodeOpType = 4

	valueName = 1
	valueType = 2

	tensorName = 8
)

// field is one raw protobuf field: its number and its full encoding.
type field struct {
	num  protowire.Number
	typ  protowire.Type
	raw  []byte // tag + value, re-emitted unchanged when kept
	body []byte // the value of a length-delimited field
}

func parseFields(b []byte) ([]field, error) {
	var out []field
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return nil, protowire.ParseError(n)
		}
		m := protowire.ConsumeFieldValue(num, typ, b[n:])
		if m < 0 {
			return nil, protowire.ParseError(m)
		}
		f := field{num: num, typ: typ, raw: b[:n+m]}
		if typ == protowire.BytesType {
			f.body, _ = protowire.ConsumeBytes(b[n:])
		}
		out = append(out, f)
		b = b[n+m:]
	}
	return out, nil
}

type node struct {
	raw     []byte
	opType  string
	inputs  []string
	outputs []string
}

func parseNode(raw, body []byte) (node, error) {
	fs, err := parseFields(body)
	if err != nil {
		return node{}, err
	}
	n := node{raw: raw}
	for _, f := range fs {
		switch f.num {
		case nodeInput:
			n.inputs = append(n.inputs, string(f.body))
		case nodeOutput:
			n.outputs = append(n.outputs, string(f.body))
		case nodeOpType:
			n.opType = string(f.body)
		}
	}
	return n, nil
}

// errNoHead means the graph is not a recognisable YOLOv8 export; the model
// is then used as it is, at its own fixed size.
var errNoHead = errors.New("no YOLOv8 detection head found")

// headCut returns the rewritten model and the names of the three head
// tensors, finest level first, and the input's name.
func headCut(model []byte) (out []byte, heads []string, input string, err error) {
	top, err := parseFields(model)
	if err != nil {
		return nil, nil, "", fmt.Errorf("parsing model: %w", err)
	}
	gi := -1
	for i, f := range top {
		if f.num == modelGraph {
			gi = i
		}
	}
	if gi < 0 {
		return nil, nil, "", errors.New("model has no graph")
	}
	graph, heads, input, err := cutGraph(top[gi].body)
	if err != nil {
		return nil, nil, "", err
	}
	for i, f := range top {
		if i == gi {
			out = protowire.AppendTag(out, modelGraph, protowire.BytesType)
			out = protowire.AppendBytes(out, graph)
			continue
		}
		out = append(out, f.raw...)
	}
	return out, heads, input, nil
}

func cutGraph(body []byte) ([]byte, []string, string, error) {
	fs, err := parseFields(body)
	if err != nil {
		return nil, nil, "", fmt.Errorf("parsing graph: %w", err)
	}
	var nodes []node
	producer := map[string]int{}
	for _, f := range fs {
		if f.num != graphNode {
			continue
		}
		n, err := parseNode(f.raw, f.body)
		if err != nil {
			return nil, nil, "", fmt.Errorf("parsing node: %w", err)
		}
		for _, o := range n.outputs {
			producer[o] = len(nodes)
		}
		nodes = append(nodes, n)
	}
	heads := findHeads(nodes, producer)
	if heads == nil {
		return nil, nil, "", errNoHead
	}
	keep, used := reachable(nodes, producer, heads)
	input, err := firstInputName(fs, used)
	if err != nil {
		return nil, nil, "", err
	}
	return rebuildGraph(fs, nodes, keep, used, heads, input), heads, input, nil
}

// findHeads looks for the Concat of three Reshapes that flattens the three
// head levels; the Reshapes' data inputs are the per-level head tensors.
func findHeads(nodes []node, producer map[string]int) []string {
	for _, n := range nodes {
		if n.opType != "Concat" || len(n.inputs) != 3 {
			continue
		}
		var heads []string
		for _, in := range n.inputs {
			p, ok := producer[in]
			if !ok || nodes[p].opType != "Reshape" || len(nodes[p].inputs) == 0 {
				break
			}
			heads = append(heads, nodes[p].inputs[0])
		}
		if len(heads) == 3 {
			return heads
		}
	}
	return nil
}

// reachable marks the nodes the head tensors depend on and every tensor
// name those nodes read.
func reachable(nodes []node, producer map[string]int, heads []string) ([]bool, map[string]bool) {
	keep := make([]bool, len(nodes))
	used := map[string]bool{}
	stack := append([]string(nil), heads...)
	for len(stack) > 0 {
		name := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if used[name] {
			continue
		}
		used[name] = true
		p, ok := producer[name]
		if !ok || keep[p] {
			continue
		}
		keep[p] = true
		stack = append(stack, nodes[p].inputs...)
	}
	return keep, used
}

func firstInputName(fs []field, used map[string]bool) (string, error) {
	for _, f := range fs {
		if f.num != graphInput {
			continue
		}
		vfs, err := parseFields(f.body)
		if err != nil {
			return "", err
		}
		for _, v := range vfs {
			if v.num == valueName && used[string(v.body)] {
				return string(v.body), nil
			}
		}
	}
	return "", errors.New("graph input not found")
}

func rebuildGraph(fs []field, nodes []node, keep []bool, used map[string]bool, heads []string, input string) []byte {
	var out []byte
	ni := 0
	for _, f := range fs {
		switch f.num {
		case graphNode:
			if keep[ni] {
				out = append(out, nodes[ni].raw...)
			}
			ni++
		case graphInitializer:
			if used[initializerName(f.body)] {
				out = append(out, f.raw...)
			}
		case graphInput, graphOutput, graphValueInfo:
			// Replaced below; stale shapes of removed tensors are dropped.
		default:
			out = append(out, f.raw...)
		}
	}
	out = appendValueInfo(out, graphInput, input, []any{int64(1), int64(3), "height", "width"})
	for _, h := range heads {
		out = appendValueInfo(out, graphOutput, h, nil)
	}
	return out
}

func initializerName(body []byte) string {
	fs, err := parseFields(body)
	if err != nil {
		return ""
	}
	for _, f := range fs {
		if f.num == tensorName {
			return string(f.body)
		}
	}
	return ""
}

// appendValueInfo writes a float tensor ValueInfoProto; dims are int64
// sizes or string parameters, nil for an unspecified shape.
func appendValueInfo(b []byte, num protowire.Number, name string, dims []any) []byte {
	var shape []byte
	for _, d := range dims {
		var dim []byte
		switch v := d.(type) {
		case int64:
			dim = protowire.AppendTag(dim, 1, protowire.VarintType)
			dim = protowire.AppendVarint(dim, uint64(v))
		case string:
			dim = protowire.AppendTag(dim, 2, protowire.BytesType)
			dim = protowire.AppendString(dim, v)
		}
		shape = protowire.AppendTag(shape, 1, protowire.BytesType)
		shape = protowire.AppendBytes(shape, dim)
	}
	var tensor []byte
	tensor = protowire.AppendTag(tensor, 1, protowire.VarintType) // elem_type
	tensor = protowire.AppendVarint(tensor, 1)                    // FLOAT
	if dims != nil {
		tensor = protowire.AppendTag(tensor, 2, protowire.BytesType)
		tensor = protowire.AppendBytes(tensor, shape)
	}
	var typ []byte
	typ = protowire.AppendTag(typ, 1, protowire.BytesType) // tensor_type
	typ = protowire.AppendBytes(typ, tensor)
	var vi []byte
	vi = protowire.AppendTag(vi, valueName, protowire.BytesType)
	vi = protowire.AppendString(vi, name)
	vi = protowire.AppendTag(vi, valueType, protowire.BytesType)
	vi = protowire.AppendBytes(vi, typ)
	b = protowire.AppendTag(b, num, protowire.BytesType)
	return protowire.AppendBytes(b, vi)
}

package config

import (
	"fmt"
	"reflect"
	"sort"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// checkYAML walks the parsed file against the Config type and names every
// problem by its full key, as the operator wrote it: unknown keys (with the
// nearest known one), durations that do not parse, values of the wrong
// kind. yaml's own errors name Go types ("field x not found in type
// config.Login"), which mean nothing to an operator.
func checkYAML(root *yaml.Node) []error {
	if root.Kind == yaml.DocumentNode && len(root.Content) > 0 {
		root = root.Content[0]
	}
	var errs []error
	walkYAML(root, reflect.TypeOf(Config{}), "", &errs)
	return errs
}

var durationType = reflect.TypeOf(time.Duration(0))

func walkYAML(n *yaml.Node, t reflect.Type, path string, errs *[]error) {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
		return // an empty key keeps its default
	}
	at := func(format string, args ...any) {
		key := path
		if key == "" {
			key = "(top level)"
		}
		*errs = append(*errs, fmt.Errorf("%s (line %d): %s", key, n.Line, fmt.Sprintf(format, args...)))
	}
	if reflect.PointerTo(t).Implements(reflect.TypeOf((*yaml.Unmarshaler)(nil)).Elem()) {
		return // the type reads itself
	}
	switch {
	case t == durationType:
		if n.Kind != yaml.ScalarNode {
			at("must be a duration such as 90s, 5m or 1h30m")
			return
		}
		if _, err := time.ParseDuration(n.Value); err != nil {
			at("%q is not a duration: use a number with a unit, such as 90s, 5m or 1h30m", n.Value)
		}
	case t.Kind() == reflect.Struct:
		if n.Kind != yaml.MappingNode {
			at("must be a mapping of keys")
			return
		}
		fields := yamlFields(t)
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			sub := k.Value
			if path != "" {
				sub = path + "." + k.Value
			}
			f, ok := fields[k.Value]
			if !ok {
				msg := fmt.Errorf("%s (line %d): unknown key", sub, k.Line)
				if near := nearest(k.Value, fields); near != "" {
					msg = fmt.Errorf("%s (line %d): unknown key; did you mean %s?", sub, k.Line, strings.TrimPrefix(path+"."+near, "."))
				}
				*errs = append(*errs, msg)
				continue
			}
			walkYAML(v, f, sub, errs)
		}
	case t.Kind() == reflect.Slice && t.Elem().Kind() != reflect.Uint8:
		if n.Kind != yaml.SequenceNode {
			if n.Kind == yaml.ScalarNode && t.Elem().Kind() == reflect.String {
				at("must be a list, such as [%s]", n.Value)
			} else {
				at("must be a list")
			}
			return
		}
		for i, item := range n.Content {
			walkYAML(item, t.Elem(), fmt.Sprintf("%s[%d]", path, i), errs)
		}
	case t.Kind() == reflect.Map:
		if n.Kind != yaml.MappingNode {
			at("must be a mapping of keys")
		}
	case t.Kind() == reflect.Bool:
		var b bool
		if n.Kind != yaml.ScalarNode || n.Decode(&b) != nil {
			at("must be true or false, got %q", n.Value)
		}
	case t.Kind() >= reflect.Int && t.Kind() <= reflect.Uint64:
		var i int64
		if n.Kind != yaml.ScalarNode || n.Decode(&i) != nil {
			at("must be a whole number, got %q", n.Value)
		}
	case t.Kind() == reflect.String:
		if n.Kind != yaml.ScalarNode {
			at("must be a single value, not a list or mapping")
		}
	}
}

// yamlFields maps the YAML keys of struct t to their field types; fields
// tagged "-" are not settable from YAML.
func yamlFields(t reflect.Type) map[string]reflect.Type {
	out := map[string]reflect.Type{}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		tag := f.Tag.Get("yaml")
		name, opts, _ := strings.Cut(tag, ",")
		if name == "-" {
			continue
		}
		if strings.Contains(opts, "inline") {
			for k, v := range yamlFields(f.Type) {
				out[k] = v
			}
			continue
		}
		if name == "" {
			name = strings.ToLower(f.Name)
		}
		out[name] = f.Type
	}
	return out
}

// nearest is the known key closest to k (a typo's likely intent), or "".
func nearest(k string, fields map[string]reflect.Type) string {
	names := make([]string, 0, len(fields))
	for n := range fields {
		names = append(names, n)
	}
	sort.Strings(names)
	best, bestD := "", 3 // more than two edits away is not a typo
	for _, n := range names {
		if d := editDistance(k, n); d < bestD {
			best, bestD = n, d
		}
	}
	return best
}

func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

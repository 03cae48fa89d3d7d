package console

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

// detailItem is one key/value pair of an audit entry's detail.
type detailItem struct{ Key, Value string }

// auditDetails turns an audit detail (a JSON object) into its key/value
// pairs in the order they were written, so the console shows a readable
// list instead of raw JSON. Strings lose their quotes; numbers and booleans
// read as written, an empty string or null as a dash; a nested object
// becomes pairs with dotted keys (selection.group); a list of plain values
// reads "a, b"; anything deeper stays compact JSON. Anything that is not a JSON object (old rows, plain text) comes back as
// one pair with an empty key, shown as it is. Escaping is left to
// html/template.
func auditDetails(detail string) []detailItem {
	detail = strings.TrimSpace(detail)
	if detail == "" || detail == "{}" || detail == "null" {
		return nil
	}
	items, ok := objectItems(detail)
	if !ok {
		return []detailItem{{Value: detail}}
	}
	return items
}

func objectItems(detail string) ([]detailItem, bool) {
	return appendObject(nil, "", detail)
}

func appendObject(items []detailItem, prefix, detail string) ([]detailItem, bool) {
	dec := json.NewDecoder(strings.NewReader(detail))
	dec.UseNumber()
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return nil, false
	}
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return nil, false
		}
		key, _ := t.(string)
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, false
		}
		key = prefix + key
		if raw[0] == '{' {
			if nested, ok := appendObject(items, key+".", string(raw)); ok && len(nested) > len(items) {
				items = nested
				continue
			}
		}
		items = append(items, detailItem{Key: key, Value: detailValue(raw)})
	}
	if t, err := dec.Token(); err != nil || t != json.Delim('}') {
		return nil, false
	}
	if _, err := dec.Token(); err == nil {
		return nil, false // trailing data: not one object
	}
	return items, true
}

// noValue shows an empty string or null: an empty cell reads as missing.
const noValue = "—"

func detailValue(raw json.RawMessage) string {
	switch raw[0] {
	case 'n':
		if string(raw) == "null" {
			return noValue
		}
	case '"':
		var s string
		if err := json.Unmarshal(raw, &s); err == nil {
			if s == "" {
				return noValue
			}
			return s
		}
	case '[':
		var list []any
		if err := json.Unmarshal(raw, &list); err == nil && len(list) > 0 {
			parts := make([]string, 0, len(list))
			for _, v := range list {
				switch v := v.(type) {
				case string:
					parts = append(parts, v)
				case float64, bool:
					parts = append(parts, fmt.Sprint(v))
				default:
					parts = nil
				}
				if parts == nil {
					break
				}
			}
			if parts != nil {
				return strings.Join(parts, ", ")
			}
		}
		fallthrough
	case '{':
		var b bytes.Buffer
		if err := json.Compact(&b, raw); err == nil {
			return b.String()
		}
	}
	if s, err := strconv.Unquote(string(raw)); err == nil {
		return s
	}
	return string(raw)
}

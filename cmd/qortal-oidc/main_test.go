package main

import (
	"slices"
	"testing"
)

func TestExtractConfigFlagAnywhere(t *testing.T) {
	cases := []struct {
		in   []string
		path string
		rest []string
	}{
		{[]string{"--config", "c.yaml", "add", "--id", "x"}, "c.yaml", []string{"add", "--id", "x"}},
		{[]string{"add", "--id", "x", "--config=c.yaml"}, "c.yaml", []string{"add", "--id", "x"}},
		{[]string{"list"}, "", []string{"list"}},
	}
	for _, c := range cases {
		path, rest, err := extractConfigFlag(c.in)
		if err != nil || path != c.path || !slices.Equal(rest, c.rest) {
			t.Errorf("extractConfigFlag(%q) = %q %q %v", c.in, path, rest, err)
		}
	}
	if _, _, err := extractConfigFlag([]string{"list", "--config"}); err == nil {
		t.Error("a dangling --config must be an error")
	}
}

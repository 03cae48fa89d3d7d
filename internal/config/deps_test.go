package config

import (
	"os"
	"strings"
	"testing"
)

// TestYAMLLibraryIsTheMaintainedOne keeps the archived gopkg.in/yaml.v3 out:
// the config is read with its maintained continuation, at a pinned version.
func TestYAMLLibraryIsTheMaintainedOne(t *testing.T) {
	b, err := os.ReadFile("../../go.mod")
	if err != nil {
		t.Fatal(err)
	}
	mod := string(b)
	if strings.Contains(mod, "gopkg.in/yaml.v3") {
		t.Error("go.mod requires gopkg.in/yaml.v3 (archived); use go.yaml.in/yaml/v3")
	}
	if !strings.Contains(mod, "\tgo.yaml.in/yaml/v3 v3.") {
		t.Error("go.mod does not pin go.yaml.in/yaml/v3 directly")
	}
	if !strings.Contains(mod, "\tgithub.com/wneessen/go-mail v0.") {
		t.Error("go.mod does not pin github.com/wneessen/go-mail directly")
	}
}

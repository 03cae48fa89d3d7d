package logging

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"
	"time"
)

func TestDurationsAsStringsAndRequestID(t *testing.T) {
	var buf bytes.Buffer
	log := New(&buf, Options{Level: slog.LevelInfo})
	ctx := WithRequestID(context.Background(), "req-1")
	log.InfoContext(ctx, "provisioned", "timeout", 20*time.Second)
	log.With("component", "x").InfoContext(ctx, "again", "request_id", "explicit")
	log.Info("no request")
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	var first, second, third map[string]any
	for i, v := range []*map[string]any{&first, &second, &third} {
		if err := json.Unmarshal([]byte(lines[i]), v); err != nil {
			t.Fatal(err)
		}
	}
	if first["timeout"] != "20s" || first["request_id"] != "req-1" {
		t.Errorf("first line %v", first)
	}
	if second["request_id"] != "explicit" || strings.Count(lines[1], "request_id") != 1 {
		t.Errorf("second line %s", lines[1])
	}
	if _, ok := third["request_id"]; ok {
		t.Errorf("a line outside a request got a request id: %s", lines[2])
	}
}

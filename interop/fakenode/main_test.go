package main

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestRunServesTheFixtureAndStopsOnStdinClose(t *testing.T) {
	keyFile := filepath.Join(t.TempDir(), "apikey.txt")
	stdinR, stdinW := io.Pipe()
	outR, outW := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- run(context.Background(), []string{"--api-key-file", keyFile, "--name", "Alice=QaddrAlice"}, stdinR, outW)
	}()
	line, err := bufio.NewReader(outR).ReadBytes('\n')
	if err != nil {
		t.Fatal(err)
	}
	var v struct{ URL string }
	if err := json.Unmarshal(line, &v); err != nil || v.URL == "" {
		t.Fatalf("announcement %q: %v", line, err)
	}
	res, err := http.Get(v.URL + "/names/Alice")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if !strings.Contains(string(b), "QaddrAlice") {
		t.Errorf("name lookup = %s", b)
	}
	res, err = http.Post(v.URL+"/_fake/publish", "application/json", strings.NewReader(`{"service":"APP","name":"Fixture","files":{"index.html":"v2"}}`))
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("publish: %v %v", res, err)
	}
	res.Body.Close()
	key, _ := os.ReadFile(keyFile)
	if !strings.HasPrefix(string(key), "node-api-key-") {
		t.Errorf("api key file = %q", key)
	}
	stdinW.Close()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("did not stop when stdin closed")
	}
}

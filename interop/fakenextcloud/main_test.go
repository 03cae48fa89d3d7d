package main

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"testing"
	"time"
)

func TestRunServesFakeAndStopsOnStdinClose(t *testing.T) {
	stdinR, stdinW := io.Pipe()
	outR, outW := io.Pipe()
	done := make(chan error, 1)
	go func() { done <- run(context.Background(), []string{"--app-password", "pw"}, stdinR, outW) }()

	line, err := bufio.NewReader(outR).ReadBytes('\n')
	if err != nil {
		t.Fatal(err)
	}
	var v struct{ URL string }
	if err := json.Unmarshal(line, &v); err != nil || v.URL == "" {
		t.Fatalf("announcement %q: %v", line, err)
	}
	req, _ := http.NewRequest(http.MethodGet, v.URL+"/ocs/v2.php/cloud/user?format=json", nil)
	req.SetBasicAuth("admin", "pw")
	req.Header.Set("OCS-APIRequest", "true")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("credential probe with the configured account: %d", res.StatusCode)
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

func TestRunRequiresPassword(t *testing.T) {
	if err := run(context.Background(), nil, nil, io.Discard); err == nil {
		t.Fatal("no error without --app-password")
	}
}

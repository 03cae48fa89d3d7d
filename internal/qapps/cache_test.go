package qapps

import (
	"io"
	"os"
	"path/filepath"
	"sync"
	"testing"
)

func TestDiskCache(t *testing.T) {
	c := newDiskCache(t.TempDir(), 0, nil, nil)
	const sig = "5igSignatureBase58xyz"
	if _, _, ok := c.open(sig, "index.html"); ok {
		t.Fatal("empty cache answered")
	}
	if _, err := c.writer("../etc", "x"); err == nil {
		t.Error("a non-Base58 signature became a directory name")
	}
	w, err := c.writer(sig, "a/b.css")
	if err != nil {
		t.Fatal(err)
	}
	_, _ = w.Write([]byte("body{}"))
	if _, _, ok := c.open(sig, "a/b.css"); ok {
		t.Error("an uncommitted entry is visible")
	}
	if err := w.commit(cachedMeta{ContentType: "text/css"}); err != nil {
		t.Fatal(err)
	}
	f, m, ok := c.open(sig, "a/b.css")
	if !ok || m.ContentType != "text/css" || m.Size != 6 {
		t.Fatalf("open = %v %+v", ok, m)
	}
	b, _ := io.ReadAll(f)
	f.Close()
	if string(b) != "body{}" {
		t.Errorf("body = %q", b)
	}
	// An aborted write leaves nothing, not even its temporary file.
	w, _ = c.writer(sig, "gone.js")
	_, _ = w.Write([]byte("partial"))
	w.abort()
	if _, _, ok := c.open(sig, "gone.js"); ok {
		t.Error("aborted entry visible")
	}
	// Concurrent writers of one path: the last commit wins, intact.
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			w, err := c.writer(sig, "same.bin")
			if err != nil {
				t.Error(err)
				return
			}
			_, _ = w.Write([]byte{byte('a' + i), byte('a' + i)})
			_ = w.commit(cachedMeta{ContentType: "application/octet-stream"})
		}()
	}
	wg.Wait()
	f, m, ok = c.open(sig, "same.bin")
	if !ok {
		t.Fatal("no entry after concurrent writes")
	}
	b, _ = io.ReadAll(f)
	f.Close()
	if len(b) != 2 || b[0] != b[1] || m.Size != 2 {
		t.Errorf("torn entry %q %+v", b, m)
	}
	entries, _ := os.ReadDir(filepath.Join(c.dir, sig))
	for _, e := range entries {
		if filepath.Ext(e.Name()) != ".body" && filepath.Ext(e.Name()) != ".meta" {
			t.Errorf("litter left: %s", e.Name())
		}
	}
}

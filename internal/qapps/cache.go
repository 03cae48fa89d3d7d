package qapps

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// diskCache keeps the node's answers by pinned version: one directory per
// transaction signature, one body and one metadata file per request path.
// A version never changes, so entries never go stale; a re-pin simply reads
// another directory. Files are written to a temporary name and renamed, so
// a reader never sees half a file and a crash leaves only litter.
//
// Pruning (see prune.go) removes the directories of versions no app pins any
// more and, over maxBytes, the least recently used ones.
type diskCache struct {
	dir      string
	maxBytes int64 // 0: unbounded
	log      *slog.Logger
	now      func() time.Time

	sweepMu sync.Mutex // one sweep or release at a time (in this process)
	touched sync.Map   // signature -> time.Time this process last touched its directory
	// size is the cache's total at the last sweep, written what was committed
	// since; over maxBytes together they ask the janitor (kick) for a sweep.
	size, written atomic.Int64
	kick          chan struct{}

	activeMu sync.Mutex
	active   map[string]int // signature -> responses being served from it now

	// removed counts removed versions by reason (unpinned, size); nil: none.
	removed *prometheus.CounterVec
}

func newDiskCache(dir string, maxBytes int64, log *slog.Logger, now func() time.Time) *diskCache {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if now == nil {
		now = time.Now
	}
	return &diskCache{dir: dir, maxBytes: maxBytes, log: log, now: now, kick: make(chan struct{}, 1), active: map[string]int{}}
}

// cachedMeta is what is kept beside a body.
type cachedMeta struct {
	ContentType string `json:"contentType"`
	HTML        bool   `json:"html"`
	Size        int64  `json:"size"`
}

// Base58 only: a signature becomes a directory name.
var signatureRE = regexp.MustCompile(`^[1-9A-HJ-NP-Za-km-z]{16,128}$`)

func (c *diskCache) paths(sig, reqPath string) (body, meta string, err error) {
	if !signatureRE.MatchString(sig) {
		return "", "", fmt.Errorf("signature %q is not Base58", sig)
	}
	sum := sha256.Sum256([]byte(reqPath))
	base := filepath.Join(c.dir, sig, hex.EncodeToString(sum[:16]))
	return base + ".body", base + ".meta", nil
}

// open returns the cached body and its metadata, or ok=false. A hit marks
// the version used (its directory's mtime is the LRU clock).
func (c *diskCache) open(sig, reqPath string) (*os.File, cachedMeta, bool) {
	bodyPath, metaPath, err := c.paths(sig, reqPath)
	if err != nil {
		return nil, cachedMeta{}, false
	}
	raw, err := os.ReadFile(metaPath)
	if err != nil {
		return nil, cachedMeta{}, false
	}
	var m cachedMeta
	if json.Unmarshal(raw, &m) != nil {
		return nil, cachedMeta{}, false
	}
	f, err := os.Open(bodyPath)
	if err != nil {
		return nil, cachedMeta{}, false
	}
	c.touch(sig)
	return f, m, true
}

// writer returns a file to stream a body into; commit publishes it.
func (c *diskCache) writer(sig, reqPath string) (*cacheWriter, error) {
	bodyPath, metaPath, err := c.paths(sig, reqPath)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Dir(bodyPath), 0o700); err != nil {
		return nil, fmt.Errorf("qapps cache: %w", err)
	}
	suffix := make([]byte, 6)
	_, _ = rand.Read(suffix)
	tmp := bodyPath + ".tmp" + hex.EncodeToString(suffix)
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return nil, fmt.Errorf("qapps cache: %w", err)
	}
	return &cacheWriter{c: c, f: f, tmp: tmp, body: bodyPath, meta: metaPath}, nil
}

type cacheWriter struct {
	c               *diskCache
	f               *os.File
	tmp, body, meta string
	n               int64
	failed          bool
}

func (w *cacheWriter) Write(p []byte) (int, error) {
	if w.failed {
		return len(p), nil // a full disk must not break the answer being streamed
	}
	n, err := w.f.Write(p)
	w.n += int64(n)
	if err != nil {
		w.failed = true
	}
	return len(p), nil
}

// commit publishes the body with m; abort (or a failed write) discards it.
func (w *cacheWriter) commit(m cachedMeta) error {
	m.Size = w.n
	err := w.f.Close()
	if w.failed || err != nil {
		_ = os.Remove(w.tmp)
		return errors.Join(errors.New("qapps cache: write failed"), err)
	}
	raw, _ := json.Marshal(m)
	metaTmp := w.tmp + ".meta"
	if err := os.WriteFile(metaTmp, raw, 0o600); err != nil {
		_ = os.Remove(w.tmp)
		return fmt.Errorf("qapps cache: %w", err)
	}
	// Body first, then metadata: open() requires the metadata, so a reader
	// sees either nothing or a complete entry.
	if err := os.Rename(w.tmp, w.body); err != nil {
		_ = os.Remove(w.tmp)
		_ = os.Remove(metaTmp)
		return fmt.Errorf("qapps cache: %w", err)
	}
	if err := os.Rename(metaTmp, w.meta); err != nil {
		_ = os.Remove(metaTmp)
		return fmt.Errorf("qapps cache: %w", err)
	}
	w.c.committed(w.n)
	return nil
}

func (w *cacheWriter) abort() {
	_ = w.f.Close()
	_ = os.Remove(w.tmp)
}

var _ io.Writer = (*cacheWriter)(nil)

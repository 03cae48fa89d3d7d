package qapps

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/qortal-oidc/qortal-oidc/internal/qortalnode/nodefake"
	"github.com/qortal-oidc/qortal-oidc/internal/store"
)

func exists(t *testing.T, p string) bool {
	t.Helper()
	_, err := os.Lstat(p)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		t.Fatal(err)
	}
	return err == nil
}

// A re-pin drops the old version's files, a delete the pinned one's, and
// the removal is logged; the new version is fetched and cached as usual.
func TestPruneOnRepinAndDelete(t *testing.T) {
	e := newEnv(t)
	frame := e.frame()
	for _, p := range []string{"", "css/style.css"} {
		if a := e.get(frame + p); a.status != 200 {
			t.Fatalf("%q = %d", p, a.status)
		}
	}
	v1dir := filepath.Join(e.gw.opt.CacheDir, e.v1)
	if !exists(t, v1dir) {
		t.Fatal("version 1 not cached")
	}
	v2 := e.node.Publish("APP", "Fixture", "", "Fixture", map[string][]byte{"index.html": []byte("<html><head></head><body>version two</body></html>")})
	if _, err := e.cat.Pin(t.Context(), "admin:test", e.app.ID); err != nil {
		t.Fatal(err)
	}
	if exists(t, v1dir) {
		t.Error("the unpinned version's directory survived the re-pin")
	}
	if !strings.Contains(e.logs.String(), "removed a version") || !strings.Contains(e.logs.String(), e.v1) {
		t.Errorf("removal not logged:\n%s", e.logs)
	}
	if a := e.get(frame); a.status != 200 || !strings.Contains(a.body, "version two") {
		t.Fatalf("after the re-pin = %d %s", a.status, a.body)
	}
	v2dir := filepath.Join(e.gw.opt.CacheDir, v2)
	if !exists(t, v2dir) {
		t.Fatal("version 2 not cached")
	}
	// Pinning the version already pinned removes nothing.
	if _, err := e.cat.Pin(t.Context(), "admin:test", e.app.ID); err != nil || !exists(t, v2dir) {
		t.Errorf("re-pin to the same version: %v, cached %v", err, exists(t, v2dir))
	}
	if _, err := e.cat.Delete(t.Context(), "admin:test", e.app.ID); err != nil {
		t.Fatal(err)
	}
	if exists(t, v2dir) {
		t.Error("a deleted app's version survived")
	}
	if entries, _ := os.ReadDir(e.gw.opt.CacheDir); len(entries) != 0 {
		t.Errorf("cache not empty after the delete: %v", entries)
	}
	if n := testutil.ToFloat64(e.gw.cache.removed.WithLabelValues("unpinned")); n != 2 {
		t.Errorf("qortal_oidc_qapps_cache_removed_total{reason=unpinned} = %v, want 2", n)
	}
}

// Two apps pinning one signature share its directory: it stays until the
// last of them lets go.
func TestPruneKeepsASharedSignature(t *testing.T) {
	e := newEnv(t)
	twin, err := e.st.CreateQApp(t.Context(), store.QApp{ID: "twin", Service: "WEBSITE", Name: "Twin", Title: "Twin",
		PinnedSignature: e.v1, PinnedAt: time.Now()}, store.AuditEntry{Actor: "test"})
	if err != nil {
		t.Fatal(err)
	}
	frame := e.frame()
	if a := e.get(frame + "css/style.css"); a.status != 200 {
		t.Fatal(a.status)
	}
	dir := filepath.Join(e.gw.opt.CacheDir, e.v1)
	if _, err := e.cat.Delete(t.Context(), "admin:test", e.app.ID); err != nil {
		t.Fatal(err)
	}
	if !exists(t, dir) {
		t.Fatal("a version still pinned by another app was removed")
	}
	e.gw.SweepCache(t.Context())
	if !exists(t, dir) {
		t.Fatal("the sweep removed a version still pinned by another app")
	}
	if _, err := e.cat.Delete(t.Context(), "admin:test", twin.ID); err != nil {
		t.Fatal(err)
	}
	if exists(t, dir) {
		t.Error("the version survived its last app")
	}
}

func writeVersion(t *testing.T, dir, sig string, size int, used time.Time) {
	t.Helper()
	d := filepath.Join(dir, sig)
	if err := os.MkdirAll(d, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(d, "0123456789abcdef0123456789abcdef.body"), bytes.Repeat([]byte("x"), size), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(d, "0123456789abcdef0123456789abcdef.meta"), []byte(`{"contentType":"text/plain"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(d, used, used); err != nil {
		t.Fatal(err)
	}
}

func pinnedSet(sigs ...string) PinnedFunc {
	return func(context.Context) (map[string]bool, error) {
		m := map[string]bool{}
		for _, s := range sigs {
			m[s] = true
		}
		return m, nil
	}
}

// The sweep removes unpinned versions and litter, and touches nothing
// else: not a symlink (nor what it points to), not a file or directory
// that is not a version, not a writer's fresh temporary file.
func TestSweepRemovesOnlyUnpinnedVersions(t *testing.T) {
	root := t.TempDir()
	dir := filepath.Join(root, "cache")
	outside := filepath.Join(root, "outside")
	const pinned, unpinned, linked = "PinnedVersion1111111", "UnpinnedVersion11111", "LinkedVersion1111111"
	now := time.Now()
	writeVersion(t, dir, pinned, 10, now)
	writeVersion(t, dir, unpinned, 10, now)
	writeVersion(t, outside, linked, 10, now)
	if err := os.Symlink(filepath.Join(outside, linked), filepath.Join(dir, linked)); err != nil {
		t.Fatal(err)
	}
	// A symlink inside an unpinned version pointing outside: removed as a
	// link, its target untouched.
	if err := os.Symlink(filepath.Join(outside, linked), filepath.Join(dir, unpinned, "escape")); err != nil {
		t.Fatal(err)
	}
	fresh := filepath.Join(dir, pinned, "aaaa.body.tmp0011")
	stale := filepath.Join(dir, pinned, "bbbb.body.tmp0022")
	for _, p := range []string{fresh, stale} {
		if err := os.WriteFile(p, []byte("partial"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	old := now.Add(-2 * staleTemp)
	_ = os.Chtimes(stale, old, old)
	notOurs := []string{filepath.Join(dir, "README"), filepath.Join(dir, "notes", "keep.txt"), filepath.Join(dir, "Base58LookingFile111")}
	for _, p := range notOurs {
		_ = os.MkdirAll(filepath.Dir(p), 0o700)
		if err := os.WriteFile(p, []byte("mine"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	trash := filepath.Join(dir, trashPrefix+unpinned+"-abc")
	writeVersion(t, trash, "x", 5, now)

	c := newDiskCache(dir, 0, nil, nil)
	if _, err := c.sweep(t.Context(), func(context.Context) (map[string]bool, error) { return nil, errors.New("store down") }); err == nil {
		t.Error("a sweep without the catalog did not fail")
	}
	if !exists(t, filepath.Join(dir, unpinned)) {
		t.Fatal("a sweep without the catalog removed something")
	}
	res, err := c.sweep(t.Context(), pinnedSet(pinned))
	if err != nil {
		t.Fatal(err)
	}
	if res.Removed != 1 || res.Kept != 1 {
		t.Errorf("sweep = %+v", res)
	}
	if exists(t, filepath.Join(dir, unpinned)) || exists(t, trash) || exists(t, stale) {
		t.Error("unpinned version, interrupted removal or stale temporary file left")
	}
	for _, p := range append(notOurs, fresh, filepath.Join(dir, pinned, "0123456789abcdef0123456789abcdef.body"),
		filepath.Join(dir, linked), filepath.Join(outside, linked, "0123456789abcdef0123456789abcdef.body")) {
		if !exists(t, p) {
			t.Errorf("%s was removed", p)
		}
	}
	// release never acts on a symlink either, even one named like a version.
	c.release(t.Context(), linked, pinnedSet())
	if !exists(t, filepath.Join(dir, linked)) || !exists(t, filepath.Join(outside, linked, "0123456789abcdef0123456789abcdef.body")) {
		t.Error("release followed or removed a symlink")
	}
	c.release(t.Context(), "../outside", pinnedSet())
	if !exists(t, filepath.Join(outside, linked)) {
		t.Error("release climbed out of the cache")
	}
}

// Over the bound, the least recently used versions go first (a hit moves a
// version to the front), never one being served right now.
func TestSweepSizeBoundLRU(t *testing.T) {
	dir := t.TempDir()
	const a, b, c3, dead = "VersionAAAAAAAAAAAAA", "VersionBBBBBBBBBBBBB", "VersionCCCCCCCCCCCCC", "VersionDeadDeadDead1"
	now := time.Now()
	writeVersion(t, dir, a, 1000, now.Add(-3*time.Hour))
	writeVersion(t, dir, b, 1000, now.Add(-2*time.Hour))
	writeVersion(t, dir, c3, 1000, now.Add(-1*time.Hour))
	writeVersion(t, dir, dead, 1000, now)
	c := newDiskCache(dir, 2200, nil, nil)
	// a was used last (as a hit would touch it: TestCacheHitTouchesItsVersion).
	_ = os.Chtimes(filepath.Join(dir, a), now, now)
	pins := pinnedSet(a, b, c3)
	res, err := c.sweep(t.Context(), pins)
	if err != nil {
		t.Fatal(err)
	}
	if exists(t, filepath.Join(dir, dead)) || exists(t, filepath.Join(dir, b)) || !exists(t, filepath.Join(dir, a)) || !exists(t, filepath.Join(dir, c3)) {
		t.Errorf("after the sweep: dead %v a %v b %v c %v, want only a and c", exists(t, filepath.Join(dir, dead)),
			exists(t, filepath.Join(dir, a)), exists(t, filepath.Join(dir, b)), exists(t, filepath.Join(dir, c3)))
	}
	if res.Removed != 2 || res.Kept != 2 || res.Bytes > 2200 {
		t.Errorf("sweep = %+v", res)
	}
	// c is older than a, but being served: a goes instead.
	c.maxBytes = 1500
	done := c.inUse(c3)
	if _, err := c.sweep(t.Context(), pins); err != nil {
		t.Fatal(err)
	}
	done()
	if !exists(t, filepath.Join(dir, c3)) || exists(t, filepath.Join(dir, a)) {
		t.Error("the bound evicted a version in use, or not the other one")
	}
	// Everything in use: over the bound, nothing evicted.
	writeVersion(t, dir, a, 2<<20, now)
	c.maxBytes = 1 << 20
	doneA, doneC := c.inUse(a), c.inUse(c3)
	res, _ = c.sweep(t.Context(), pins)
	doneA()
	doneC()
	if res.Removed != 0 || !exists(t, filepath.Join(dir, a)) {
		t.Errorf("evicted while in use: %+v", res)
	}
}

// A hit moves its version's directory to the front of the LRU order.
func TestCacheHitTouchesItsVersion(t *testing.T) {
	c := newDiskCache(t.TempDir(), 0, nil, nil)
	const sig = "TouchedVersion111111"
	w, err := c.writer(sig, "a.js")
	if err != nil {
		t.Fatal(err)
	}
	_, _ = w.Write([]byte("x"))
	if err := w.commit(cachedMeta{ContentType: "text/javascript"}); err != nil {
		t.Fatal(err)
	}
	old := time.Now().Add(-time.Hour)
	_ = os.Chtimes(filepath.Join(c.dir, sig), old, old)
	f, _, ok := c.open(sig, "a.js")
	if !ok {
		t.Fatal("miss")
	}
	f.Close()
	fi, _ := os.Stat(filepath.Join(c.dir, sig))
	if time.Since(fi.ModTime()) > time.Minute {
		t.Errorf("hit did not touch the version: mtime %v", fi.ModTime())
	}
}

// Removing a version under a writer: its temporary file goes with the
// directory, the commit fails, and no half version comes back.
func TestPruneUnderAWriter(t *testing.T) {
	c := newDiskCache(t.TempDir(), 0, nil, nil)
	const sig = "WrittenVersion111111"
	w, err := c.writer(sig, "big.bin")
	if err != nil {
		t.Fatal(err)
	}
	_, _ = w.Write([]byte("first half "))
	if _, ok := c.remove(sig, "test"); !ok {
		t.Fatal("remove found nothing")
	}
	_, _ = w.Write([]byte("second half"))
	if err := w.commit(cachedMeta{ContentType: "application/octet-stream"}); err == nil {
		t.Error("commit into a removed version succeeded")
	}
	if _, _, ok := c.open(sig, "big.bin"); ok || exists(t, filepath.Join(c.dir, sig)) {
		t.Error("a removed version came back")
	}
	if entries, _ := os.ReadDir(c.dir); len(entries) != 0 {
		t.Errorf("litter: %v", entries)
	}
}

// A response streaming a cached file when its version is removed still
// completes, byte for byte (its descriptor outlives the unlink).
func TestReaderSurvivesPrune(t *testing.T) {
	e := newEnv(t)
	big := make([]byte, 16<<20)
	for i := range big {
		big[i] = byte(i * 7)
	}
	files := nodefake.FixtureApp()
	files["media/big.bin"] = big
	sig := e.node.Publish("APP", "Fixture", "", "Fixture", files)
	if _, err := e.cat.Pin(t.Context(), "admin:test", e.app.ID); err != nil {
		t.Fatal(err)
	}
	frame := e.frame()
	if a := e.get(frame + "media/big.bin"); a.status != 200 || a.body != string(big) {
		t.Fatalf("first fetch = %d", a.status)
	}
	for _, rg := range []string{"", "bytes=1000-"} {
		req, _ := http.NewRequest(http.MethodGet, e.srv.URL+frame+"media/big.bin", nil)
		req.Header.Set("Cookie", e.cookie)
		if rg != "" {
			req.Header.Set("Range", rg)
		}
		res, err := http.DefaultTransport.RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		head := make([]byte, 64<<10)
		if _, err := io.ReadFull(res.Body, head); err != nil || res.Header.Get("X-Qapps-Cache") != "hit" {
			t.Fatalf("start of the body: %v %s", err, res.Header.Get("X-Qapps-Cache"))
		}
		// Remove the version under the response: delete the app.
		e.gw.cache.release(t.Context(), sig, pinnedSet())
		if exists(t, filepath.Join(e.gw.opt.CacheDir, sig)) {
			t.Fatal("version not removed")
		}
		rest, err := io.ReadAll(res.Body)
		res.Body.Close()
		want := big
		if rg != "" {
			want = big[1000:]
		}
		if err != nil || !bytes.Equal(append(head, rest...), want) {
			t.Errorf("range %q: body after the prune: %v, %d bytes, want %d", rg, err, len(head)+len(rest), len(want))
		}
		// Fetched and cached again for the next reader.
		if a := e.get(frame + "media/big.bin"); a.status != 200 || a.body != string(big) {
			t.Fatalf("refetch = %d", a.status)
		}
	}
}

// Run sweeps at start-up and again soon after writes push the cache past
// its bound; it stops with its context.
func TestRunSweepsAtStartAndOnGrowth(t *testing.T) {
	e := newEnv(t)
	dead := filepath.Join(e.gw.opt.CacheDir, "DeadVersion111111111")
	writeVersion(t, e.gw.opt.CacheDir, "DeadVersion111111111", 10, time.Now())
	e.gw.kickPause = 10 * time.Millisecond
	e.gw.cache.maxBytes = 1
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- e.gw.Run(ctx) }()
	waitFor(t, func() bool { return !exists(t, dead) }, "the start-up sweep")
	frame := e.frame()
	if a := e.get(frame + "css/style.css"); a.status != 200 {
		t.Fatal(a.status)
	}
	// One byte of budget: the write asks for a sweep, which evicts it.
	waitFor(t, func() bool { return !exists(t, filepath.Join(e.gw.opt.CacheDir, e.v1)) }, "the growth sweep")
	// Counted once the removal is done (after the rename that hides it).
	waitFor(t, func() bool { return testutil.ToFloat64(e.gw.cache.removed.WithLabelValues("size")) == 1 },
		"qortal_oidc_qapps_cache_removed_total{reason=size} = 1")
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("Run = %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not stop")
	}
}

func waitFor(t *testing.T, ok func() bool, what string) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if ok() {
			return
		}
	}
	t.Fatalf("%s did not happen", what)
}

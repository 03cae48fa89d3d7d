package qapps

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// Pruning. The gateway serves only each app's pinned version, so the
// directory of a version no catalog entry pins is dead weight: it goes when
// an app is re-pinned or deleted (release), and a sweep at start-up, hourly
// and whenever the cache grows past maxBytes removes every unpinned version
// and then, while the total is still over maxBytes, the least recently used
// pinned ones (they are fetched from the node again when next opened).
//
// Safety:
//   - Only entries directly under dir that are real directories (never
//     symlinks) named like a Base58 signature are considered, plus the
//     sweep's own ".trash-" directories; nothing else in dir is touched and
//     nothing is followed. os.RemoveAll unlinks symlinks, it never follows.
//   - A version is first renamed to ".trash-…" (atomic: readers and writers
//     see the whole version or none of it), then removed. A response already
//     streaming from one of its files keeps its open descriptor and
//     completes; a writer's temporary file goes with it and its rename fails,
//     which only means that file is not cached.
//   - The sweep lists directories before it reads the catalog, so a version
//     pinned after the listing began cannot be mistaken for an unpinned one.
//     A request that read the old pin just before a re-pin may still write
//     that version back; the next sweep removes it.
//   - Temporary files younger than staleTemp belong to writers in progress
//     and are kept; older ones are a crashed writer's litter.
//   - The size bound never evicts a version this process is serving from
//     right now (inUse); other replicas' readers hold open descriptors.

const (
	trashPrefix = ".trash-"
	staleTemp   = time.Hour
	// touchEvery throttles the LRU clock: a hit sets its version's directory
	// mtime at most this often (one syscall, not one per file).
	touchEvery = time.Minute
)

// PinnedFunc returns the signatures some catalog entry pins now.
type PinnedFunc func(ctx context.Context) (map[string]bool, error)

// version is one version directory as a sweep saw it.
type version struct {
	sig   string
	bytes int64
	files int
	used  time.Time // the directory's mtime: the last hit or write
}

// inUse marks sig as being served from until the returned func is called.
func (c *diskCache) inUse(sig string) func() {
	c.activeMu.Lock()
	c.active[sig]++
	c.activeMu.Unlock()
	return func() {
		c.activeMu.Lock()
		if c.active[sig]--; c.active[sig] <= 0 {
			delete(c.active, sig)
		}
		c.activeMu.Unlock()
	}
}

func (c *diskCache) serving(sig string) bool {
	c.activeMu.Lock()
	defer c.activeMu.Unlock()
	return c.active[sig] > 0
}

// touch moves sig to the front of the LRU order (its directory's mtime),
// at most once per touchEvery per process. Every replica sharing the
// directory sees the same clock.
func (c *diskCache) touch(sig string) {
	now := c.now()
	if t, ok := c.touched.Load(sig); ok && now.Sub(t.(time.Time)) < touchEvery {
		return
	}
	c.touched.Store(sig, now)
	_ = os.Chtimes(filepath.Join(c.dir, sig), now, now)
}

// committed accounts for a new cache file and asks for a sweep when the
// cache may have grown past its bound.
func (c *diskCache) committed(n int64) {
	w := c.written.Add(n)
	if c.maxBytes > 0 && c.size.Load()+w > c.maxBytes {
		select {
		case c.kick <- struct{}{}:
		default:
		}
	}
}

// scan measures one version directory without following anything: only
// regular files count. Stale temporary files are removed on the way when
// removeStale is set.
func (c *diskCache) scan(sig string, removeStale bool) (version, error) {
	dir := filepath.Join(c.dir, sig)
	v := version{sig: sig}
	fi, err := os.Lstat(dir)
	if err != nil {
		return v, err
	}
	v.used = fi.ModTime()
	entries, err := os.ReadDir(dir)
	if err != nil {
		return v, err
	}
	for _, e := range entries {
		if !e.Type().IsRegular() {
			continue
		}
		info, err := e.Info()
		if err != nil {
			continue // removed meanwhile
		}
		if removeStale && strings.Contains(e.Name(), ".tmp") && c.now().Sub(info.ModTime()) > staleTemp {
			if os.Remove(filepath.Join(dir, e.Name())) == nil {
				c.log.Info("qapps cache: removed a stale temporary file", "signature", sig, "file", e.Name(), "bytes", info.Size())
			}
			continue
		}
		v.bytes += info.Size()
		v.files++
	}
	return v, nil
}

// remove takes one version directory out of the cache: renamed aside first
// (atomic), then deleted. It returns what was removed; a version already
// gone (another replica's sweep) is not an error.
func (c *diskCache) remove(sig, reason string) (version, bool) {
	if !signatureRE.MatchString(sig) {
		return version{}, false
	}
	dir := filepath.Join(c.dir, sig)
	fi, err := os.Lstat(dir)
	if err != nil || !fi.IsDir() {
		return version{}, false // gone, or not ours (a symlink, a file)
	}
	v, _ := c.scan(sig, false)
	suffix := make([]byte, 6)
	_, _ = rand.Read(suffix)
	trash := filepath.Join(c.dir, trashPrefix+sig+"-"+hex.EncodeToString(suffix))
	if err := os.Rename(dir, trash); err != nil {
		if !errors.Is(err, fs.ErrNotExist) {
			c.log.Warn("qapps cache: cannot remove a version", "signature", sig, "reason", reason, "err", err)
		}
		return version{}, false
	}
	c.touched.Delete(sig)
	if err := os.RemoveAll(trash); err != nil {
		c.log.Warn("qapps cache: version moved aside but not fully deleted (the next sweep retries)", "signature", sig, "dir", trash, "err", err)
	}
	c.log.Info("qapps cache: removed a version", "signature", sig, "reason", reason, "bytes", v.bytes, "files", v.files)
	if c.removed != nil {
		c.removed.WithLabelValues(reason).Inc()
	}
	return v, true
}

// release removes sig's directory unless some catalog entry still pins it
// (two apps may pin one signature). The catalog calls it after a re-pin or
// a delete.
func (c *diskCache) release(ctx context.Context, sig string, pinned PinnedFunc) {
	if sig == "" {
		return
	}
	c.sweepMu.Lock()
	defer c.sweepMu.Unlock()
	p, err := pinned(ctx)
	if err != nil {
		c.log.Warn("qapps cache: cannot read the catalog, keeping the previous version (the next sweep retries)", "signature", sig, "err", err)
		return
	}
	if p[sig] {
		c.log.Debug("qapps cache: previous version still pinned by another app, kept", "signature", sig)
		return
	}
	if v, ok := c.remove(sig, "unpinned"); ok {
		c.size.Add(-v.bytes)
	}
}

// sweepResult is what a sweep did, for logs and tests.
type sweepResult struct {
	Kept, Removed int
	Bytes, Freed  int64
}

// sweep removes every unpinned version, crash litter, and, over maxBytes,
// the least recently used pinned versions not being served right now.
func (c *diskCache) sweep(ctx context.Context, pinned PinnedFunc) (sweepResult, error) {
	c.sweepMu.Lock()
	defer c.sweepMu.Unlock()
	var res sweepResult
	// List first, then read the catalog (see the safety notes above).
	entries, err := os.ReadDir(c.dir)
	if errors.Is(err, fs.ErrNotExist) {
		return res, nil
	}
	if err != nil {
		return res, err
	}
	written := c.written.Load()
	p, err := pinned(ctx)
	if err != nil {
		return res, err
	}
	var kept []version
	for _, e := range entries {
		name := e.Name()
		if !e.IsDir() { // files and symlinks (even to directories) are not ours
			continue
		}
		if strings.HasPrefix(name, trashPrefix) {
			// A removal interrupted by a crash (or running on another
			// replica right now: RemoveAll of a vanishing tree is harmless).
			if err := os.RemoveAll(filepath.Join(c.dir, name)); err == nil {
				c.log.Info("qapps cache: removed an interrupted removal", "dir", name)
			}
			continue
		}
		if !signatureRE.MatchString(name) {
			continue
		}
		if !p[name] {
			if v, ok := c.remove(name, "unpinned"); ok {
				res.Removed++
				res.Freed += v.bytes
			}
			continue
		}
		v, err := c.scan(name, true)
		if err != nil {
			continue
		}
		kept = append(kept, v)
		res.Bytes += v.bytes
	}
	res.Kept = len(kept)
	if c.maxBytes > 0 && res.Bytes > c.maxBytes {
		slices.SortFunc(kept, func(a, b version) int { return a.used.Compare(b.used) })
		for _, v := range kept {
			if res.Bytes <= c.maxBytes {
				break
			}
			if c.serving(v.sig) {
				continue
			}
			if rv, ok := c.remove(v.sig, "size"); ok {
				res.Removed++
				res.Kept--
				res.Freed += rv.bytes
				res.Bytes -= rv.bytes
			}
		}
		if res.Bytes > c.maxBytes {
			// Try again once those responses are done.
			c.log.Info("qapps cache: over its bound (qapps.cache_max_bytes) with every remaining version in use", "bytes", res.Bytes, "max", c.maxBytes)
			select {
			case c.kick <- struct{}{}:
			default:
			}
		}
	}
	c.size.Store(res.Bytes)
	c.written.Add(-written)
	return res, nil
}

// pinnedVersions reads the signatures the catalog pins now (disabled
// entries included: re-enabling one must not need the node).
func (g *Gateway) pinnedVersions(ctx context.Context) (map[string]bool, error) {
	apps, err := g.store.ListQApps(ctx)
	if err != nil {
		return nil, err
	}
	out := make(map[string]bool, len(apps))
	for _, a := range apps {
		if a.PinnedSignature != "" {
			out[a.PinnedSignature] = true
		}
	}
	return out, nil
}

// ReleaseVersion drops the cached files of a version an app no longer pins,
// unless another app still pins it: the catalog's OnUnpin.
func (g *Gateway) ReleaseVersion(ctx context.Context, signature string) {
	g.cache.release(ctx, signature, g.pinnedVersions)
}

// SweepCache prunes the cache once (see the notes at the top of prune.go).
func (g *Gateway) SweepCache(ctx context.Context) {
	start := g.now()
	res, err := g.cache.sweep(ctx, g.pinnedVersions)
	if err != nil {
		g.log.WarnContext(ctx, "qapps cache: sweep failed, nothing removed", "err", err)
		return
	}
	lvl := slog.LevelDebug
	if res.Removed > 0 {
		lvl = slog.LevelInfo
	}
	g.log.Log(ctx, lvl, "qapps cache swept", "kept", res.Kept, "bytes", res.Bytes, "removed", res.Removed, "freed", res.Freed,
		"max", g.opt.CacheMaxBytes, "took", g.now().Sub(start).String())
}

// Run keeps the cache pruned until ctx ends: a sweep at once, then every
// CacheSweepEvery (changes made by other replicas sharing the store or the
// directory) and soon after writes push the cache past CacheMaxBytes.
func (g *Gateway) Run(ctx context.Context) error {
	every := g.opt.CacheSweepEvery
	if every <= 0 {
		every = time.Hour
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		g.SweepCache(ctx)
		// At most one growth-triggered sweep per kickPause.
		pause := time.NewTimer(g.kickPause)
		select {
		case <-ctx.Done():
			pause.Stop()
			return ctx.Err()
		case <-pause.C:
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		case <-g.cache.kick:
		}
	}
}

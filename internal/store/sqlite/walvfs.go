package sqlite

import (
	"errors"
	"sync"
	"sync/atomic"
	"unsafe"

	"modernc.org/libc"
	"modernc.org/libc/sys/types"
	sqlite3 "modernc.org/sqlite/lib"
)

// walVFSName is the VFS every connection of the store opens its file with:
// the platform's own VFS, except that appends to the write-ahead log are
// gathered and written with one call per commit.
//
// Why: SQLite writes each WAL frame with two pwrite calls (its 24-byte
// header, then the page), and a login's commit carries about 22 frames, so
// a login cost about 60 system calls in the log alone, 11% of its CPU on
// the project's VM, where a system call is expensive. Gathering changes
// nothing SQLite relies on, because SQLite makes frames visible only after
// the commit frame is written (and synced when synchronous is FULL):
//
//   - An append at or past the end of what was written so far is copied to
//     a buffer. Any other write (a frame rewritten in place, the checksum
//     rewrite after it, a restart of the log at offset 0) first writes the
//     buffer out, then goes through at once.
//   - The commit frame's page data (the page after a frame header whose
//     "database size" field is not zero) writes the buffer out before the
//     xWrite returns, so with synchronous NORMAL too the commit is in the
//     file before SQLite publishes it in the shared wal-index; its error is
//     the commit's error.
//   - Every other call on the log (read, sync, size, truncate, close, file
//     control) writes the buffer out first, so the connection reading its
//     own uncommitted frames or checkpointing reads what it wrote.
//
// Only the log gets the wrapper; the database file, journals and temporary
// files are the platform VFS's own. Readers open the log through it too but
// never write it.
const walVFSName = "qortal-oidc-wal"

// walBufferMax bounds the buffer: a bigger transaction (a migration, a bulk
// import) writes its frames out every walBufferMax bytes, in fewer calls
// than SQLite would. It is the most SQLite's unix VFS writes in one call
// (its seekAndWriteFd keeps the low 17 bits of the length): about 31
// frames of 4 KiB pages, more than a login's commit holds.
const walBufferMax = 1<<17 - 1

var (
	walVFSOnce sync.Once
	walVFSErr  error

	// Registered once, for the process's life (SQLite's VFS list is
	// process-wide): the VFS struct, its name, and the method tables built
	// for the platform's tables (keyed by the platform table's address).
	walVFSMu   sync.Mutex
	walVFS     uintptr
	walRealVFS uintptr
	walTables  = map[uintptr]uintptr{}
	walFiles   sync.Map // sqlite3_file address -> *walFile
)

// walFile is the state of one open log.
type walFile struct {
	real   uintptr // the platform's method table
	buf    uintptr // libc memory: SQLite's code reads it as C memory
	cap    int
	n      int
	start  int64 // file offset of buf[0]
	end    int64 // past the last byte written or buffered since the log (re)started
	commit bool  // the last write was a commit frame's header
	name   string

	// For tests: frame headers SQLite wrote, and the platform's xWrite calls
	// they cost.
	frames, writes atomic.Uint64
}

// registerWALVFS registers walVFSName once per process.
func registerWALVFS() error {
	walVFSOnce.Do(func() { walVFSErr = doRegisterWALVFS() })
	return walVFSErr
}

func doRegisterWALVFS() error {
	tls := libc.NewTLS()
	defer tls.Close()
	walRealVFS = sqlite3.Xsqlite3_vfs_find(tls, 0)
	if walRealVFS == 0 {
		return errors.New("sqlite: no default VFS")
	}
	size := unsafe.Sizeof(sqlite3.Tsqlite3_vfs{})
	p := libc.Xmalloc(tls, types.Size_t(size))
	name := libc.Xmalloc(tls, types.Size_t(len(walVFSName)+1))
	if p == 0 || name == 0 {
		return errors.New("sqlite: out of memory registering the WAL VFS")
	}
	copy(unsafe.Slice((*byte)(cptr(name)), len(walVFSName)+1), walVFSName+"\x00")
	v := (*sqlite3.Tsqlite3_vfs)(cptr(p))
	*v = *(*sqlite3.Tsqlite3_vfs)(cptr(walRealVFS))
	v.FpNext, v.FzName = 0, name
	*(*func(*libc.TLS, uintptr, uintptr, uintptr, int32, uintptr) int32)(unsafe.Pointer(&v.FxOpen)) = walOpen
	if rc := sqlite3.Xsqlite3_vfs_register(tls, p, 0); rc != sqlite3.SQLITE_OK {
		return errors.New("sqlite: registering the WAL VFS failed")
	}
	walVFS = p
	return nil
}

func walOpen(tls *libc.TLS, pVfs, zName, pFile uintptr, flags int32, pOutFlags uintptr) int32 {
	real := (*sqlite3.Tsqlite3_vfs)(cptr(walRealVFS))
	rc := (*(*func(*libc.TLS, uintptr, uintptr, uintptr, int32, uintptr) int32)(unsafe.Pointer(&real.FxOpen)))(tls, walRealVFS, zName, pFile, flags, pOutFlags)
	f := (*sqlite3.Tsqlite3_file)(cptr(pFile))
	if rc != sqlite3.SQLITE_OK || flags&sqlite3.SQLITE_OPEN_WAL == 0 || f.FpMethods == 0 {
		return rc
	}
	table, err := walTableFor(tls, f.FpMethods)
	if err != nil {
		// No table of our own: the log is written as SQLite would.
		return rc
	}
	walFiles.Store(pFile, &walFile{real: f.FpMethods, name: libc.GoString(zName)})
	f.FpMethods = table
	return rc
}

// walTableFor is the method table wrapping real: real's methods, with the
// ones that touch the log's bytes replaced.
func walTableFor(tls *libc.TLS, real uintptr) (uintptr, error) {
	walVFSMu.Lock()
	defer walVFSMu.Unlock()
	if t, ok := walTables[real]; ok {
		return t, nil
	}
	p := libc.Xmalloc(tls, types.Size_t(unsafe.Sizeof(sqlite3.Tsqlite3_io_methods{})))
	if p == 0 {
		return 0, errors.New("out of memory")
	}
	m := (*sqlite3.Tsqlite3_io_methods)(cptr(p))
	*m = *(*sqlite3.Tsqlite3_io_methods)(cptr(real))
	*(*func(*libc.TLS, uintptr) int32)(unsafe.Pointer(&m.FxClose)) = walClose
	*(*func(*libc.TLS, uintptr, uintptr, int32, int64) int32)(unsafe.Pointer(&m.FxRead)) = walRead
	*(*func(*libc.TLS, uintptr, uintptr, int32, int64) int32)(unsafe.Pointer(&m.FxWrite)) = walWrite
	*(*func(*libc.TLS, uintptr, int64) int32)(unsafe.Pointer(&m.FxTruncate)) = walTruncate
	*(*func(*libc.TLS, uintptr, int32) int32)(unsafe.Pointer(&m.FxSync)) = walSync
	*(*func(*libc.TLS, uintptr, uintptr) int32)(unsafe.Pointer(&m.FxFileSize)) = walFileSize
	*(*func(*libc.TLS, uintptr, int32, uintptr) int32)(unsafe.Pointer(&m.FxFileControl)) = walFileControl
	walTables[real] = p
	return p, nil
}

func walState(pFile uintptr) *walFile {
	w, ok := walFiles.Load(pFile)
	if !ok {
		// Only files walOpen wrapped have this table.
		panic("sqlite WAL VFS: a file it did not open")
	}
	return w.(*walFile)
}

func (w *walFile) methods() *sqlite3.Tsqlite3_io_methods {
	return (*sqlite3.Tsqlite3_io_methods)(cptr(w.real))
}

// realWrite is the platform's xWrite.
func (w *walFile) realWrite(tls *libc.TLS, pFile, p uintptr, n int32, off int64) int32 {
	w.writes.Add(1)
	fn := w.methods().FxWrite
	return (*(*func(*libc.TLS, uintptr, uintptr, int32, int64) int32)(unsafe.Pointer(&fn)))(tls, pFile, p, n, off)
}

// flush writes the buffer out. The buffer is emptied even when the write
// fails: SQLite fails the transaction, and what it writes next starts from
// the frames it knows are in the file.
func (w *walFile) flush(tls *libc.TLS, pFile uintptr) int32 {
	if w.n == 0 {
		return sqlite3.SQLITE_OK
	}
	n, off := w.n, w.start
	w.n = 0
	return w.realWrite(tls, pFile, w.buf, int32(n), off)
}

func walWrite(tls *libc.TLS, pFile, pBuf uintptr, iAmt int32, iOfst int64) int32 {
	w := walState(pFile)
	commitPage := w.commit
	// A frame header is the only 24-byte write to a log (its header is 32
	// bytes, a page at least 512); bytes 4-7 are the database size in pages
	// after a commit, zero in every other frame.
	w.commit = iAmt == 24 && *(*[4]byte)(cptr(pBuf + 4)) != [4]byte{}
	if iAmt == 24 {
		w.frames.Add(1)
	}
	if iOfst == 0 {
		// The log starts again: everything after its header is dead.
		if rc := w.flush(tls, pFile); rc != sqlite3.SQLITE_OK {
			return rc
		}
		w.end = 0
	}
	if iOfst < w.end || int(iAmt) > walBufferMax {
		// Rewriting what is already there: straight to the file, after
		// the buffer (which may hold later bytes of the same frames).
		if rc := w.flush(tls, pFile); rc != sqlite3.SQLITE_OK {
			return rc
		}
		w.end = max(w.end, iOfst+int64(iAmt))
		return w.realWrite(tls, pFile, pBuf, iAmt, iOfst)
	}
	if w.n > 0 && (iOfst != w.start+int64(w.n) || w.n+int(iAmt) > walBufferMax) {
		if rc := w.flush(tls, pFile); rc != sqlite3.SQLITE_OK {
			return rc
		}
	}
	if w.n == 0 {
		w.start = iOfst
	}
	if need := w.n + int(iAmt); need > w.cap {
		c := max(64<<10, w.cap)
		for c < need {
			c *= 2
		}
		c = min(c, walBufferMax)
		p := libc.Xrealloc(tls, w.buf, types.Size_t(c))
		if p == 0 {
			// No memory for the buffer: write as SQLite would.
			if rc := w.flush(tls, pFile); rc != sqlite3.SQLITE_OK {
				return rc
			}
			w.end = max(w.end, iOfst+int64(iAmt))
			return w.realWrite(tls, pFile, pBuf, iAmt, iOfst)
		}
		w.buf, w.cap = p, c
	}
	copy(unsafe.Slice((*byte)(cptr(w.buf+uintptr(w.n))), iAmt), unsafe.Slice((*byte)(cptr(pBuf)), iAmt))
	w.n += int(iAmt)
	w.end = max(w.end, iOfst+int64(iAmt))
	if commitPage {
		return w.flush(tls, pFile)
	}
	return sqlite3.SQLITE_OK
}

func walRead(tls *libc.TLS, pFile, pBuf uintptr, iAmt int32, iOfst int64) int32 {
	w := walState(pFile)
	if rc := w.flush(tls, pFile); rc != sqlite3.SQLITE_OK {
		return rc
	}
	fn := w.methods().FxRead
	return (*(*func(*libc.TLS, uintptr, uintptr, int32, int64) int32)(unsafe.Pointer(&fn)))(tls, pFile, pBuf, iAmt, iOfst)
}

func walTruncate(tls *libc.TLS, pFile uintptr, size int64) int32 {
	w := walState(pFile)
	if rc := w.flush(tls, pFile); rc != sqlite3.SQLITE_OK {
		return rc
	}
	w.end = min(w.end, size)
	fn := w.methods().FxTruncate
	return (*(*func(*libc.TLS, uintptr, int64) int32)(unsafe.Pointer(&fn)))(tls, pFile, size)
}

func walSync(tls *libc.TLS, pFile uintptr, flags int32) int32 {
	w := walState(pFile)
	if rc := w.flush(tls, pFile); rc != sqlite3.SQLITE_OK {
		return rc
	}
	fn := w.methods().FxSync
	return (*(*func(*libc.TLS, uintptr, int32) int32)(unsafe.Pointer(&fn)))(tls, pFile, flags)
}

func walFileSize(tls *libc.TLS, pFile, pSize uintptr) int32 {
	w := walState(pFile)
	if rc := w.flush(tls, pFile); rc != sqlite3.SQLITE_OK {
		return rc
	}
	fn := w.methods().FxFileSize
	return (*(*func(*libc.TLS, uintptr, uintptr) int32)(unsafe.Pointer(&fn)))(tls, pFile, pSize)
}

func walFileControl(tls *libc.TLS, pFile uintptr, op int32, pArg uintptr) int32 {
	w := walState(pFile)
	if rc := w.flush(tls, pFile); rc != sqlite3.SQLITE_OK {
		return rc
	}
	fn := w.methods().FxFileControl
	return (*(*func(*libc.TLS, uintptr, int32, uintptr) int32)(unsafe.Pointer(&fn)))(tls, pFile, op, pArg)
}

func walClose(tls *libc.TLS, pFile uintptr) int32 {
	w := walState(pFile)
	rc := w.flush(tls, pFile)
	fn := w.methods().FxClose
	if crc := (*(*func(*libc.TLS, uintptr) int32)(unsafe.Pointer(&fn)))(tls, pFile); rc == sqlite3.SQLITE_OK {
		rc = crc
	}
	if w.buf != 0 {
		libc.Xfree(tls, w.buf)
	}
	walFiles.Delete(pFile)
	return rc
}

// cptr is C memory's address as a pointer. The memory is libc's or SQLite's,
// never Go's, so the collector neither moves nor frees it; reading the
// uintptr's bits (rather than converting it) says so to go vet.
func cptr(u uintptr) unsafe.Pointer { return *(*unsafe.Pointer)(unsafe.Pointer(&u)) }

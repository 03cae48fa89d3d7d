package loadtest

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// clockTick is USER_HZ, the unit of utime/stime in /proc/PID/stat. It is
// 100 on every Linux architecture Go supports (the kernel fixes it for the
// ABI whatever CONFIG_HZ is).
const clockTick = 10 * time.Millisecond

// procCPU returns the user+system CPU time of pid (and, with children, of
// its live child processes: a Postgres postmaster's backends) and pid's
// resident set size in kB. pid 0 means "not measured".
func procCPU(pid int, children bool) (time.Duration, int64, error) {
	if pid == 0 {
		return 0, 0, nil
	}
	cpu, _, err := statCPU(pid)
	if err != nil {
		return 0, 0, err
	}
	if children {
		entries, err := os.ReadDir("/proc")
		if err != nil {
			return 0, 0, fmt.Errorf("list /proc: %w", err)
		}
		for _, e := range entries {
			child, err := strconv.Atoi(e.Name())
			if err != nil || child == pid {
				continue
			}
			c, ppid, err := statCPU(child)
			if err == nil && ppid == pid {
				cpu += c
			}
		}
	}
	return cpu, rssKB(pid), nil
}

// statCPU parses utime and stime (fields 14 and 15) and the parent pid
// (field 4) of /proc/PID/stat. The command name (field 2) may contain
// spaces and parentheses, so fields are counted after its last ')'.
func statCPU(pid int) (cpu time.Duration, ppid int, err error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, 0, fmt.Errorf("read process %d stat (is it running, on this machine?): %w", pid, err)
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0, 0, fmt.Errorf("process %d: unexpected stat format", pid)
	}
	f := strings.Fields(s[i+1:]) // f[0] is field 3 (state)
	if len(f) < 13 {
		return 0, 0, fmt.Errorf("process %d: short stat", pid)
	}
	ppid, _ = strconv.Atoi(f[1])
	ut, err1 := strconv.ParseInt(f[11], 10, 64)
	st, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, 0, fmt.Errorf("process %d: bad cpu fields", pid)
	}
	return time.Duration(ut+st) * clockTick, ppid, nil
}

func rssKB(pid int) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			n, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return n
		}
	}
	return 0
}

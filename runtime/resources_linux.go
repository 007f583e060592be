//go:build linux

package runtime

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// resourceProcessCPU returns the process's user plus system CPU time from
// getrusage, or estimate if the call fails.
func resourceProcessCPU(estimate time.Duration) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return estimate
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// resourceCgroupMemoryLimit returns the memory limit of the process's
// cgroup, or 0 when there is none or it cannot be read.
func resourceCgroupMemoryLimit() uint64 {
	self, err := os.ReadFile("/proc/self/cgroup")
	if err != nil {
		return 0
	}
	return resourceCgroupLimitFrom(self, "/sys/fs/cgroup")
}

// resourceCgroupNoLimit is where cgroup v1 reports "unlimited" (the largest
// page-aligned int64); anything at or above it is no limit.
const resourceCgroupNoLimit = 1 << 62

// resourceCgroupLimitFrom finds the memory limit for the cgroup paths listed
// in self (the contents of /proc/self/cgroup) under the hierarchy mounted
// at root. Version 2 ("0::/path") reads memory.max, version 1
// ("N:memory:/path") reads memory/.../memory.limit_in_bytes. The limit of a
// cgroup is the smallest along its path to the root, and inside a container
// the listed path may not exist under the mount, so every ancestor is read
// and the smallest limit found wins.
func resourceCgroupLimitFrom(self []byte, root string) uint64 {
	var limit uint64
	take := func(v uint64) {
		if v > 0 && v < resourceCgroupNoLimit && (limit == 0 || v < limit) {
			limit = v
		}
	}
	for line := range bytes.Lines(self) {
		parts := strings.SplitN(strings.TrimSpace(string(line)), ":", 3)
		if len(parts) != 3 {
			continue
		}
		var base, file string
		switch {
		case parts[0] == "0" && parts[1] == "":
			base, file = root, "memory.max"
		case resourceHasController(parts[1], "memory"):
			base, file = filepath.Join(root, "memory"), "memory.limit_in_bytes"
		default:
			continue
		}
		for dir := filepath.Join(base, filepath.Clean("/"+parts[2])); ; dir = filepath.Dir(dir) {
			take(resourceReadLimit(filepath.Join(dir, file)))
			if dir == base || len(dir) <= len(base) {
				break
			}
		}
	}
	return limit
}

func resourceHasController(list, name string) bool {
	for c := range strings.SplitSeq(list, ",") {
		if c == name {
			return true
		}
	}
	return false
}

// resourceReadLimit parses a limit file; "max", a missing file or garbage
// all mean no limit.
func resourceReadLimit(path string) uint64 {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0
	}
	v, err := strconv.ParseUint(strings.TrimSpace(string(b)), 10, 64)
	if err != nil {
		return 0
	}
	return v
}

//go:build !linux

package runtime

import "time"

// resourceProcessCPU returns the runtime's own CPU estimate (user Go code,
// GC and scavenger) where getrusage is not used.
func resourceProcessCPU(estimate time.Duration) time.Duration { return estimate }

// resourceCgroupMemoryLimit reports no limit: cgroups are Linux-only.
func resourceCgroupMemoryLimit() uint64 { return 0 }

//go:build linux

package runtime

import (
	"os"
	"path/filepath"
	"testing"
)

func TestResourceCgroupLimitFrom(t *testing.T) {
	type file struct{ path, content string }
	tests := []struct {
		name  string
		self  string
		files []file
		want  uint64
	}{
		{"v2 limit", "0::/app\n", []file{{"app/memory.max", "1073741824\n"}}, 1 << 30},
		{"v2 max", "0::/app\n", []file{{"app/memory.max", "max\n"}}, 0},
		{"v2 container root", "0::/\n", []file{{"memory.max", "524288000\n"}}, 500 << 20},
		{"v2 parent tighter", "0::/a/b\n", []file{{"a/b/memory.max", "max"}, {"a/memory.max", "2097152"}}, 2 << 20},
		{"v2 path missing under mount", "0::/kubepods/pod1\n", []file{{"memory.max", "3145728"}}, 3 << 20},
		{"v1 nested", "12:cpu:/\n4:memory:/process_api/abc\n", []file{{"memory/process_api/abc/memory.limit_in_bytes", "268435456\n"}}, 256 << 20},
		{"v1 unlimited", "4:memory:/x\n", []file{{"memory/x/memory.limit_in_bytes", "9223372036854771712\n"}}, 0},
		{"v1 joint controllers", "5:memory,hugetlb:/y\n", []file{{"memory/y/memory.limit_in_bytes", "4194304"}}, 4 << 20},
		{"garbage", "4:memory:/x\n", []file{{"memory/x/memory.limit_in_bytes", "lots"}}, 0},
		{"no memory controller", "3:cpu:/x\nbroken line\n", nil, 0},
		{"hybrid takes the smaller", "0::/u\n4:memory:/v\n", []file{{"u/memory.max", "8388608"}, {"memory/v/memory.limit_in_bytes", "6291456"}}, 6 << 20},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := t.TempDir()
			for _, f := range tt.files {
				p := filepath.Join(root, f.path)
				if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(p, []byte(f.content), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			if got := resourceCgroupLimitFrom([]byte(tt.self), root); got != tt.want {
				t.Fatalf("limit %d; want %d", got, tt.want)
			}
		})
	}
	// The live system must not break the reader, whatever it finds.
	_ = resourceCgroupMemoryLimit()
}

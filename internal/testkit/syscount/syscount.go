// Package syscount counts the process's system calls, for the tests that
// check a claim about how many a write makes (one writev per batch).
package syscount

import (
	"bufio"
	"os"
	"strconv"
	"strings"
	"testing"
)

// Writes returns how many write system calls (write, writev and the like)
// the process has made, from Linux's /proc/self/io. It skips the test
// where the kernel does not count them. A test that compares two counts
// must not run in parallel with others that write.
func Writes(t testing.TB) int {
	t.Helper()
	f, err := os.Open("/proc/self/io")
	if err != nil {
		t.Skipf("no /proc/self/io to count system calls: %v", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "syscw: "); ok {
			n, err := strconv.Atoi(v)
			if err != nil {
				t.Fatal(err)
			}
			return n
		}
	}
	t.Skip("/proc/self/io has no syscw")
	return 0
}

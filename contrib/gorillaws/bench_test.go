package gorillaws_test

import (
	"fmt"
	"testing"

	"github.com/ssotkit/ssot/wsmanager/wsmanagertest"
)

// BenchmarkWrite is comparable across the adapters: the same loopback
// socket, client and message sizes.
func BenchmarkWrite(b *testing.B) {
	for _, size := range []int{128, 4096} {
		for _, parallel := range []bool{false, true} {
			b.Run(fmt.Sprintf("size=%d/parallel=%v", size, parallel), func(b *testing.B) {
				wsmanagertest.BenchWrite(b, newUpgrader(b, wsmanagertest.Options{}), size, parallel)
			})
		}
	}
}

// BenchmarkWriteMessages measures the writer's path, a batch per deadline,
// comparable across the adapters.
func BenchmarkWriteMessages(b *testing.B) {
	for _, batch := range []int{1, 16} {
		b.Run(fmt.Sprintf("size=128/batch=%d", batch), func(b *testing.B) {
			wsmanagertest.BenchWriteMessages(b, newUpgrader(b, wsmanagertest.Options{}), 128, batch)
		})
	}
}

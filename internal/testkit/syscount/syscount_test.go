package syscount

import (
	"os"
	"testing"
)

// TestWrites: a write system call moves the count by at least one.
func TestWrites(t *testing.T) {
	f, err := os.Create(t.TempDir() + "/f")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	before := Writes(t)
	if _, err := f.Write([]byte("x")); err != nil {
		t.Fatal(err)
	}
	if after := Writes(t); after <= before {
		t.Errorf("Writes = %d after a write, %d before; want more", after, before)
	}
}

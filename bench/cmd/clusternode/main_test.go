package main

import (
	"io"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestParseFlags(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		args    []string
		want    config
		wantErr bool
	}{
		{
			name: "defaults",
			args: []string{"-url", "nats://127.0.0.1:4222"},
			want: config{listen: "127.0.0.1:0", broker: "nats", url: "nats://127.0.0.1:4222", prefix: "bench.rolling", drain: 5 * time.Second},
		},
		{
			name: "redis, its drain",
			args: []string{"-broker", "redis", "-url", "redis://127.0.0.1:6379", "-drain", "2s", "-drain-interval", "200ms", "-listen", "127.0.0.1:8080"},
			want: config{listen: "127.0.0.1:8080", broker: "redis", url: "redis://127.0.0.1:6379", prefix: "bench.rolling", drain: 2 * time.Second, drainInterval: 200 * time.Millisecond},
		},
		{name: "no URL", args: []string{"-broker", "nats"}, wantErr: true},
		{name: "an unknown broker", args: []string{"-broker", "kafka", "-url", "x"}, wantErr: true},
		{name: "a malformed duration", args: []string{"-url", "x", "-drain", "soon"}, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := parseFlags(tt.args, io.Discard)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, want an error: %v", err, tt.wantErr)
			}
			if tt.wantErr {
				return
			}
			if diff := cmp.Diff(tt.want, got, cmp.AllowUnexported(config{})); diff != "" {
				t.Errorf("config (-want +got):\n%s", diff)
			}
		})
	}
}

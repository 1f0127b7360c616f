package main

import (
	"strings"
	"testing"

	"github.com/ssotkit/ssot/bench/internal/clusterresult"
)

func routingLine(broker string, nodes, node int, routed bool, received, needed int64) clusterresult.Line {
	return clusterresult.Line{Routing: &clusterresult.Routing{Broker: broker, Nodes: nodes, Node: node, Routed: routed, Received: received, Delivered: received, Needed: needed}}
}

func TestRoutingReportsEveryNodeBeforeAndAfter(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		lines    []clusterresult.Line
		want     []string
		wantMiss bool
	}{
		{
			name: "met",
			lines: []clusterresult.Line{
				routingLine("redis", 3, 0, false, 1500, 500), routingLine("redis", 3, 0, true, 500, 500),
				routingLine("redis", 3, 1, false, 1500, 500), routingLine("redis", 3, 1, true, 510, 500),
				routingLine("nats", 3, 0, false, 1500, 500), routingLine("nats", 3, 0, true, 500, 500),
			},
			want: []string{
				"| nats | 3 | 0 | 500 | 1500 | 3.00× | 500 | 1.00× |",
				"| redis | 3 | 1 | 500 | 1500 | 3.00× | 510 | 1.02× |",
				"- redis, N = 3, after: target met (the most any node received is 1.02× what it needs)",
				"- before: every node received about N× what it needs: met",
			},
		},
		{
			name: "what Redis reports",
			lines: []clusterresult.Line{
				routingLine("redis", 3, 0, false, 1500, 500), routingLine("redis", 3, 0, true, 500, 500),
				{RoutingServer: &clusterresult.RoutingServer{Broker: "redis", Nodes: 3, OutBytes: 3600}},
				{RoutingServer: &clusterresult.RoutingServer{Broker: "redis", Nodes: 3, Routed: true, OutBytes: 1000}},
			},
			want: []string{"| redis | 3 | 3600 | 1000 | 3.60× |"},
		},
		{
			name:     "a routed node receiving twice what it needs",
			lines:    []clusterresult.Line{routingLine("nats", 3, 0, false, 1500, 500), routingLine("nats", 3, 0, true, 1000, 500)},
			want:     []string{"- nats, N = 3, after: target **MISSED** (the most any node received is 2.00× what it needs)"},
			wantMiss: true,
		},
		{
			name:     "an unrouted node receiving only what it needs",
			lines:    []clusterresult.Line{routingLine("nats", 10, 0, false, 500, 500), routingLine("nats", 10, 0, true, 500, 500)},
			want:     []string{"- before: every node received about N× what it needs: **MISSED**"},
			wantMiss: true,
		},
		{
			name:  "not measured",
			lines: []clusterresult.Line{{Rolling: &clusterresult.Rolling{}}},
			want:  []string{"Not measured in this run."},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var sb strings.Builder
			miss := writeRouting(&sb, tt.lines)
			for _, want := range tt.want {
				if !strings.Contains(sb.String(), want) {
					t.Errorf("report lacks %q:\n%s", want, sb.String())
				}
			}
			if (miss != "") != tt.wantMiss {
				t.Errorf("miss = %q, want a miss: %v", miss, tt.wantMiss)
			}
		})
	}
}

func TestRollingReportsLossesAndThePace(t *testing.T) {
	t.Parallel()
	clean := clusterresult.Rolling{Log: "jetstream", Clients: 1000, Nodes: 3, DrainSeconds: 5, RatePerSecond: 1000, Messages: 9000, Received: 9000,
		Reconnects: 1900, MaxAcceptPerSec: 40, PacePerSec: 66.6, MaxAcceptRatio: 0.6, P50Millis: 2, P99Millis: 30, Seconds: 31}
	lossy, stampede := clean, clean
	lossy.Received, lossy.Lost = 8999, 1
	stampede.MaxAcceptPerSec, stampede.MaxAcceptRatio = 300, 4.5
	tests := []struct {
		name     string
		run      clusterresult.Rolling
		want     string
		wantMiss bool
	}{
		{"clean", clean, "- jetstream, 1000 clients: exactly once and in order: met; accept rate within 1.5× the pace: met", false},
		{"a message lost", lossy, "exactly once and in order: **MISSED**", true},
		{"a stampede", stampede, "accept rate within 1.5× the pace: **MISSED**", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var sb strings.Builder
			miss := writeRolling(&sb, []clusterresult.Line{{Rolling: &tt.run}})
			if !strings.Contains(sb.String(), tt.want) {
				t.Errorf("report lacks %q:\n%s", tt.want, sb.String())
			}
			if !strings.Contains(sb.String(), "| jetstream | 1000 | 3 | 5.0 s | 1000 | 9000 |") {
				t.Errorf("report lacks the run's row:\n%s", sb.String())
			}
			if (miss != "") != tt.wantMiss {
				t.Errorf("miss = %q, want a miss: %v", miss, tt.wantMiss)
			}
		})
	}
}

package main

import (
	"strings"
	"testing"
)

func TestValidRoom(t *testing.T) {
	t.Parallel()
	tests := []struct {
		room string
		want bool
	}{
		{"lobby", true},
		{"team-42", true},
		{strings.Repeat("a", 32), true},
		{strings.Repeat("a", 33), false},
		{"", false},
		{"-lobby", false},
		{"Lobby", false},
		{"lob by", false},
		{"lobby/../admin", false},
		{"lobby\n", false},
	}
	for _, tt := range tests {
		if got := validRoom(tt.room); got != tt.want {
			t.Errorf("validRoom(%q) = %v, want %v", tt.room, got, tt.want)
		}
	}
}

func TestValidUserName(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		want bool
	}{
		{"alice", true},
		{"Bob_2.x-y", true},
		{strings.Repeat("a", 32), true},
		{strings.Repeat("a", 33), false},
		{"", false},
		{"alice bob", false},
		{"<script>", false},
		{"álvaro", false},
		{"alice\x00", false},
	}
	for _, tt := range tests {
		if got := validUserName(tt.name); got != tt.want {
			t.Errorf("validUserName(%q) = %v, want %v", tt.name, got, tt.want)
		}
	}
}

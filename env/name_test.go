package env_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/ssotkit/ssot/env"
)

func TestEnvName(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		vars    map[string]string
		want    env.Name
		wantErr bool
	}{
		{"unset is development", nil, env.Development, false},
		{"dev", map[string]string{"ENVIRONMENT": "dev"}, env.Development, false},
		{"development", map[string]string{"ENVIRONMENT": "development"}, env.Development, false},
		{"test", map[string]string{"ENVIRONMENT": "test"}, env.Test, false},
		{"testing", map[string]string{"ENVIRONMENT": "testing"}, env.Test, false},
		{"stage", map[string]string{"ENVIRONMENT": "stage"}, env.Staging, false},
		{"staging", map[string]string{"ENVIRONMENT": "staging"}, env.Staging, false},
		{"prod", map[string]string{"ENVIRONMENT": "prod"}, env.Production, false},
		{"production", map[string]string{"ENVIRONMENT": "production"}, env.Production, false},
		{"case and spaces", map[string]string{"ENVIRONMENT": "  PRODUCTION "}, env.Production, false},
		{"set but empty is an error", map[string]string{"ENVIRONMENT": ""}, env.Production, true},
		{"typo is an error, not development", map[string]string{"ENVIRONMENT": "prodution"}, env.Production, true},
		{"unknown name", map[string]string{"ENVIRONMENT": "qa"}, env.Production, true},
		{"other keys are not read", map[string]string{"ENV": "production", "APP_ENV": "production"}, env.Development, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := env.Map(tt.vars).Name()
			if tt.wantErr {
				var fe *env.FieldError
				if !errors.Is(err, env.ErrInvalidValue) || !errors.As(err, &fe) || fe.Key != "ENVIRONMENT" {
					t.Fatalf("Name() = %v, %v; want a *FieldError for ENVIRONMENT wrapping ErrInvalidValue", got, err)
				}
				if v := tt.vars["ENVIRONMENT"]; v != "" && strings.Contains(err.Error(), v) {
					t.Errorf("error repeats the value: %v", err)
				}
				if got != env.Production {
					t.Errorf("Name() returned %v with its error; want production, so a dropped error fails closed", got)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Errorf("Name() = %v, %v; want %v", got, err, tt.want)
			}
		})
	}
}

func TestNameString(t *testing.T) {
	t.Parallel()
	tests := []struct {
		n    env.Name
		want string
	}{
		{env.Development, "development"},
		{env.Test, "test"},
		{env.Staging, "staging"},
		{env.Production, "production"},
		{env.Name(9), "env.Name(9)"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			t.Parallel()
			if got := tt.n.String(); got != tt.want {
				t.Errorf("String() = %q, want %q", got, tt.want)
			}
			// Every name String returns parses back to itself.
			if tt.n <= env.Production {
				back, err := env.ParseName(tt.n.String())
				if err != nil || back != tt.n {
					t.Errorf("ParseName(%q) = %v, %v", tt.n.String(), back, err)
				}
			}
		})
	}
}

func TestNameText(t *testing.T) {
	t.Parallel()
	text, err := env.Staging.MarshalText()
	if err != nil || string(text) != "staging" {
		t.Errorf("MarshalText = %q, %v", text, err)
	}
	if _, err := env.Name(7).MarshalText(); !errors.Is(err, env.ErrInvalidValue) {
		t.Errorf("MarshalText of an out-of-range Name = %v, want ErrInvalidValue", err)
	}
	n := env.Test
	if err := n.UnmarshalText([]byte("prod")); err != nil || n != env.Production {
		t.Errorf("UnmarshalText(prod) = %v, n = %v", err, n)
	}
	if _, err := env.ParseName("mars"); !errors.Is(err, env.ErrInvalidValue) {
		t.Errorf("ParseName(mars) = %v, want ErrInvalidValue", err)
	}
	n = env.Test
	if err := n.UnmarshalText([]byte("mars")); !errors.Is(err, env.ErrInvalidValue) || n != env.Test {
		t.Errorf("UnmarshalText(mars) = %v and n = %v; want ErrInvalidValue, n unchanged", err, n)
	}
}

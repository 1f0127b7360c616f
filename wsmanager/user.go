package wsmanager

import (
	"fmt"
	"unicode"
	"unicode/utf8"
)

// maxIDLen bounds UserID and ThreadID: they become map keys and log
// attributes, so an unbounded value would let a client inflate both.
const maxIDLen = 256

// UserContext names whose connection it is: the user, the conversation
// thread within that user's session, and the request that opened it. A
// Manager is bound to one (UserID, ThreadID) pair. UserContext is a plain
// value, safe to copy and share; the zero value is invalid (it has no
// UserID).
type UserContext struct {
	// UserID identifies the authenticated user; 1–256 bytes.
	UserID string
	// ThreadID separates concurrent conversations of one user; 0–256 bytes.
	ThreadID string
	// RequestID correlates logs; it is informational and not validated.
	RequestID string
}

// Validate returns an error wrapping ErrInvalidUser unless UserID is 1–256
// bytes and ThreadID 0–256 bytes of valid UTF-8 without control characters.
// The error names the field, never its value.
func (uc UserContext) Validate() error {
	if uc.UserID == "" {
		return fmt.Errorf("%w: UserID is empty", ErrInvalidUser)
	}
	if !validID(uc.UserID) {
		return fmt.Errorf("%w: UserID is longer than %d bytes, not UTF-8 or contains control characters", ErrInvalidUser, maxIDLen)
	}
	if !validID(uc.ThreadID) {
		return fmt.Errorf("%w: ThreadID is longer than %d bytes, not UTF-8 or contains control characters", ErrInvalidUser, maxIDLen)
	}
	return nil
}

func validID(s string) bool {
	if len(s) > maxIDLen || !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if unicode.IsControl(r) {
			return false
		}
	}
	return true
}

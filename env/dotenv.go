package env

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strconv"
	"strings"
)

// Parse reads a dotenv file from r. name labels its errors and is the
// Source of every key it sets (an empty name is reported as "dotenv").
//
// The format, line by line:
//
//	# a comment line; blank lines are ignored
//	KEY=value                 unquoted: surrounding spaces trimmed
//	KEY=value # note          a # after a space or tab starts a comment
//	export KEY=value          "export " is accepted and ignored
//	KEY='literal $HOME \n'    single quotes: every byte literal, may span lines
//	KEY="a\tb\n\"c\" \\ \$"   double quotes: escapes \n \r \t \" \\ \$, may span lines
//	KEY=                      set to the empty string
//
// Keys are ASCII letters, digits, '_' and '.', not starting with a digit;
// spaces around '=' are allowed. Lines may end in LF or CRLF (CRLF inside a
// quoted value becomes LF), and a leading UTF-8 byte order mark is skipped.
// A key set twice in one file is an error, since which one was meant is a
// guess.
//
// Nothing is ever expanded or executed: $VAR, ${VAR}, $(command) and
// `command` are kept as literal text in every kind of value. A file that
// would need expansion to mean something is configuration to fix, not to
// run.
//
// A malformed file yields every problem at once: an errors.Join of one
// *SyntaxError (wrapping ErrSyntax) per malformed entry, each naming the file
// and the line the entry starts on, never the text of a line. Parsing
// resumes on the line after a malformed entry; an unterminated quoted value
// runs to the end of the file, so it is the last problem reported. An error
// reading r is returned wrapped, naming name.
func Parse(name string, r io.Reader) (Env, error) {
	if name == "" {
		name = "dotenv"
	}
	if r == nil {
		return Env{}, fmt.Errorf("%w: Parse of %s was given a nil reader", ErrInvalidTarget, name)
	}
	data, err := io.ReadAll(r)
	if err != nil {
		return Env{}, fmt.Errorf("env: reading %s: %w", name, err)
	}
	return parseDotenv(name, string(data))
}

// Load parses the dotenv file at path (see Parse); path is the Source of
// every key it sets. A file that cannot be read is an error that wraps the
// os error, so errors.Is(err, fs.ErrNotExist) tells a missing file apart.
// Values are never expanded: see Parse.
func Load(path string) (Env, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return Env{}, fmt.Errorf("env: loading dotenv file: %w", err)
	}
	return parseDotenv(path, string(data))
}

// LoadOptional is Load for a file that may be absent, such as a developer's
// .env: when nothing at all exists at path it returns an empty Env and no
// error. Everything else is as Load: a file that exists but cannot be read,
// a directory, a malformed file, and a symbolic link whose target is missing
// (someone put it there meaning a file to be read) are errors. A path a user
// named explicitly, say with a command-line flag, must exist: read it with
// Load.
func LoadOptional(path string) (Env, error) {
	if _, err := os.Lstat(path); errors.Is(err, fs.ErrNotExist) {
		return Env{}, nil
	}
	return Load(path)
}

// dotenvParser walks the file once; quoted values may span lines, so it
// works on the whole text rather than line by line.
type dotenvParser struct {
	name string
	src  string
	pos  int
	line int
}

func parseDotenv(name, src string) (Env, error) {
	p := dotenvParser{name: name, src: strings.TrimPrefix(src, "\uFEFF"), line: 1}
	vars := make(map[string]entry)
	firstLine := make(map[string]int)
	var errs []error
	for {
		p.skipBlank()
		if p.pos >= len(p.src) {
			break
		}
		if p.src[p.pos] == '#' {
			p.skipToEOL()
			_ = p.endLine() // cannot fail: skipToEOL stops at a line end
			continue
		}
		start := p.line
		key, value, err := p.entry()
		if err != nil {
			errs = append(errs, err)
			// Resume on the line after the malformed entry.
			p.skipToEOL()
			_ = p.endLine()
			continue
		}
		if first, dup := firstLine[key]; dup {
			errs = append(errs, p.errorAt(start, key+" is set twice (first on line "+strconv.Itoa(first)+")"))
			continue
		}
		firstLine[key] = start
		vars[key] = entry{value: value, source: name}
	}
	if errs != nil {
		return Env{}, errors.Join(errs...)
	}
	return Env{vars: vars}, nil
}

// entry parses one KEY=value entry and the end of its line.
func (p *dotenvParser) entry() (key, value string, err error) {
	start := p.line
	if rest := p.src[p.pos:]; strings.HasPrefix(rest, "export") && len(rest) > 6 && isSpace(rest[6]) {
		p.pos += 6
		p.skipSpaces()
	}
	k := p.pos
	for p.pos < len(p.src) && isKeyByte(p.src[p.pos]) {
		p.pos++
	}
	key = p.src[k:p.pos]
	if key == "" || isDigit(key[0]) {
		return "", "", p.errorAt(start, "expected KEY=value with a key of letters, digits, '_' or '.'")
	}
	p.skipSpaces()
	if p.pos >= len(p.src) || p.src[p.pos] != '=' {
		// The line may be a stray piece of a value, so even its first word
		// is not repeated.
		return "", "", p.errorAt(start, "expected KEY=value")
	}
	p.pos++
	spaced := p.skipSpaces()
	if p.pos >= len(p.src) {
		return key, "", nil
	}
	switch c := p.src[p.pos]; {
	case c == '\'':
		value, err = p.singleQuoted(start)
	case c == '"':
		value, err = p.doubleQuoted(start)
	case c == '#' && spaced:
		p.skipToEOL()
	default:
		value = p.unquoted()
	}
	if err != nil {
		return "", "", err
	}
	p.skipSpaces()
	if p.pos < len(p.src) && p.src[p.pos] == '#' {
		p.skipToEOL()
	}
	if err := p.endLine(); err != nil {
		return "", "", p.errorAt(start, "unexpected text after the closing quote of "+key)
	}
	return key, value, nil
}

func (p *dotenvParser) singleQuoted(start int) (string, error) {
	end := strings.IndexByte(p.src[p.pos+1:], '\'')
	if end < 0 {
		p.pos = len(p.src) // the value swallowed the rest of the file
		return "", p.errorAt(start, "unterminated single-quoted value")
	}
	raw := p.src[p.pos+1 : p.pos+1+end]
	p.line += strings.Count(raw, "\n")
	p.pos += end + 2
	return strings.ReplaceAll(raw, "\r\n", "\n"), nil
}

func (p *dotenvParser) doubleQuoted(start int) (string, error) {
	var b strings.Builder
	badEscape := false
	i := p.pos + 1
	for i < len(p.src) {
		c := p.src[i]
		switch c {
		case '"':
			p.pos = i + 1
			if badEscape {
				// Reported once the value has ended, so that parsing
				// resumes after it rather than inside it.
				return "", p.errorAt(start, `unknown escape sequence in double-quoted value (known: \n \r \t \" \\ \$; single quotes take backslashes literally)`)
			}
			return b.String(), nil
		case '\\':
			if i+1 >= len(p.src) {
				i++
				continue
			}
			switch p.src[i+1] {
			case 'n':
				b.WriteByte('\n')
			case 'r':
				b.WriteByte('\r')
			case 't':
				b.WriteByte('\t')
			case '"', '\\', '$':
				b.WriteByte(p.src[i+1])
			case '\n':
				p.line++
				badEscape = true
			default:
				badEscape = true
			}
			i += 2
		case '\r':
			if i+1 < len(p.src) && p.src[i+1] == '\n' {
				i++ // CRLF inside quotes becomes LF, as in the rest of the file
				continue
			}
			b.WriteByte(c)
			i++
		case '\n':
			p.line++
			b.WriteByte(c)
			i++
		default:
			b.WriteByte(c)
			i++
		}
	}
	p.pos = len(p.src) // the value swallowed the rest of the file
	return "", p.errorAt(start, "unterminated double-quoted value")
}

// unquoted reads to the end of the line, stopping at a '#' that follows a
// space or tab, and trims trailing spaces.
func (p *dotenvParser) unquoted() string {
	start := p.pos
	end := p.pos
	for p.pos < len(p.src) {
		c := p.src[p.pos]
		if c == '\n' || (c == '\r' && p.pos+1 < len(p.src) && p.src[p.pos+1] == '\n') {
			break
		}
		if c == '#' && p.pos > start && isSpace(p.src[p.pos-1]) {
			p.skipToEOL()
			break
		}
		p.pos++
		if !isSpace(c) {
			end = p.pos
		}
	}
	return p.src[start:end]
}

// skipBlank skips spaces, tabs and empty lines.
func (p *dotenvParser) skipBlank() {
	for p.pos < len(p.src) {
		p.skipSpaces()
		if p.endLine() != nil || p.pos >= len(p.src) {
			return
		}
	}
}

// skipSpaces skips spaces and tabs and reports whether there were any.
func (p *dotenvParser) skipSpaces() bool {
	start := p.pos
	for p.pos < len(p.src) && isSpace(p.src[p.pos]) {
		p.pos++
	}
	return p.pos > start
}

func (p *dotenvParser) skipToEOL() {
	for p.pos < len(p.src) && p.src[p.pos] != '\n' {
		if p.src[p.pos] == '\r' && p.pos+1 < len(p.src) && p.src[p.pos+1] == '\n' {
			return
		}
		p.pos++
	}
}

// endLine consumes an LF, a CRLF or the end of input; anything else is an
// error (the caller names it).
func (p *dotenvParser) endLine() error {
	rest := p.src[p.pos:]
	switch {
	case rest == "":
		return nil
	case rest[0] == '\n':
		p.pos++
	case strings.HasPrefix(rest, "\r\n"):
		p.pos += 2
	default:
		return ErrSyntax
	}
	p.line++
	return nil
}

func (p *dotenvParser) errorAt(line int, reason string) error {
	return &SyntaxError{Name: p.name, Line: line, Reason: reason}
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' }
func isDigit(c byte) bool { return '0' <= c && c <= '9' }

func isKeyByte(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || isDigit(c) || c == '_' || c == '.'
}

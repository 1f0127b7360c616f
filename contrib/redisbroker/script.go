package redisbroker

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/redis/go-redis/v9"

	"github.com/ssotkit/ssot/wsmanager"
)

// The Lua scripts of the Log. Both take KEYS[1], a user's stream, and
// KEYS[2], the hash beside it that holds the stream's epoch (field e) and
// the ID of the last entry appended (field l, absent before the first). A
// stream's epoch is replaced when there is none, or when the stream is
// gone although something was appended to it: its history was lost
// (deleted, evicted, expired), so no position of the old epoch can be
// resumed from.
const epochLua = `
local function epoch(candidate, maxage)
  local f = redis.call('HMGET', KEYS[2], 'e', 'l')
  if f[1] and (not f[2] or redis.call('EXISTS', KEYS[1]) == 1) then
    return f[1], f[2] or '0-0'
  end
  redis.call('DEL', KEYS[2])
  redis.call('HSET', KEYS[2], 'e', candidate)
  if maxage > 0 then
    redis.call('PEXPIRE', KEYS[2], maxage)
  end
  return candidate, '0-0'
end
`

// appendLua stores an entry, with the ID of the entry before it (field p)
// so that a reader can tell whether anything between two entries is
// missing, and then publishes it on the user's live channel, atomically.
// ARGV: the channel, an epoch candidate, MAXLEN, the maximum age in
// milliseconds (0 for none), the thread, the envelope, and PUBLISH or
// SPUBLISH. It returns the epoch and the entry's ID.
const appendLua = epochLua + `
local maxage = tonumber(ARGV[4])
local e, prev = epoch(ARGV[2], maxage)
local id = redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[3], '*', 't', ARGV[5], 'p', prev, 'm', ARGV[6])
local ms, sq = string.match(id, '^(%d+)-(%d+)$')
if tonumber(sq) >= 1048576 then
  redis.call('XDEL', KEYS[1], id)
  return redis.error_reply('ERR more than 2^20 entries of one stream in one millisecond')
end
redis.call('HSET', KEYS[2], 'l', id)
if maxage > 0 then
  redis.call('XTRIM', KEYS[1], 'MINID', '~', string.format('%.0f', tonumber(ms) - maxage))
  redis.call('PEXPIRE', KEYS[1], maxage)
  redis.call('PEXPIRE', KEYS[2], maxage)
end
redis.call(ARGV[7], ARGV[1], e .. ' ' .. id .. ' ' .. string.len(ARGV[5]) .. ' ' .. ARGV[5] .. ARGV[6])
return {e, id}
`

// headLua returns a stream's epoch (made if there is none, as appendLua
// would) and the ID of its last entry appended ("0-0" for none). ARGV: an
// epoch candidate, the maximum age in milliseconds.
const headLua = epochLua + `
local e, last = epoch(ARGV[1], tonumber(ARGV[2]))
return {e, last}
`

// seqBits is how many low bits of a Position's Seq hold the sequence part
// of a stream entry's ID; the milliseconds part is above them.
const seqBits = 20

// seqOf maps a stream entry ID, "<ms>-<seq>", to a Position's Seq.
func seqOf(id string) (uint64, error) {
	msText, seqText, ok := strings.Cut(id, "-")
	ms, err1 := strconv.ParseUint(msText, 10, 64)
	seq, err2 := strconv.ParseUint(seqText, 10, 64)
	if !ok || err1 != nil || err2 != nil || seq >= 1<<seqBits || ms >= 1<<(64-seqBits) {
		return 0, fmt.Errorf("redisbroker: stream entry ID %q out of range", id)
	}
	return ms<<seqBits | seq, nil
}

// idOf maps a Position's Seq back to its stream entry ID.
func idOf(seq uint64) string {
	return strconv.FormatUint(seq>>seqBits, 10) + "-" + strconv.FormatUint(seq&(1<<seqBits-1), 10)
}

// scriptReply reads the {epoch, id, ...} reply of a script.
func scriptReply(v any) (wsmanager.Position, []any, error) {
	vals, ok := v.([]any)
	if !ok || len(vals) < 2 {
		return wsmanager.Position{}, nil, errors.New("redisbroker: unexpected script reply")
	}
	eText, _ := vals[0].(string)
	idText, _ := vals[1].(string)
	epoch, err := strconv.ParseUint(eText, 10, 64)
	if err != nil {
		return wsmanager.Position{}, nil, errors.New("redisbroker: unexpected epoch in the script reply")
	}
	seq, err := seqOf(idText)
	if err != nil {
		return wsmanager.Position{}, nil, err
	}
	return wsmanager.Position{Epoch: epoch, Seq: seq}, vals[2:], nil
}

// isNoScript reports whether err is Redis's answer to an EVALSHA of a
// script it does not hold.
func isNoScript(err error) bool {
	e, ok := errors.AsType[redis.Error](err)
	return ok && strings.HasPrefix(e.Error(), "NOSCRIPT")
}

// liveMessage is what the append script publishes on a user's live
// channel: "<epoch> <id> <len(thread)> <thread><envelope>".
type liveMessage struct {
	pos    wsmanager.Position
	thread string
	msg    string
}

// parseLive reads a live message; it reports false for one the append
// script did not publish.
func parseLive(payload string) (liveMessage, bool) {
	eText, rest, ok1 := strings.Cut(payload, " ")
	id, rest, ok2 := strings.Cut(rest, " ")
	nText, rest, ok3 := strings.Cut(rest, " ")
	if !ok1 || !ok2 || !ok3 {
		return liveMessage{}, false
	}
	epoch, err1 := strconv.ParseUint(eText, 10, 64)
	n, err2 := strconv.Atoi(nText)
	seq, err3 := seqOf(id)
	if err1 != nil || err2 != nil || err3 != nil || n < 0 || n > len(rest) || epoch == 0 {
		return liveMessage{}, false
	}
	return liveMessage{pos: wsmanager.Position{Epoch: epoch, Seq: seq}, thread: rest[:n], msg: rest[n:]}, true
}

// formatLive is the live message of an entry read from the stream.
func formatLive(pos wsmanager.Position, thread, msg string) string {
	return strconv.FormatUint(pos.Epoch, 10) + " " + idOf(pos.Seq) + " " + strconv.Itoa(len(thread)) + " " + thread + msg
}

package shopifyapi

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

const (
	defaultMaxLineSize = 64 << 20
	initialLineBuffer  = 256 << 10
)

// Position is how far a result has been read: Offset bytes, which hold Line lines. A sync
// that records the Position of the last line it has handled can reopen the result there
// (OpenResultAt) after a crash.
type Position struct {
	Offset int64
	Line   int64
}

// Line is one line of a bulk result: one JSON object.
type Line struct {
	// Raw is the object, without its line ending. It is valid only until the next call to
	// Next: copy it (bytes.Clone) to keep it.
	Raw []byte
	// Number is the line's 1-based number in the file.
	Number int64
	// Offset is the byte offset just after the line (its newline included): the place to
	// resume after this line.
	Offset int64
	// ID is the object's top-level "id", a GID; "" for objects without one (e.g. discount
	// applications).
	ID string
	// ParentID is "__parentId": the GID of the object this one was nested under in the
	// query; "" for root objects. The parent may come later in the file, or never (a
	// truncated nested connection): reassemble by id, never by order.
	ParentID string
	// Type is the resource type of ID ("ProductVariant"); "" without an ID.
	Type string
}

// Position is where a reader stands after this line.
func (l Line) Position() Position { return Position{Offset: l.Offset, Line: l.Number} }

// ResultReader yields a bulk operation's JSONL result one line at a time, in constant memory
// whatever the file's size (one buffer, grown to the longest line). A download that breaks
// off is resumed from the last byte received with a Range request, up to Config.MaxRetries
// times without progress; the lines come out exactly once either way. It is not safe for
// concurrent use.
type ResultReader struct {
	body    *resumableBody
	sc      *bufio.Scanner
	pos     Position
	maxLine int
	err     error
}

// OpenResult starts downloading a bulk result (a BulkOperation's URL or PartialDataURL) and
// returns a reader of its lines. ctx bounds the whole download, not just the opening. The
// URL is signed: it is fetched without the access token, and left out of errors and logs.
func (c *Client) OpenResult(ctx context.Context, resultURL string) (*ResultReader, error) {
	return c.OpenResultAt(ctx, resultURL, Position{})
}

// OpenResultAt opens a result at from, a Position a previous reader reached (Line.Position
// of the last line handled): it asks for the bytes from from.Offset with a Range header (or
// skips them, if the server ignores Range), and numbers lines from from.Line+1.
func (c *Client) OpenResultAt(ctx context.Context, resultURL string, from Position) (*ResultReader, error) {
	u, err := url.Parse(resultURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") {
		return nil, fmt.Errorf("shopifyapi: shop %s: %q is not a result URL", c.shop, redactURL(resultURL))
	}
	if from.Offset < 0 || from.Line < 0 {
		return nil, fmt.Errorf("shopifyapi: negative result position %+v", from)
	}
	b := &resumableBody{c: c, ctx: ctx, url: resultURL, off: from.Offset, end: -1}
	if err := b.open(); err != nil {
		return nil, err
	}
	sc := bufio.NewScanner(b)
	sc.Buffer(make([]byte, 0, min(initialLineBuffer, c.maxLine)), c.maxLine)
	sc.Split(scanLineKeepEOL)
	return &ResultReader{body: b, sc: sc, pos: from, maxLine: c.maxLine}, nil
}

// Next returns the next line, or io.EOF after the last one. Blank lines are skipped (they
// still count in line numbers and offsets). A line that is not a JSON object, or is longer
// than Config.MaxLineSize, is an error, and so is a download that could not be resumed;
// errors are final, and release the connection.
func (r *ResultReader) Next() (Line, error) {
	l, err := r.next()
	if err != nil {
		r.body.close() // errors are final: let the connection go
	}
	return l, err
}

func (r *ResultReader) next() (Line, error) {
	for {
		if r.err != nil {
			return Line{}, r.err
		}
		if !r.sc.Scan() {
			switch err := r.sc.Err(); {
			case err == nil:
				r.err = io.EOF
			case errors.Is(err, bufio.ErrTooLong):
				r.err = fmt.Errorf("shopifyapi: result line %d is longer than %d bytes: %w", r.pos.Line+1, r.maxLine, err)
			default:
				r.err = err
			}
			return Line{}, r.err
		}
		tok := r.sc.Bytes()
		if tok[len(tok)-1] != '\n' && !r.body.eof {
			// bufio.Scanner hands out what it holds when a read fails: not a line.
			r.err = r.body.err
			if r.err == nil {
				r.err = fmt.Errorf("shopifyapi: result ended inside line %d", r.pos.Line+1)
			}
			return Line{}, r.err
		}
		r.pos.Offset += int64(len(tok))
		r.pos.Line++
		raw := trimEOL(tok)
		if len(bytes.TrimSpace(raw)) == 0 {
			continue
		}
		id, parent, err := lineKeys(raw)
		if err != nil {
			r.err = fmt.Errorf("shopifyapi: result line %d (ending at byte %d): %w", r.pos.Line, r.pos.Offset, err)
			return Line{}, r.err
		}
		l := Line{Raw: raw, Number: r.pos.Line, Offset: r.pos.Offset, ID: id, ParentID: parent}
		if g, ok := ParseGID(id); ok {
			l.Type = g.Type
		}
		return l, nil
	}
}

// Position is how far the reader has read: after the last line Next returned (or skipped).
// At io.EOF it is the whole file, for BulkOperation.CheckRead.
func (r *ResultReader) Position() Position { return r.pos }

// Close stops the download.
func (r *ResultReader) Close() error {
	r.body.close()
	if r.err == nil {
		r.err = errors.New("shopifyapi: result reader closed")
	}
	return nil
}

// lineKeys reads the top-level "id" and "__parentId" of a JSON object, checking the whole
// line is valid JSON. json.Valid does not allocate; a hand-written walk over the top level
// then finds the two keys, so a line costs two small strings instead of a full decode. Anything
// unusual (escapes in those keys' values, a non-string id) takes encoding/json's path.
func lineKeys(raw []byte) (id, parent string, err error) {
	if !json.Valid(raw) {
		var v any
		err := json.Unmarshal(raw, &v) // for json's own description of what is wrong
		if err == nil {
			err = errors.New("invalid JSON")
		}
		return "", "", err
	}
	i := skipSpace(raw, 0)
	if raw[i] != '{' {
		return "", "", errors.New("not a JSON object")
	}
	i++
	var idRaw, parentRaw []byte
	for {
		i = skipSpace(raw, i)
		if raw[i] == '}' {
			break
		}
		keyEnd := skipString(raw, i)
		key := raw[i+1 : keyEnd-1]
		i = skipSpace(raw, keyEnd) + 1 // the colon
		i = skipSpace(raw, i)
		valEnd := skipValue(raw, i)
		switch string(key) {
		case "id":
			idRaw = raw[i:valEnd]
		case "__parentId":
			parentRaw = raw[i:valEnd]
		}
		i = skipSpace(raw, valEnd)
		if raw[i] == ',' {
			i++
		}
	}
	if id, err = plainString(idRaw); err != nil {
		return "", "", fmt.Errorf("id: %w", err)
	}
	if parent, err = plainString(parentRaw); err != nil {
		return "", "", fmt.Errorf("__parentId: %w", err)
	}
	return id, parent, nil
}

// plainString decodes a JSON string value (or null, or nothing) known to be valid JSON.
func plainString(v []byte) (string, error) {
	if len(v) == 0 || string(v) == "null" {
		return "", nil
	}
	if v[0] == '"' && bytes.IndexByte(v, '\\') < 0 {
		return string(v[1 : len(v)-1]), nil
	}
	var s string
	err := json.Unmarshal(v, &s)
	return s, err
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// skipString returns the index after the string that opens at b[i] (valid JSON).
func skipString(b []byte, i int) int {
	for i++; i < len(b); i++ {
		switch b[i] {
		case '\\':
			i++
		case '"':
			return i + 1
		}
	}
	return i
}

// skipValue returns the index after the value that starts at b[i] (valid JSON).
func skipValue(b []byte, i int) int {
	switch b[i] {
	case '"':
		return skipString(b, i)
	case '{', '[':
		depth := 0
		for i < len(b) {
			switch b[i] {
			case '"':
				i = skipString(b, i)
				continue
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return i + 1
				}
			}
			i++
		}
		return i
	default: // number, true, false, null
		for i < len(b) && b[i] != ',' && b[i] != '}' && b[i] != ']' && b[i] != ' ' && b[i] != '\t' && b[i] != '\n' && b[i] != '\r' {
			i++
		}
		return i
	}
}

// scanLineKeepEOL splits at '\n' keeping it, so offsets count every byte; a last line without
// a newline is a line too.
func scanLineKeepEOL(data []byte, atEOF bool) (int, []byte, error) {
	if i := bytes.IndexByte(data, '\n'); i >= 0 {
		return i + 1, data[:i+1], nil
	}
	if atEOF && len(data) > 0 {
		return len(data), data, nil
	}
	return 0, nil, nil
}

func trimEOL(b []byte) []byte {
	b = bytes.TrimSuffix(b, []byte{'\n'})
	return bytes.TrimSuffix(b, []byte{'\r'})
}

// resumableBody is the result's bytes from off on, across as many HTTP responses as it
// takes: when one breaks off (an error, a body shorter than announced, a silent server), the
// next asks for the rest with a Range header.
type resumableBody struct {
	c        *Client
	ctx      context.Context
	url      string
	off      int64 // absolute offset of the next byte to deliver
	end      int64 // absolute offset the current response should reach; -1 if unknown
	etag     string
	body     io.ReadCloser
	cancel   context.CancelFunc
	dog      *watchdog
	failures int // consecutive failures without a byte of progress
	eof      bool
	err      error // the final error Read returned
}

// errFinal marks a download error retrying cannot fix.
type errFinal struct{ err error }

func (e errFinal) Error() string { return e.err.Error() }
func (e errFinal) Unwrap() error { return e.err }

func (b *resumableBody) Read(p []byte) (int, error) {
	n, err := b.read(p)
	if err != nil && err != io.EOF {
		b.err = err
	}
	return n, err
}

func (b *resumableBody) read(p []byte) (int, error) {
	for {
		if b.eof {
			return 0, io.EOF
		}
		if b.body == nil {
			if err := b.open(); err != nil {
				return 0, err
			}
			continue
		}
		b.dog.arm()
		n, err := b.body.Read(p)
		b.dog.disarm()
		b.off += int64(n)
		if n > 0 {
			b.failures = 0
		}
		if err == nil {
			return n, nil
		}
		if err == io.EOF && (b.end < 0 || b.off >= b.end) {
			b.close()
			b.eof = true
			return n, io.EOF
		}
		if err == io.EOF {
			err = fmt.Errorf("response ended at byte %d of %d: %w", b.off, b.end, io.ErrUnexpectedEOF)
		}
		b.close()
		if b.ctx.Err() != nil {
			return n, b.ctx.Err()
		}
		if ferr := b.fail(err, 0); ferr != nil {
			return n, ferr
		}
		if n > 0 {
			return n, nil
		}
	}
}

// open gets a response that starts at off, retrying what can be retried.
func (b *resumableBody) open() error {
	for {
		err := b.try()
		if err == nil {
			return nil
		}
		var final errFinal
		if errors.As(err, &final) {
			return final.err
		}
		if b.ctx.Err() != nil {
			return b.ctx.Err()
		}
		var retryAfter time.Duration
		var he *HTTPError
		if errors.As(err, &he) {
			retryAfter = he.RetryAfter
		}
		if ferr := b.fail(err, retryAfter); ferr != nil {
			return ferr
		}
	}
}

// fail counts a failure and waits before the next attempt, or gives up.
func (b *resumableBody) fail(err error, retryAfter time.Duration) error {
	err = redactURLError(err)
	if b.failures++; b.failures > b.c.maxRetries {
		return fmt.Errorf("shopifyapi: shop %s: downloading %s: giving up at byte %d after %d attempts: %w",
			b.c.shop, redactURL(b.url), b.off, b.failures, err)
	}
	wait := max(b.c.backoff(b.failures), retryAfter)
	b.c.log.Warn("shopify: bulk result download interrupted, resuming", "err", err, "offset", b.off, "attempt", b.failures, "wait", wait)
	if err := b.c.clock.Sleep(b.ctx, wait); err != nil {
		return err
	}
	return nil
}

func (b *resumableBody) try() error {
	ctx, cancel := context.WithCancel(b.ctx)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, b.url, nil)
	if err != nil {
		cancel()
		return errFinal{err}
	}
	req.Header.Set("User-Agent", "storeline-shopifyapi")
	if b.off > 0 {
		req.Header.Set("Range", "bytes="+strconv.FormatInt(b.off, 10)+"-")
	}
	dog := newWatchdog(b.c.timeout, cancel)
	dog.arm()
	resp, err := b.c.dl.Do(req)
	dog.disarm()
	if err != nil {
		cancel()
		return err
	}
	drop := func(err error) error {
		resp.Body.Close()
		cancel()
		return err
	}
	if etag := resp.Header.Get("ETag"); etag != "" && resp.StatusCode/100 == 2 {
		if b.etag != "" && etag != b.etag {
			return drop(errFinal{fmt.Errorf("shopifyapi: shop %s: result %s changed while downloading (ETag %s, then %s)",
				b.c.shop, redactURL(b.url), b.etag, etag)})
		}
		b.etag = etag
	}
	switch status := resp.StatusCode; {
	case status == http.StatusPartialContent:
		start, last, _, ok := parseContentRange(resp.Header.Get("Content-Range"))
		if !ok || start != b.off {
			return drop(errFinal{fmt.Errorf("shopifyapi: shop %s: asked %s for bytes from %d, got Content-Range %q",
				b.c.shop, redactURL(b.url), b.off, resp.Header.Get("Content-Range"))})
		}
		b.end = last + 1
	case status == http.StatusOK:
		b.end = -1
		if resp.ContentLength >= 0 {
			b.end = resp.ContentLength
		}
		if b.off > 0 { // Range ignored: the whole file again; skip what was delivered
			dog.arm()
			_, err := io.CopyN(io.Discard, resp.Body, b.off)
			dog.disarm()
			if err != nil {
				return drop(fmt.Errorf("skipping to byte %d: %w", b.off, err))
			}
		}
	case status == http.StatusRequestedRangeNotSatisfiable && b.off > 0:
		if _, _, total, ok := parseContentRange(resp.Header.Get("Content-Range")); ok && total == b.off {
			b.eof = true // resumed exactly at the end
			return drop(nil)
		}
		return drop(errFinal{fmt.Errorf("shopifyapi: shop %s: %s has no byte %d (Content-Range %q)",
			b.c.shop, redactURL(b.url), b.off, resp.Header.Get("Content-Range"))})
	default:
		raw, _ := io.ReadAll(io.LimitReader(resp.Body, errorBodyBytes))
		he := b.c.httpError(b.url, status, raw, parseRetryAfter(resp.Header.Get("Retry-After"), b.c.clock.Now()))
		if status == http.StatusTooManyRequests || status >= 500 {
			return drop(he)
		}
		return drop(errFinal{he})
	}
	b.body, b.cancel, b.dog = resp.Body, cancel, dog
	return nil
}

func (b *resumableBody) close() {
	if b.body != nil {
		b.body.Close()
		b.cancel()
		b.dog.disarm()
		b.body, b.cancel, b.dog = nil, nil, nil
	}
}

// parseContentRange reads "bytes first-last/total" or "bytes */total"; total is -1 for "*".
func parseContentRange(v string) (first, last, total int64, ok bool) {
	rest, found := strings.CutPrefix(v, "bytes ")
	if !found {
		return 0, 0, 0, false
	}
	rng, tot, found := strings.Cut(rest, "/")
	if !found {
		return 0, 0, 0, false
	}
	total = -1
	if tot != "*" {
		t, err := strconv.ParseInt(tot, 10, 64)
		if err != nil {
			return 0, 0, 0, false
		}
		total = t
	}
	if rng == "*" {
		return -1, -1, total, true
	}
	f, l, found := strings.Cut(rng, "-")
	if !found {
		return 0, 0, 0, false
	}
	first, err1 := strconv.ParseInt(f, 10, 64)
	last, err2 := strconv.ParseInt(l, 10, 64)
	if err1 != nil || err2 != nil || last < first {
		return 0, 0, 0, false
	}
	return first, last, total, true
}

// redactURLError keeps a signed URL's query string out of a transport error.
func redactURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		ue.URL = redactURL(ue.URL)
	}
	return err
}

// watchdog cancels a request when the server stays silent for d: armed while waiting for
// headers and inside each body read, never while the caller is busy with a line.
type watchdog struct {
	t *time.Timer
	d time.Duration
}

func newWatchdog(d time.Duration, cancel context.CancelFunc) *watchdog {
	if d <= 0 {
		return nil
	}
	t := time.AfterFunc(time.Hour, cancel)
	t.Stop()
	return &watchdog{t: t, d: d}
}

func (w *watchdog) arm() {
	if w != nil {
		w.t.Reset(w.d)
	}
}

func (w *watchdog) disarm() {
	if w != nil {
		w.t.Stop()
	}
}

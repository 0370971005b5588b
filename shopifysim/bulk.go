package shopifysim

import (
	"bufio"
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
)

// BulkOperation is a bulk query as the server tracks it. The status machine runs on the
// server's clock: CREATED, then RUNNING after StartAfter (the store is read then: the result is
// the shop as of that moment), then COMPLETED (or FAILED) after RunFor; CANCELING then CANCELED
// after bulkOperationCancel; EXPIRED once a completed result's URL has expired.
type BulkOperation struct {
	ID              int64
	Status          string // CREATED, RUNNING, COMPLETED, CANCELING, CANCELED, FAILED, EXPIRED
	ErrorCode       string // TIMEOUT, INTERNAL_SERVER_ERROR, ACCESS_DENIED when FAILED
	Type            string // QUERY
	Query           string
	GroupObjects    bool
	APIVersion      string
	CreatedAt       time.Time
	CompletedAt     *time.Time
	ObjectCount     int64 // lines so far (a running operation reports its progress)
	RootObjectCount int64
	FileSize        int64

	runAt     time.Time
	doneAt    time.Time
	file      string // the result
	partial   string // the partial result of a failed operation
	total     int64  // lines of the whole result
	roots     int64
	size      int64
	expiresAt time.Time
	fail      *BulkFailure
	timers    []func() bool
}

// GID is gid://shopify/BulkOperation/<id>.
func (b BulkOperation) GID() string { return GID("BulkOperation", b.ID) }

const resultsPrefix = "/bulk-operation-outputs/"

// BulkOperations returns the server's bulk operations, oldest first, as a client would see them
// now.
func (a *AdminServer) BulkOperations() []BulkOperation {
	var out []BulkOperation
	for _, op := range a.operations(a.clock.Now()) {
		out = append(out, *op)
	}
	return out
}

// view returns a copy of op as it reads at now (progress interpolated while running).
func (a *AdminServer) view(op *BulkOperation, now time.Time) *BulkOperation {
	v := *op
	v.timers = nil
	if v.Status == "RUNNING" && v.file != "" && v.doneAt.After(v.runAt) {
		frac := float64(now.Sub(v.runAt)) / float64(v.doneAt.Sub(v.runAt))
		frac = min(max(frac, 0), 1)
		v.ObjectCount = int64(float64(v.total) * frac)
		v.RootObjectCount = int64(float64(v.roots) * frac)
	}
	return &v
}

func (a *AdminServer) operations(now time.Time) []*BulkOperation {
	a.mu.Lock()
	defer a.mu.Unlock()
	out := make([]*BulkOperation, 0, len(a.opOrder))
	for _, id := range a.opOrder {
		out = append(out, a.view(a.ops[id], now))
	}
	return out
}

func (a *AdminServer) operation(id int64, now time.Time) *BulkOperation {
	a.mu.Lock()
	defer a.mu.Unlock()
	if op := a.ops[id]; op != nil {
		return a.view(op, now)
	}
	return nil
}

// current is the app's most recent operation of a type (currentBulkOperation).
func (a *AdminServer) current(typ string, now time.Time) *BulkOperation {
	a.mu.Lock()
	defer a.mu.Unlock()
	for i := len(a.opOrder) - 1; i >= 0; i-- {
		if op := a.ops[a.opOrder[i]]; op.Type == typ {
			return a.view(op, now)
		}
	}
	return nil
}

func active(op *BulkOperation) bool {
	return op.Status == "CREATED" || op.Status == "RUNNING" || op.Status == "CANCELING"
}

// startBulk validates a bulk query and creates the operation, or returns user errors.
// x.store.mu is held (the mutation's write lock).
func (a *AdminServer) startBulk(x *execCtx, query string, group bool) (*BulkOperation, []any) {
	userErr := func(msg, code string, field ...string) []any {
		var f any
		if len(field) > 0 {
			f = field
		}
		return []any{recSrc{"field": f, "message": msg, "code": code}}
	}
	if _, err := a.bulkPlan(query, x.version); err != nil {
		return nil, userErr("Invalid bulk query: "+err.Error(), "INVALID", "query")
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.closed {
		return nil, userErr("The server is shutting down", "INVALID")
	}
	limit := 5
	if versionBefore(x.version, "2026-01") {
		limit = 1
	}
	var running []*BulkOperation
	for _, id := range a.opOrder {
		if op := a.ops[id]; op.Type == "QUERY" && active(op) {
			running = append(running, op)
		}
	}
	if len(running) >= limit {
		if limit == 1 {
			return nil, userErr(fmt.Sprintf("A bulk query operation for this app and shop is already in progress: %s.", running[0].GID()), "OPERATION_IN_PROGRESS")
		}
		return nil, userErr("Bulk operations limit reached. Please try again later.", "LIMIT_REACHED")
	}
	op := &BulkOperation{ID: a.store.newID(idBulkOperation), Status: "CREATED", Type: "QUERY", Query: query, GroupObjects: group,
		APIVersion: x.version, CreatedAt: x.now.UTC().Truncate(time.Second)}
	a.ops[op.ID] = op
	a.opOrder = append(a.opOrder, op.ID)
	op.timers = append(op.timers, a.clock.AfterFunc(a.opts.Bulk.StartAfter, func() { a.run(op.ID) }))
	return a.view(op, x.now), nil
}

// run moves an operation to RUNNING and writes its result from the store as it is now.
func (a *AdminServer) run(id int64) {
	a.mu.Lock()
	op := a.ops[id]
	if a.closed || op == nil || op.Status != "CREATED" {
		a.mu.Unlock()
		return
	}
	now := a.clock.Now()
	op.Status, op.runAt = "RUNNING", now
	runFor := a.opts.Bulk.RunFor
	if runFor > a.opts.Bulk.MaxRunTime {
		runFor = a.opts.Bulk.MaxRunTime
		op.fail = &BulkFailure{ErrorCode: "TIMEOUT", PartialFraction: float64(a.opts.Bulk.MaxRunTime) / float64(a.opts.Bulk.RunFor)}
	} else if len(a.bulkFail) > 0 {
		op.fail = &a.bulkFail[0]
		a.bulkFail = a.bulkFail[1:]
	}
	op.doneAt = now.Add(runFor)
	dir, err := a.resultDir()
	query, version, group := op.Query, op.APIVersion, op.GroupObjects
	seed := a.rng.Uint64()
	a.generations.Add(1)
	a.mu.Unlock()
	defer a.generations.Done()

	var file string
	var total, roots, size int64
	if err == nil {
		file = filepath.Join(dir, fmt.Sprintf("bulk-%d.jsonl", id))
		total, roots, size, err = a.writeResult(file, query, version, group, seed)
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if err != nil {
		op.fail = &BulkFailure{ErrorCode: "INTERNAL_SERVER_ERROR"}
	}
	op.file, op.total, op.roots, op.size = file, total, roots, size
	if a.closed || op.Status != "RUNNING" {
		return
	}
	op.timers = append(op.timers, a.clock.AfterFunc(op.doneAt.Sub(a.clock.Now()), func() { a.finish(id) }))
}

// finish completes or fails a running operation.
func (a *AdminServer) finish(id int64) {
	a.mu.Lock()
	op := a.ops[id]
	if a.closed || op == nil || op.Status != "RUNNING" {
		a.mu.Unlock()
		return
	}
	now := a.clock.Now().UTC().Truncate(time.Second)
	op.CompletedAt = &now
	op.expiresAt = now.Add(a.opts.Bulk.URLTTL)
	if op.fail != nil {
		op.Status, op.ErrorCode = "FAILED", op.fail.ErrorCode
		if op.fail.PartialFraction > 0 && op.file != "" {
			keep := int64(float64(op.total) * min(op.fail.PartialFraction, 1))
			partial := strings.TrimSuffix(op.file, ".jsonl") + "-partial.jsonl"
			n, r, size, err := copyLines(op.file, partial, keep)
			if err == nil {
				op.partial, op.ObjectCount, op.RootObjectCount, op.FileSize = partial, n, r, size
			}
		}
	} else {
		op.Status = "COMPLETED"
		op.ObjectCount, op.RootObjectCount, op.FileSize = op.total, op.roots, op.size
		op.timers = append(op.timers, a.clock.AfterFunc(a.opts.Bulk.URLTTL, func() { a.expire(id) }))
	}
	snap := *op
	a.mu.Unlock()
	a.notifyFinish(snap)
}

func (a *AdminServer) expire(id int64) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if op := a.ops[id]; op != nil && op.Status == "COMPLETED" {
		op.Status = "EXPIRED"
	}
}

// cancel asks a running operation to stop. x.store.mu is held.
func (a *AdminServer) cancel(x *execCtx, id int64) (*BulkOperation, []any) {
	a.mu.Lock()
	defer a.mu.Unlock()
	op := a.ops[id]
	if op == nil {
		return nil, []any{recSrc{"field": []string{"id"}, "message": "Bulk operation does not exist"}}
	}
	switch op.Status {
	case "CREATED", "RUNNING":
		op.Status = "CANCELING"
		op.timers = append(op.timers, a.clock.AfterFunc(a.opts.Bulk.CancelAfter, func() { a.canceled(id) }))
		return a.view(op, x.now), nil
	case "CANCELING":
		return a.view(op, x.now), nil
	}
	return a.view(op, x.now), []any{recSrc{"field": nil, "message": fmt.Sprintf("A bulk operation cannot be canceled when it is %s", strings.ToLower(op.Status))}}
}

func (a *AdminServer) canceled(id int64) {
	a.mu.Lock()
	op := a.ops[id]
	if a.closed || op == nil || op.Status != "CANCELING" {
		a.mu.Unlock()
		return
	}
	now := a.clock.Now().UTC().Truncate(time.Second)
	op.Status, op.CompletedAt = "CANCELED", &now
	snap := *op
	a.mu.Unlock()
	a.notifyFinish(snap)
}

// notifyFinish records bulk_operations/finish when the server is configured to.
func (a *AdminServer) notifyFinish(op BulkOperation) {
	if !a.opts.BulkFinishWebhook {
		return
	}
	s := a.store
	s.mu.Lock()
	at := s.tick(*op.CompletedAt)
	sh := s.shop
	s.record("bulk_operations/finish", at, op.GID(), func() []byte {
		return mustJSON(struct {
			AdminGraphQLAPIID string  `json:"admin_graphql_api_id"`
			CompletedAt       string  `json:"completed_at"`
			CreatedAt         string  `json:"created_at"`
			ErrorCode         *string `json:"error_code"`
			Status            string  `json:"status"`
			Type              string  `json:"type"`
		}{op.GID(), sh.ts(*op.CompletedAt), sh.ts(op.CreatedAt), nullStr(strings.ToLower(op.ErrorCode)), strings.ToLower(op.Status), strings.ToLower(op.Type)})
	})
	s.unlockAndNotify()
}

func (a *AdminServer) resultDir() (string, error) {
	if a.dir != "" {
		return a.dir, os.MkdirAll(a.dir, 0o755)
	}
	d, err := os.MkdirTemp("", "shopifysim-bulk-")
	if err != nil {
		return "", err
	}
	a.dir, a.ownDir = d, true
	return d, nil
}

// --- the query plan ---

// bulkPlan checks a bulk query as Shopify does: a query operation with one top-level
// connection (not node/nodes), at most 5 connections, nested at most 2 deep, no connection
// inside a list, every field known. It returns the top-level field.
func (a *AdminServer) bulkPlan(query, version string) (*gqlField, error) {
	doc, err := parseGraphQL(query)
	if err != nil {
		return nil, err
	}
	if len(doc.ops) != 1 || doc.ops[0].kind != "query" {
		return nil, fmt.Errorf("a bulk query must hold exactly one query operation")
	}
	x := &execCtx{srv: a, store: a.store, schema: schema, doc: doc, vars: map[string]any{}, version: version, bulk: &bulkEmitter{}}
	root := schema["QueryRoot"]
	fields := x.collect(root, doc.ops[0].sel)
	if len(fields) != 1 {
		return nil, fmt.Errorf("a bulk query must select exactly one top-level field")
	}
	top := fields[0]
	if top.name == "node" || top.name == "nodes" {
		return nil, fmt.Errorf("top-level `node` and `nodes` fields are not supported")
	}
	x.check(root, doc.ops[0].sel)
	if len(x.errors) > 0 {
		return nil, fmt.Errorf("%s", x.errors[0].Message)
	}
	if def := root.fields[top.name]; def == nil || def.kind != kConn {
		return nil, fmt.Errorf("bulk queries must contain at least one connection")
	}
	conns := 0
	var walk func(t *gqlType, sel []gqlSelection, depth int, inList bool) error
	walk = func(t *gqlType, sel []gqlSelection, depth int, inList bool) error {
		for _, f := range x.collect(t, sel) {
			def := t.fields[f.name]
			if def == nil || def.kind == kScalar {
				continue
			}
			ft := schema[def.typ]
			switch def.kind {
			case kConn:
				if inList {
					return fmt.Errorf("Queries that contain a connection field within a list field are not currently supported.")
				}
				conns++
				if depth+1 > 2 {
					return fmt.Errorf("Bulk queries cannot contain connections with a nesting depth greater than 2.")
				}
				node := connNodeSel(x, f)
				if node == nil {
					return fmt.Errorf("the connection '%s' must select edges { node { ... } } or nodes { ... }", f.name)
				}
				if err := walk(ft, node, depth+1, false); err != nil {
					return err
				}
			case kList:
				if err := walk(ft, f.sel, depth, true); err != nil {
					return err
				}
			case kObject:
				if err := walk(ft, f.sel, depth, inList); err != nil {
					return err
				}
			}
		}
		return nil
	}
	if err := walk(root, doc.ops[0].sel, 0, false); err != nil {
		return nil, err
	}
	if conns > 5 {
		return nil, fmt.Errorf("Bulk queries cannot contain more than 5 connections.")
	}
	return top, nil
}

// connNodeSel is the node selection of a connection field (edges.node or nodes).
func connNodeSel(x *execCtx, f *gqlField) []gqlSelection {
	var out []gqlSelection
	for _, cf := range x.collect(connType, f.sel) {
		switch cf.name {
		case "edges":
			for _, ef := range x.collect(edgeType, cf.sel) {
				if ef.name == "node" {
					out = append(out, ef.sel...)
				}
			}
		case "nodes":
			out = append(out, cf.sel...)
		}
	}
	return out
}

// --- writing the result ---

// bulkEmitter collects the lines of one root object and its descendants.
type bulkEmitter struct {
	lines   [][]byte
	limit   int
	objects int64
}

// bulkChildren writes a nested connection's items as lines of their own with __parentId.
func (x *execCtx) bulkChildren(t *gqlType, src any, f *gqlField, def *fieldDef, path []any) {
	v, err := def.resolve(x, src, f)
	c, _ := v.(*connection)
	if err != nil || c == nil {
		return
	}
	parent := ""
	if t.gid != nil {
		parent = t.gid(src)
	}
	nt := x.schema[def.typ]
	sel := connNodeSel(x, f)
	for i, it := range c.items {
		if x.bulk.limit > 0 && i >= x.bulk.limit {
			break
		}
		idx := len(x.bulk.lines)
		x.bulk.lines = append(x.bulk.lines, nil)
		obj := x.selectObject(nt, it, sel, path)
		obj.set("__parentId", parent)
		b, _ := marshalNoEscape(obj)
		x.bulk.lines[idx] = b
	}
}

// writeResult runs the bulk query over the store (under its read lock) into file: one root
// object at a time, its descendants after it, then, unless grouped, shuffled within a window.
func (a *AdminServer) writeResult(file, query, version string, group bool, seed uint64) (total, roots, size int64, err error) {
	top, err := a.bulkPlan(query, version)
	if err != nil {
		return 0, 0, 0, err
	}
	doc, _ := parseGraphQL(query)
	f, err := os.Create(file)
	if err != nil {
		return 0, 0, 0, err
	}
	defer func() {
		if cerr := f.Close(); err == nil {
			err = cerr
		}
	}()
	w := bufio.NewWriterSize(f, 1<<16)
	rng := rand.New(rand.NewPCG(seed, 0xb01c))
	window := make([][]byte, 0, a.opts.Bulk.ShuffleWindow)
	emit := func(line []byte) error {
		total++
		size += int64(len(line)) + 1
		if group {
			_, err := w.Write(append(line, '\n'))
			return err
		}
		if len(window) < cap(window) {
			window = append(window, line)
			return nil
		}
		i := rng.IntN(len(window))
		out := window[i]
		window[i] = line
		_, err := w.Write(append(out, '\n'))
		return err
	}

	s := a.store
	s.mu.RLock()
	x := &execCtx{srv: a, store: s, schema: schema, doc: doc, vars: map[string]any{}, version: version, now: a.clock.Now(),
		bulk: &bulkEmitter{limit: a.opts.Bulk.NestedLimit}}
	root := schema["QueryRoot"]
	def := root.fields[top.name]
	v, rerr := def.resolve(x, nil, top)
	c, _ := v.(*connection)
	var items []any
	if c != nil {
		items = c.items
	}
	nt := schema[def.typ]
	sel := connNodeSel(x, top)
	for _, it := range items {
		x.bulk.lines = append(x.bulk.lines[:0], nil)
		obj := x.selectObject(nt, it, sel, []any{top.key()})
		b, _ := marshalNoEscape(obj)
		x.bulk.lines[0] = b
		roots++
		for _, line := range x.bulk.lines {
			if err = emit(line); err != nil {
				break
			}
		}
		if err != nil {
			break
		}
	}
	s.mu.RUnlock()
	if rerr != nil && err == nil {
		err = rerr
	}
	rng.Shuffle(len(window), func(i, j int) { window[i], window[j] = window[j], window[i] })
	for _, line := range window {
		if _, werr := w.Write(append(line, '\n')); werr != nil && err == nil {
			err = werr
		}
	}
	if ferr := w.Flush(); ferr != nil && err == nil {
		err = ferr
	}
	return total, roots, size, err
}

// copyLines copies the first n lines of src to dst; it counts root lines (no __parentId).
func copyLines(src, dst string, n int64) (lines, roots, size int64, err error) {
	in, err := os.Open(src)
	if err != nil {
		return 0, 0, 0, err
	}
	defer in.Close()
	out, err := os.Create(dst)
	if err != nil {
		return 0, 0, 0, err
	}
	defer func() {
		if cerr := out.Close(); err == nil {
			err = cerr
		}
	}()
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	w := bufio.NewWriter(out)
	for lines < n && sc.Scan() {
		line := sc.Bytes()
		if !bytes.Contains(line, []byte(`"__parentId"`)) {
			roots++
		}
		w.Write(line)
		w.WriteByte('\n')
		lines++
		size += int64(len(line)) + 1
	}
	if err := sc.Err(); err != nil {
		return 0, 0, 0, err
	}
	return lines, roots, size, w.Flush()
}

// --- result URLs ---

// resultURL is the signed, expiring URL of an operation's result (or partial result), or nil.
func (a *AdminServer) resultURL(x *execCtx, op *BulkOperation, partial bool) any {
	file := op.file
	if partial {
		if op.Status != "FAILED" || op.partial == "" {
			return nil
		}
		file = op.partial
	} else if op.Status != "COMPLETED" || op.file == "" || op.ObjectCount == 0 {
		return nil // Shopify gives no url for an empty result
	}
	return a.sign(x.baseURL, filepath.Base(file), op.expiresAt)
}

func (a *AdminServer) signature(name string, expires int64) string {
	m := hmac.New(sha256.New, a.key)
	fmt.Fprintf(m, "%s\n%d", name, expires)
	return hex.EncodeToString(m.Sum(nil))
}

func (a *AdminServer) sign(base, name string, expires time.Time) string {
	e := expires.Unix()
	q := url.Values{"GoogleAccessId": {"bulk-operation-outputs@shopify-tiers.iam.gserviceaccount.com"},
		"Expires": {strconv.FormatInt(e, 10)}, "Signature": {a.signature(name, e)}}
	return strings.TrimSuffix(base, "/") + resultsPrefix + name + "?" + q.Encode()
}

func storageError(w http.ResponseWriter, status int, code, msg, details string) {
	w.Header().Set("Content-Type", "application/xml; charset=UTF-8")
	w.WriteHeader(status)
	fmt.Fprintf(w, "<?xml version='1.0' encoding='UTF-8'?><Error><Code>%s</Code><Message>%s</Message><Details>%s</Details></Error>", code, msg, details)
}

// serveResult serves a result file to a request whose signature is valid and not expired, as
// the storage behind Shopify's result URLs does (Range requests included).
func (a *AdminServer) serveResult(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		storageError(w, http.StatusMethodNotAllowed, "MethodNotAllowed", "The specified method is not allowed against this resource.", r.Method)
		return
	}
	name := strings.TrimPrefix(r.URL.Path, resultsPrefix)
	q := r.URL.Query()
	exp, err := strconv.ParseInt(q.Get("Expires"), 10, 64)
	if strings.ContainsAny(name, "/\\") || err != nil || !hmac.Equal([]byte(q.Get("Signature")), []byte(a.signature(name, exp))) {
		storageError(w, http.StatusForbidden, "SignatureDoesNotMatch", "The request signature we calculated does not match the signature you provided.", "")
		return
	}
	if now := a.clock.Now(); now.Unix() > exp {
		storageError(w, http.StatusBadRequest, "ExpiredToken", "Invalid argument.", "The provided token has expired. Request signature expired at: "+time.Unix(exp, 0).UTC().Format(time.RFC3339))
		return
	}
	a.mu.Lock()
	dir := a.dir
	known := slices.ContainsFunc(a.opOrder, func(id int64) bool {
		op := a.ops[id]
		return filepath.Base(op.file) == name || op.partial != "" && filepath.Base(op.partial) == name
	})
	a.mu.Unlock()
	f, err := os.Open(filepath.Join(dir, name))
	if !known || err != nil {
		storageError(w, http.StatusNotFound, "NoSuchKey", "The specified key does not exist.", "")
		return
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		storageError(w, http.StatusInternalServerError, "InternalError", "We encountered an internal error. Please try again.", "")
		return
	}
	w.Header().Set("Content-Type", "application/jsonl")
	http.ServeContent(w, r, "", st.ModTime(), f)
}

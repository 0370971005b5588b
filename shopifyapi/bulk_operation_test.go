package shopifyapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

// bulkServer answers the bulk-operation queries and mutations the client sends, with a
// status machine that finishes an operation after pollsToFinish polls.
type bulkServer struct {
	t              testing.TB
	mu             sync.Mutex
	ops            []map[string]any
	polls          map[string]int
	pollsToFinish  int
	finish         func(op map[string]any) // the terminal state
	limit          int                     // running operations allowed at once
	inProgressMsg  string                  // userError message when over the limit
	inProgressCode any                     // its code (nil: no code, as an older version might)
	requests       []gqlReq
}

func newBulkServer(t testing.TB, finish func(op map[string]any)) *bulkServer {
	return &bulkServer{t: t, polls: map[string]int{}, pollsToFinish: 4, finish: finish, limit: 1,
		inProgressMsg: "A bulk query operation for this app and shop is already in progress: gid://shopify/BulkOperation/1.", inProgressCode: "OPERATION_IN_PROGRESS"}
}

func completed(op map[string]any) {
	op["status"] = "COMPLETED"
	op["completedAt"] = "2026-03-01T06:04:00Z"
	op["objectCount"] = "12"
	op["rootObjectCount"] = "4"
	op["fileSize"] = "2048"
	op["url"] = "https://storage.googleapis.com/shopify-tiers-assets-prod-us-east1/bulk-operation-outputs/x.jsonl?X-Goog-Signature=abc"
}

func (s *bulkServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	req := decodeGQL(s.t, r)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.requests = append(s.requests, req)
	data := map[string]any{}
	switch q := req.Query; {
	case strings.Contains(q, "bulkOperationRunQuery"):
		running := 0
		for _, op := range s.ops {
			if !BulkOperationStatus(op["status"].(string)).Terminal() {
				running++
			}
		}
		if running >= s.limit {
			data["bulkOperationRunQuery"] = map[string]any{"bulkOperation": nil, "userErrors": []any{
				map[string]any{"field": nil, "message": s.inProgressMsg, "code": s.inProgressCode}}}
			break
		}
		op := map[string]any{
			"id": fmt.Sprintf("gid://shopify/BulkOperation/%d", 1000+len(s.ops)), "status": "CREATED", "type": "QUERY",
			"errorCode": nil, "createdAt": "2026-03-01T06:00:00Z", "completedAt": nil,
			"objectCount": "0", "rootObjectCount": "0", "fileSize": nil, "url": nil, "partialDataUrl": nil,
			"query": req.Variables["query"],
		}
		s.ops = append(s.ops, op)
		data["bulkOperationRunQuery"] = map[string]any{"bulkOperation": op, "userErrors": []any{}}
	case strings.Contains(q, "bulkOperationCancel"):
		op := s.find(req.Variables["id"])
		if op != nil {
			op["status"] = "CANCELING"
			s.finish = func(op map[string]any) { op["status"] = "CANCELED" }
		}
		data["bulkOperationCancel"] = map[string]any{"bulkOperation": op, "userErrors": []any{}}
	case strings.Contains(q, "currentBulkOperation"):
		if len(s.ops) == 0 {
			data["currentBulkOperation"] = nil
		} else {
			data["currentBulkOperation"] = s.ops[len(s.ops)-1]
		}
	case strings.Contains(q, "node(id:"), strings.Contains(q, "bulkOperation(id:"):
		key := "node"
		if strings.Contains(q, "bulkOperation(id:") {
			key = "bulkOperation"
		}
		op := s.find(req.Variables["id"])
		if op == nil {
			data[key] = nil
			break
		}
		id := op["id"].(string)
		s.polls[id]++
		if !BulkOperationStatus(op["status"].(string)).Terminal() {
			if s.polls[id] >= s.pollsToFinish {
				s.finish(op)
			} else if op["status"] != "CANCELING" {
				op["status"] = "RUNNING"
				op["objectCount"] = fmt.Sprint(3 * s.polls[id])
			}
		}
		data[key] = op
	default:
		s.t.Errorf("unexpected query %q", q)
	}
	writeJSON(w, 200, map[string]any{"data": data, "extensions": costExt(10, 10, 1000, 990, 50)})
}

func (s *bulkServer) find(id any) map[string]any {
	for _, op := range s.ops {
		if op["id"] == id {
			return op
		}
	}
	return nil
}

func (s *bulkServer) Requests() []gqlReq {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]gqlReq(nil), s.requests...)
}

func TestBulkRunPollCompleted(t *testing.T) {
	srv := newBulkServer(t, completed)
	c, clock, _, _ := newTestClient(t, srv, nil)
	ctx := context.Background()

	op, err := c.RunBulkQuery(ctx, `{ products { edges { node { id variants { edges { node { id } } } } } } }`, false)
	if err != nil {
		t.Fatal(err)
	}
	if op.Status != BulkCreated || op.ID != "gid://shopify/BulkOperation/1000" || op.Complete() {
		t.Fatalf("started %+v", op)
	}
	run := srv.Requests()[0]
	if run.Variables["groupObjects"] != false || !strings.Contains(run.Variables["query"].(string), "variants") {
		t.Errorf("bulkOperationRunQuery variables %v", run.Variables)
	}

	done, err := c.WaitBulk(ctx, op.ID, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	want := BulkOperation{
		ID: op.ID, Status: BulkCompleted, Type: "QUERY",
		CreatedAt: time.Date(2026, 3, 1, 6, 0, 0, 0, time.UTC), CompletedAt: time.Date(2026, 3, 1, 6, 4, 0, 0, time.UTC),
		ObjectCount: 12, RootObjectCount: 4, FileSize: 2048,
		URL:   "https://storage.googleapis.com/shopify-tiers-assets-prod-us-east1/bulk-operation-outputs/x.jsonl?X-Goog-Signature=abc",
		Query: run.Variables["query"].(string),
	}
	if done != want {
		t.Errorf("operation\n got %+v\nwant %+v", done, want)
	}
	if !done.Complete() {
		t.Errorf("a COMPLETED operation with a URL is complete: %v", done.CheckComplete())
	}
	// Polled 4 times; the interval grows by half from pollEvery.
	if got, want := clock.Sleeps(), []time.Duration{time.Second, 1500 * time.Millisecond, 2250 * time.Millisecond}; !equalDurations(got, want) {
		t.Errorf("poll waits = %v, want %v", got, want)
	}
	if reqs := srv.Requests(); !strings.Contains(reqs[1].Query, "node(id: $id)") {
		t.Errorf("2025-10 polls with node(id:): %q", reqs[1].Query)
	}
}

func TestBulkFailedWithPartialDataIsIncomplete(t *testing.T) {
	srv := newBulkServer(t, func(op map[string]any) {
		op["status"] = "FAILED"
		op["errorCode"] = "INTERNAL_SERVER_ERROR"
		op["objectCount"] = "90210"
		op["partialDataUrl"] = "https://storage.example/partial.jsonl?sig=1"
	})
	srv.pollsToFinish = 1
	c, _, _, _ := newTestClient(t, srv, nil)
	op, err := c.RunBulkQuery(context.Background(), `{ orders { edges { node { id } } } }`, false)
	if err != nil {
		t.Fatal(err)
	}
	done, err := c.WaitBulk(context.Background(), op.ID, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if done.Status != BulkFailed || done.PartialDataURL == "" || done.ObjectCount != 90210 {
		t.Fatalf("operation %+v", done)
	}
	if done.Complete() {
		t.Error("a FAILED operation with partial data must not be complete")
	}
	err = done.CheckComplete()
	if !errors.Is(err, ErrIncompleteResult) || !strings.Contains(err.Error(), "INTERNAL_SERVER_ERROR") {
		t.Errorf("CheckComplete = %v", err)
	}
}

func TestBulkCompleteness(t *testing.T) {
	ok := BulkOperation{ID: "gid://shopify/BulkOperation/1", Status: BulkCompleted, URL: "https://x/r.jsonl",
		ObjectCount: 10, RootObjectCount: 4, FileSize: 1000}
	with := func(edit func(*BulkOperation)) BulkOperation { b := ok; edit(&b); return b }
	tests := []struct {
		name     string
		op       BulkOperation
		complete bool
	}{
		{"completed with url", ok, true},
		{"completed, nothing matched", BulkOperation{Status: BulkCompleted}, true},
		{"completed, objects but no url", with(func(b *BulkOperation) { b.URL = "" }), false},
		{"completed with partial data", with(func(b *BulkOperation) { b.PartialDataURL = "https://x/p" }), false},
		{"failed", with(func(b *BulkOperation) { b.Status, b.URL, b.ErrorCode = BulkFailed, "", "TIMEOUT" }), false},
		{"failed with partial data", with(func(b *BulkOperation) { b.Status, b.URL, b.PartialDataURL = BulkFailed, "", "https://x/p" }), false},
		{"canceled", with(func(b *BulkOperation) { b.Status = BulkCanceled }), false},
		{"expired", with(func(b *BulkOperation) { b.Status = BulkExpired }), false},
		{"running", with(func(b *BulkOperation) { b.Status, b.URL = BulkRunning, "" }), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.op.Complete(); got != tt.complete {
				t.Errorf("Complete() = %v, want %v (%v)", got, tt.complete, tt.op.CheckComplete())
			}
			if err := tt.op.CheckComplete(); (err == nil) != tt.complete || (err != nil && !errors.Is(err, ErrIncompleteResult)) {
				t.Errorf("CheckComplete() = %v", err)
			}
		})
	}

	reads := []struct {
		name string
		end  Position
		ok   bool
	}{
		{"whole file", Position{Offset: 1000, Line: 10}, true},
		{"short of fileSize", Position{Offset: 999, Line: 10}, false},
		{"no line from 10 objects", Position{Offset: 1000, Line: 0}, false},
		{"fewer lines than roots", Position{Offset: 1000, Line: 3}, false},
	}
	for _, tt := range reads {
		t.Run("read "+tt.name, func(t *testing.T) {
			err := ok.CheckRead(tt.end)
			if (err == nil) != tt.ok || (err != nil && !errors.Is(err, ErrIncompleteResult)) {
				t.Errorf("CheckRead(%+v) = %v", tt.end, err)
			}
		})
	}
	if err := (BulkOperation{Status: BulkFailed, PartialDataURL: "p"}).CheckRead(Position{Offset: 5, Line: 1}); !errors.Is(err, ErrIncompleteResult) {
		t.Errorf("CheckRead of a failed operation = %v", err)
	}
}

func TestBulkAlreadyInProgress(t *testing.T) {
	for _, code := range []any{"OPERATION_IN_PROGRESS", "LIMIT_REACHED", nil} {
		t.Run(fmt.Sprint(code), func(t *testing.T) {
			srv := newBulkServer(t, completed)
			srv.inProgressCode = code
			if code == "LIMIT_REACHED" {
				srv.inProgressMsg = "Bulk operations limit reached. Please try again later."
			}
			c, _, _, _ := newTestClient(t, srv, nil)
			ctx := context.Background()
			first, err := c.RunBulkQuery(ctx, `{ products { edges { node { id } } } }`, false)
			if err != nil {
				t.Fatal(err)
			}
			_, err = c.RunBulkQuery(ctx, `{ orders { edges { node { id } } } }`, false)
			if !errors.Is(err, ErrBulkOperationInProgress) {
				t.Fatalf("err = %v, want ErrBulkOperationInProgress", err)
			}
			var me *MutationError
			if !errors.As(err, &me) || me.Mutation != "bulkOperationRunQuery" {
				t.Errorf("err %v should carry the *MutationError", err)
			}
			// The caller finds the running operation, waits for it, and starts again.
			cur, err := c.CurrentBulkOperation(ctx)
			if err != nil || cur.ID != first.ID {
				t.Fatalf("CurrentBulkOperation = %+v, %v", cur, err)
			}
			if _, err := c.WaitBulk(ctx, cur.ID, time.Second); err != nil {
				t.Fatal(err)
			}
			if _, err := c.RunBulkQuery(ctx, `{ orders { edges { node { id } } } }`, false); err != nil {
				t.Errorf("after the first ended: %v", err)
			}
		})
	}
}

func TestBulkOtherUserErrorsAreNotInProgress(t *testing.T) {
	c, _, _, _ := newTestClient(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 200, map[string]any{"data": map[string]any{"bulkOperationRunQuery": map[string]any{
			"bulkOperation": nil,
			"userErrors":    []any{map[string]any{"field": []any{"query"}, "message": "Bulk queries cannot contain more than 5 connections.", "code": "INVALID"}},
		}}})
	}), nil)
	_, err := c.RunBulkQuery(context.Background(), `{ a { edges { node { id } } } }`, false)
	var me *MutationError
	if !errors.As(err, &me) || !me.HasCode("INVALID") || errors.Is(err, ErrBulkOperationInProgress) {
		t.Fatalf("err = %v", err)
	}
}

func TestBulkQueriesFollowTheAPIVersion(t *testing.T) {
	tests := []struct {
		version      string
		groupObjects bool // the argument is sent
		pollField    string
		limit        int
	}{
		{"2025-04", false, "node(id: $id)", 1},
		{"2025-07", true, "node(id: $id)", 1},
		{"2025-10", true, "node(id: $id)", 1},
		{"2026-01", true, "bulkOperation(id: $id)", 5},
		{"unstable", true, "bulkOperation(id: $id)", 5},
	}
	for _, tt := range tests {
		t.Run(tt.version, func(t *testing.T) {
			srv := newBulkServer(t, completed)
			srv.pollsToFinish = 1
			c, _, _, _ := newTestClient(t, srv, func(c *Config) { c.APIVersion = tt.version })
			op, err := c.RunBulkQuery(context.Background(), `{ products { edges { node { id } } } }`, true)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := c.BulkOperation(context.Background(), op.ID); err != nil {
				t.Fatal(err)
			}
			reqs := srv.Requests()
			_, sent := reqs[0].Variables["groupObjects"]
			if sent != tt.groupObjects || strings.Contains(reqs[0].Query, "groupObjects") != tt.groupObjects {
				t.Errorf("groupObjects sent = %v, want %v: %q", sent, tt.groupObjects, reqs[0].Query)
			}
			if !strings.Contains(reqs[1].Query, tt.pollField) {
				t.Errorf("poll query %q, want %s", reqs[1].Query, tt.pollField)
			}
			if c.BulkConcurrencyLimit() != tt.limit {
				t.Errorf("BulkConcurrencyLimit = %d, want %d", c.BulkConcurrencyLimit(), tt.limit)
			}
		})
	}
}

func TestBulkOperationNotFound(t *testing.T) {
	srv := newBulkServer(t, completed)
	c, _, _, _ := newTestClient(t, srv, nil)
	if _, err := c.CurrentBulkOperation(context.Background()); !errors.Is(err, ErrBulkOperationNotFound) {
		t.Errorf("CurrentBulkOperation with none = %v", err)
	}
	if _, err := c.BulkOperation(context.Background(), "gid://shopify/BulkOperation/404"); !errors.Is(err, ErrBulkOperationNotFound) {
		t.Errorf("BulkOperation(unknown) = %v", err)
	}
}

func TestCancelBulkOperation(t *testing.T) {
	srv := newBulkServer(t, completed)
	srv.pollsToFinish = 3
	c, _, _, _ := newTestClient(t, srv, nil)
	ctx := context.Background()
	op, err := c.RunBulkQuery(ctx, `{ products { edges { node { id } } } }`, false)
	if err != nil {
		t.Fatal(err)
	}
	canceling, err := c.CancelBulkOperation(ctx, op.ID)
	if err != nil || canceling.Status != BulkCanceling || canceling.Status.Terminal() {
		t.Fatalf("cancel = %+v, %v", canceling, err)
	}
	done, err := c.WaitBulk(ctx, op.ID, time.Second)
	if err != nil || done.Status != BulkCanceled || done.Complete() {
		t.Fatalf("after cancel = %+v, %v", done, err)
	}
}

func TestWaitBulkNotifyPollsOnWake(t *testing.T) {
	for _, early := range []bool{true, false} {
		t.Run(fmt.Sprintf("wake before sleep %v", early), func(t *testing.T) {
			srv := newBulkServer(t, completed)
			srv.pollsToFinish = 2
			// The clock never ends a sleep: only the wake-up can move the wait on.
			sleeping := make(chan struct{})
			c, _, _, _ := newTestClient(t, srv, func(c *Config) { c.Clock = blockingClock{sleeping: sleeping} })
			op, err := c.RunBulkQuery(context.Background(), `{ products { edges { node { id } } } }`, false)
			if err != nil {
				t.Fatal(err)
			}
			wake := make(chan struct{}, 1)
			if early {
				wake <- struct{}{} // bulk_operations/finish arrived while polling
			} else {
				go func() {
					<-sleeping
					wake <- struct{}{}
				}()
			}
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			done, err := c.WaitBulkNotify(ctx, op.ID, time.Hour, wake)
			if err != nil || done.Status != BulkCompleted {
				t.Fatalf("WaitBulkNotify = %+v, %v", done, err)
			}
		})
	}
}

func TestWaitBulkCanceled(t *testing.T) {
	srv := newBulkServer(t, completed)
	srv.pollsToFinish = 100
	c, clock, _, _ := newTestClient(t, srv, nil)
	op, err := c.RunBulkQuery(context.Background(), `{ products { edges { node { id } } } }`, false)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	clock.onSleep = func(time.Duration) {
		if len(clock.Sleeps()) == 3 {
			cancel()
		}
	}
	_, err = c.WaitBulk(ctx, op.ID, time.Second)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
}

func TestBulkOperationJSON(t *testing.T) {
	var b BulkOperation
	err := json.Unmarshal([]byte(`{"id":"gid://shopify/BulkOperation/7","status":"RUNNING","objectCount":"9223372036854775807","rootObjectCount":3,"fileSize":null,"url":null,"partialDataUrl":null,"errorCode":null,"createdAt":"2026-03-01T06:00:00Z","completedAt":null}`), &b)
	if err != nil {
		t.Fatal(err)
	}
	if b.ObjectCount != 9223372036854775807 || b.RootObjectCount != 3 || b.FileSize != 0 || !b.CompletedAt.IsZero() {
		t.Errorf("%+v", b)
	}
	for _, bad := range []string{`{"objectCount":"12x"}`, `{"objectCount":"-1"}`, `{"fileSize":"18446744073709551615"}`} {
		if err := json.Unmarshal([]byte(bad), &b); err == nil {
			t.Errorf("%s decoded without error", bad)
		}
	}
}

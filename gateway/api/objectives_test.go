package api_test

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/storeline/storeline/projections"
	"github.com/storeline/storeline/projections/objectives"
	"github.com/storeline/storeline/testkit"
	"github.com/storeline/storeline/traceparent"
)

func objectiveBody(name string, amount string) map[string]any {
	return map[string]any{
		"name":       name,
		"scope":      map[string]any{"type": "tag", "tag": "linen"},
		"metric":     "revenue",
		"comparison": "at_least",
		"target":     map[string]any{"amount": amount},
		"period":     map[string]any{"kind": "monthly", "time_zone": "Europe/Berlin"},
	}
}

func createObjective(t *testing.T, h *harness, name string) (objectives.Objective, response) {
	t.Helper()
	r := h.call(t, "editor", http.MethodPost, "/api/v1/objectives", objectiveBody(name, "1000.50"), nil)
	if r.Status != http.StatusCreated {
		t.Fatalf("create: %d %s", r.Status, r.Body)
	}
	var o objectives.Objective
	r.decode(t, &o)
	return o, r
}

func TestObjectiveLifecycle(t *testing.T) {
	h := newHarness(t)
	o, r := createObjective(t, h, "Spring linen")
	if r.Header.Get("ETag") != `"1"` || o.Version != 1 || o.Target.Amount == nil || *o.Target.Amount != "1000.5" || *o.Target.Currency != "EUR" {
		t.Fatalf("created %+v etag %s", o, r.Header.Get("ETag"))
	}
	if loc := r.Header.Get("Location"); loc != "/api/v1/objectives/"+o.ID {
		t.Errorf("Location %q", loc)
	}
	token := r.Header.Get("X-Consistency-Token")

	// Read your write: with the token the read model already holds it.
	g := h.call(t, "viewer", http.MethodGet, "/api/v1/objectives/"+o.ID, nil, map[string]string{"X-Consistency-Token": token})
	if g.Status != http.StatusOK || g.Header.Get("ETag") != `"1"` {
		t.Fatalf("get with token: %d %s", g.Status, g.Body)
	}

	// Update: If-Match required, stale refused, current accepted.
	if r := h.call(t, "editor", http.MethodPut, "/api/v1/objectives/"+o.ID, objectiveBody("Spring linen", "2000"), nil); r.Status != http.StatusPreconditionRequired {
		t.Errorf("update without If-Match: %d %s", r.Status, r.Body)
	}
	u := h.call(t, "editor", http.MethodPut, "/api/v1/objectives/"+o.ID, objectiveBody("Spring linen", "2000"), map[string]string{"If-Match": `"1"`})
	if u.Status != http.StatusOK || u.Header.Get("ETag") != `"2"` {
		t.Fatalf("update: %d %s", u.Status, u.Body)
	}
	if r := h.call(t, "editor", http.MethodPut, "/api/v1/objectives/"+o.ID, objectiveBody("Spring linen", "3000"), map[string]string{"If-Match": `"1"`}); r.Status != http.StatusPreconditionFailed {
		t.Errorf("stale update: %d %s", r.Status, r.Body)
	}
	// Saving what already is: the same answer, no new version, nothing to wait for.
	if r := h.call(t, "editor", http.MethodPut, "/api/v1/objectives/"+o.ID, objectiveBody("Spring linen", "2000"), map[string]string{"If-Match": `"2"`}); r.Status != http.StatusOK ||
		r.Header.Get("ETag") != `"2"` || r.Header.Get("X-Consistency-Token") != "" {
		t.Errorf("unchanged update: %d %s etag %s token %q", r.Status, r.Body, r.Header.Get("ETag"), r.Header.Get("X-Consistency-Token"))
	}
	vs := h.call(t, "viewer", http.MethodGet, "/api/v1/objectives/"+o.ID+"/versions", nil, map[string]string{"X-Consistency-Token": u.Header.Get("X-Consistency-Token")})
	var versions struct{ Versions []objectives.Version }
	vs.decode(t, &versions)
	if len(versions.Versions) != 2 || len(versions.Versions[1].ChangedFields) != 1 || versions.Versions[1].ChangedFields[0] != "target" {
		t.Errorf("versions %s", vs.Body)
	}

	// Remove, then the removed objective cannot be edited.
	d := h.call(t, "editor", http.MethodDelete, "/api/v1/objectives/"+o.ID+"?reason=season+over", nil, map[string]string{"If-Match": `"2"`})
	if d.Status != http.StatusOK || d.Header.Get("ETag") != `"3"` {
		t.Fatalf("remove: %d %s", d.Status, d.Body)
	}
	if r := h.call(t, "editor", http.MethodPut, "/api/v1/objectives/"+o.ID, objectiveBody("again", "1"), map[string]string{"If-Match": `"3"`}); r.Status != http.StatusConflict {
		t.Errorf("edit removed: %d %s", r.Status, r.Body)
	}
	l := h.call(t, "viewer", http.MethodGet, "/api/v1/objectives?include_removed=true", nil, map[string]string{"X-Consistency-Token": d.Header.Get("X-Consistency-Token")})
	var list struct{ Objectives []objectives.Objective }
	l.decode(t, &list)
	if len(list.Objectives) != 1 || list.Objectives[0].RemovedAt == nil || list.Objectives[0].Version != 3 {
		t.Errorf("list after removal: %s", l.Body)
	}
}

func TestObjectiveIdempotencyKey(t *testing.T) {
	h := newHarness(t)
	key := map[string]string{"Idempotency-Key": "create-1"}
	first := h.call(t, "editor", http.MethodPost, "/api/v1/objectives", objectiveBody("Once", "10"), key)
	again := h.call(t, "editor", http.MethodPost, "/api/v1/objectives", objectiveBody("Once", "10"), key)
	if first.Status != http.StatusCreated || again.Status != http.StatusCreated || string(first.Body) != string(again.Body) ||
		again.Header.Get("Idempotent-Replayed") != "true" || first.Header.Get("X-Consistency-Token") != again.Header.Get("X-Consistency-Token") {
		t.Fatalf("repeat: %d %s / %d %s", first.Status, first.Body, again.Status, again.Body)
	}
	if r := h.call(t, "editor", http.MethodPost, "/api/v1/objectives", objectiveBody("Twice", "10"), key); r.Status != http.StatusUnprocessableEntity {
		t.Errorf("same key, other body: %d %s", r.Status, r.Body)
	}
	var n int
	if err := h.Pool.QueryRow(t.Context(), `SELECT count(*) FROM aggregates WHERE aggregate_type = 'ObjectiveSpecification'`).Scan(&n); err != nil || n != 1 {
		t.Errorf("%d objectives decided (%v), want 1", n, err)
	}
}

// TestConcurrentEditsWithTheSameIfMatch: two editors save the same version at once; exactly one
// wins, the other gets 412, and the log holds one event for that version.
func TestConcurrentEditsWithTheSameIfMatch(t *testing.T) {
	h := newHarness(t)
	const rounds = 20
	var ids []string
	for round := range rounds {
		o, _ := createObjective(t, h, fmt.Sprint("race ", round))
		ids = append(ids, o.ID)
		var wg sync.WaitGroup
		statuses := make([]int, 2)
		for i := range 2 {
			wg.Go(func() {
				r := h.call(t, "editor", http.MethodPut, "/api/v1/objectives/"+o.ID, objectiveBody("race", strconv.Itoa(100+i)), map[string]string{"If-Match": `"1"`})
				statuses[i] = r.Status
			})
		}
		wg.Wait()
		ok, failed := 0, 0
		for _, s := range statuses {
			switch s {
			case http.StatusOK:
				ok++
			case http.StatusPreconditionFailed:
				failed++
			}
		}
		if ok != 1 || failed != 1 {
			t.Fatalf("round %d: statuses %v, want one 200 and one 412", round, statuses)
		}
	}
	// The log (not only the outbox) holds, per objective, its creation and the one winning edit.
	versions := map[string][]int64{}
	cl, err := kgo.NewClient(kgo.SeedBrokers(h.Brokers...), kgo.ConsumeTopics(h.Prefix+"publication"),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	for n := 0; n < 2*rounds && ctx.Err() == nil; {
		for _, r := range cl.PollFetches(ctx).Records() {
			ev, err := h.Codec.Decode(ctx, r.Value)
			if err != nil {
				t.Fatal(err)
			}
			versions[ev.Meta().AggregateID] = append(versions[ev.Meta().AggregateID], *ev.Meta().AggregateVersion)
			n++
		}
	}
	extra, cancel2 := context.WithTimeout(t.Context(), time.Second)
	defer cancel2()
	if more := cl.PollFetches(extra).Records(); len(more) > 0 {
		t.Errorf("%d events beyond the %d expected", len(more), 2*rounds)
	}
	for _, id := range ids {
		if v := versions[id]; len(v) != 2 || v[0] != 1 || v[1] != 2 {
			t.Errorf("objective %s: versions %v in the log, want [1 2]", id, v)
		}
	}
}

// TestReadYourWrites: a command then a read with its token sees the change, every time.
func TestReadYourWrites(t *testing.T) {
	h := newHarness(t)
	o, _ := createObjective(t, h, "ryw")
	iterations := 1000
	if testing.Short() {
		iterations = 50
	}
	version := 1
	for i := range iterations {
		amount := strconv.Itoa(1000 + i)
		u := h.call(t, "editor", http.MethodPut, "/api/v1/objectives/"+o.ID, objectiveBody("ryw", amount), map[string]string{"If-Match": `"` + strconv.Itoa(version) + `"`})
		if u.Status != http.StatusOK {
			t.Fatalf("iteration %d: update %d %s", i, u.Status, u.Body)
		}
		version++
		g := h.call(t, "viewer", http.MethodGet, "/api/v1/objectives/"+o.ID+"?consistency="+u.Header.Get("X-Consistency-Token"), nil, nil)
		var got objectives.Objective
		g.decode(t, &got)
		if g.Status != http.StatusOK || got.Version != int64(version) || got.Target.Amount == nil || *got.Target.Amount != amount {
			t.Fatalf("iteration %d: read %d %s, want version %d amount %s", i, g.Status, g.Body, version, amount)
		}
	}
}

// TestTraceAndRequestIDReachTheLog: the caller's trace continues into the event's traceparent
// header, and its request id (echoed) becomes the event's correlation id.
func TestTraceAndRequestIDReachTheLog(t *testing.T) {
	h := newHarness(t)
	const trace = "4bf92f3577b34da6a3ce929d0e0e4736"
	r := h.call(t, "editor", http.MethodPost, "/api/v1/objectives", objectiveBody("traced", "5"),
		map[string]string{"traceparent": "00-" + trace + "-00f067aa0ba902b7-01", "X-Request-Id": "req-42"})
	if r.Status != http.StatusCreated || r.Header.Get("X-Request-Id") != "req-42" {
		t.Fatalf("create: %d %s, request id %q", r.Status, r.Body, r.Header.Get("X-Request-Id"))
	}
	if g := h.call(t, "viewer", http.MethodGet, "/api/v1/health", nil, nil); g.Header.Get("X-Request-Id") == "" {
		t.Error("no request id made for a request without one")
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(h.Brokers...), kgo.ConsumeTopics(h.Prefix+"publication"),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	var rec *kgo.Record
	for rec == nil && ctx.Err() == nil {
		if rs := cl.PollFetches(ctx).Records(); len(rs) > 0 {
			rec = rs[0]
		}
	}
	if rec == nil {
		t.Fatal("no record on publication")
	}
	var tp string
	for _, hd := range rec.Headers {
		if hd.Key == "traceparent" {
			tp = string(hd.Value)
		}
	}
	if traceparent.TraceID(tp) != trace || tp == "00-"+trace+"-00f067aa0ba902b7-01" {
		t.Errorf("record traceparent %q, want a child of trace %s", tp, trace)
	}
	got, err := h.Codec.Decode(ctx, rec.Value)
	if err != nil {
		t.Fatal(err)
	}
	m := got.Meta()
	if m.CorrelationID == nil || *m.CorrelationID != "req-42" || m.Actor.Type != "user" || m.Actor.ID != "eddie" || m.Source != "dashboard" || *m.AggregateVersion != 1 {
		t.Errorf("envelope %+v", m)
	}
}

// TestCaughtUpProjectionShowsNoLag: the relay writes in Kafka transactions, whose commit markers
// take an offset each; a caught-up projection must still report a lag of zero.
func TestCaughtUpProjectionShowsNoLag(t *testing.T) {
	h := newHarness(t)
	for i := range 3 {
		createObjective(t, h, fmt.Sprint("lag ", i))
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(h.Brokers...))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	testkit.WaitFor(t, 30*time.Second, "the objectives projection to show no lag", func() error {
		parts, err := projections.Lag(t.Context(), adm, h.Pool, h.Prefix, "objectives", []string{"publication"})
		if err != nil {
			return err
		}
		var total, end int64
		for _, p := range parts {
			total += p.Lag
			end += p.End
		}
		if total != 0 || end == 0 {
			return fmt.Errorf("lag %d over end offsets %d: %+v", total, end, parts)
		}
		return nil
	})
}

package api_test

import (
	"fmt"
	"net/http"
	"sort"
	"sync"
	"testing"

	"github.com/storeline/storeline/projections/tags"
)

// TestConcurrentFirstWritesOfAnAggregate: two editors tag a product storeline never tagged, at
// once. Both changes survive, at versions 1 and 2 (never both at 1: their events would share an
// id), and If-Match "0" lets only one of two such writes through.
func TestConcurrentFirstWritesOfAnAggregate(t *testing.T) {
	h := newHarness(t)
	for round := range 10 {
		path := fmt.Sprintf("/api/v1/products/%d/tags", 9100+round)
		var wg sync.WaitGroup
		res := make([]response, 2)
		for i := range 2 {
			wg.Go(func() {
				res[i] = h.call(t, "editor", http.MethodPost, path, map[string]any{"add": []string{fmt.Sprint("t", i)}}, nil)
			})
		}
		wg.Wait()
		etags := []string{res[0].Header.Get("ETag"), res[1].Header.Get("ETag")}
		sort.Strings(etags)
		if res[0].Status != http.StatusOK || res[1].Status != http.StatusOK || etags[0] != `"1"` || etags[1] != `"2"` {
			t.Fatalf("round %d: %d %s / %d %s, etags %v", round, res[0].Status, res[0].Body, res[1].Status, res[1].Body, etags)
		}
		last := res[0]
		if res[1].Header.Get("ETag") == `"2"` {
			last = res[1]
		}
		var pt tags.ProductTags
		h.call(t, "viewer", http.MethodGet, path, nil, map[string]string{"X-Consistency-Token": last.Header.Get("X-Consistency-Token")}).decode(t, &pt)
		if len(pt.Tags) != 2 || pt.Version != 2 {
			t.Fatalf("round %d: product tags %+v, want t0 and t1 at version 2", round, pt)
		}

		// Both claiming to be the first (If-Match "0"): one wins, the other gets 412.
		path = fmt.Sprintf("/api/v1/products/%d/tags", 9200+round)
		for i := range 2 {
			wg.Go(func() {
				res[i] = h.call(t, "editor", http.MethodPost, path, map[string]any{"add": []string{fmt.Sprint("u", i)}}, map[string]string{"If-Match": `"0"`})
			})
		}
		wg.Wait()
		statuses := []int{res[0].Status, res[1].Status}
		sort.Ints(statuses)
		if statuses[0] != http.StatusOK || statuses[1] != http.StatusPreconditionFailed {
			t.Fatalf("round %d with If-Match \"0\": statuses %v, want 200 and 412", round, statuses)
		}
	}
}

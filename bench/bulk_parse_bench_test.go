package bench

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/storeline/storeline/commands/shopify"
	"github.com/storeline/storeline/pii/piitest"
	"github.com/storeline/storeline/shopifyapi"
)

// bulkParseSizes are the lengths, in lines, of the results BulkParse reads: memory must not
// grow from one to the next.
var bulkParseSizes = []int{100_000, 1_000_000}

// BenchmarkBulkParse reads a bulk export of orders and their line items (writeBulkOrders), served
// from a file over HTTP, with shopifyapi's ResultReader, and translates every line with
// shopify.TranslateBulkRow, as the bulk sync does before producing. One op is the whole file. It
// reports lines/s and the peaks of heap in use, of memory the Go runtime holds from the OS, and
// of the resident set, during the reads: the reader streams in constant memory, so the peaks of
// the long file must be those of the short one (reported, not asserted: GC timing moves the heap
// peak by a few MB). Nothing is produced to Kafka: the read and translation alone. The rows hold
// what BulkQueryOrders asks for, no personal data, so the in-memory sealer seals nothing, as in
// production.
func BenchmarkBulkParse(b *testing.B) {
	dir := b.TempDir()
	type peaks struct{ lines, heap, sys, rss, rssBefore float64 }
	var summary []peaks
	for _, lines := range bulkParseSizes {
		path := filepath.Join(dir, fmt.Sprintf("orders-%d.jsonl", lines))
		var size int64
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { http.ServeFile(w, r, path) }))
		b.Run(fmt.Sprintf("lines=%d", lines), func(b *testing.B) {
			if size == 0 { // once, not for every b.N tried; and not at all when -bench leaves this size out
				var err error
				if size, err = writeBulkOrders(path, lines); err != nil {
					b.Fatal(err)
				}
			}
			api, err := shopifyapi.New(shopifyapi.Config{Shop: benchShop, AccessToken: "shpat_bench", BaseURL: srv.URL})
			if err != nil {
				b.Fatal(err)
			}
			sealer, _ := piitest.NewSealer()
			seal := shopify.PersonalData{Sealer: sealer}
			b.SetBytes(size)
			hwmReset := settleMemory()
			before := procStatus()
			mem := startMemorySampler(5 * time.Millisecond)
			b.ResetTimer()
			start := time.Now()
			for range b.N {
				n, err := translateBulkResult(api, srv.URL+"/orders.jsonl", seal)
				if err != nil {
					b.Fatal(err)
				}
				if n != lines {
					b.Fatalf("read %d lines of %d", n, lines)
				}
			}
			elapsed := time.Since(start)
			b.StopTimer()
			mem.finish()
			rss := mem.rssPeak
			if hwmReset {
				rss = max(rss, procStatus()["VmHWM"])
			} else {
				b.Log("/proc/self/clear_refs could not reset VmHWM: peak RSS is the sampled VmRSS")
			}
			p := peaks{float64(lines*b.N) / elapsed.Seconds(), mib(mem.heapPeak), mib(mem.sysPeak), mib(rss), mib(before["VmRSS"])}
			b.ReportMetric(p.lines, "lines/s")
			b.ReportMetric(p.heap, "peak-heap-MB")
			b.ReportMetric(p.sys, "peak-sys-MB")
			b.ReportMetric(p.rss, "peak-rss-MB")
			b.ReportMetric(float64(size)/(1<<20), "file-MB")
			summary = append(summary, p)
		})
		srv.Close()
		if err := os.Remove(path); err != nil && !os.IsNotExist(err) {
			b.Fatal(err)
		}
	}
	if len(summary) == len(bulkParseSizes) {
		fmt.Println()
		for i, p := range summary {
			fmt.Printf("bulk parse %9d lines: %7.0f lines/s   peak heap in use %5.1f MB   runtime Sys %5.1f MB   RSS %5.1f MB (%.1f MB before)\n",
				bulkParseSizes[i], p.lines, p.heap, p.sys, p.rss, p.rssBefore)
		}
		fmt.Println()
	}
}

// translateBulkResult reads the result at url to the end, translating each line into its
// snapshot event, and returns the number of lines.
func translateBulkResult(api *shopifyapi.Client, url string, seal shopify.SubjectSealer) (int, error) {
	ctx := context.Background()
	r, err := api.OpenResult(ctx, url)
	if err != nil {
		return 0, err
	}
	defer r.Close()
	opCreated := time.Date(2026, 11, 27, 6, 0, 0, 0, time.UTC)
	n := 0
	for {
		line, err := r.Next()
		if err == io.EOF {
			return n, nil
		}
		if err != nil {
			return n, err
		}
		_, err = shopify.TranslateBulkRow(ctx, shopify.BulkRow{
			Shop: benchShop, BulkOperationGID: "gid://shopify/BulkOperation/4242", BulkOperationCreatedAt: opCreated,
			Row: line.Number, Line: line.Raw, APIVersion: shopifyapi.DefaultAPIVersion, CorrelationID: "bench-run",
		}, seal)
		if err != nil {
			return n, fmt.Errorf("line %d: %w", line.Number, err)
		}
		n++
	}
}

func mib(b uint64) float64 { return float64(b) / (1 << 20) }

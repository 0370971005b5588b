package bench

import (
	"fmt"
	"testing"
	"time"
)

// fixedLoadRates are the offered loads of BenchmarkIntakeFixedLoad, in webhooks per second.
var fixedLoadRates = []int{500, 1500}

// BenchmarkIntakeFixedLoad offers webhooks at a fixed rate, open-loop (openLoop: on schedule,
// whatever the answers take), through the real intake, and then franz-go's ProduceSync of the
// same record at the same rate, and reports for each the throughput achieved and the latency
// percentiles from when each request was due. One op is one offered request, so a load is offered
// for about -benchtime (1.2 × it in the reported run; ns/op is the schedule's interval, not a
// cost): make bench gives it 8s, ~10 s a load. Closed-loop throughput at saturation is
// BenchmarkIntakeVsRawProduce's.
func BenchmarkIntakeFixedLoad(b *testing.B) {
	// Enough keep-alive connections for every request in flight up to a ~170 ms backlog at the
	// highest rate, so the measure is of the intake and not of dialling.
	rig := newIntakeRig(b, 256)
	for _, rate := range fixedLoadRates {
		var intake, raw loadResult
		b.Run(fmt.Sprintf("rate=%d", rate), func(b *testing.B) {
			b.Run("webhook", func(b *testing.B) { intake = fixedLoad(b, rate, rig.webhook) })
			b.Run("raw_produce", func(b *testing.B) { raw = fixedLoad(b, rate, rig.rawProduce) })
		})
		if raw.achieved > 0 && raw.p99 > 0 {
			fmt.Printf("\noffered %d/s: intake %.0f/s p50 %s p95 %s p99 %s (%d errors)   raw produce %.0f/s p50 %s p95 %s p99 %s (%d errors)\n"+
				"  intake/raw: throughput %.2f, p50 %.2f, p99 %.2f   (p99 of calls' late start: intake %s, raw %s)\n\n",
				rate, intake.achieved, ms(intake.p50), ms(intake.p95), ms(intake.p99), intake.errors,
				raw.achieved, ms(raw.p50), ms(raw.p95), ms(raw.p99), raw.errors,
				intake.achieved/raw.achieved, float64(intake.p50)/float64(raw.p50), float64(intake.p99)/float64(raw.p99),
				ms(intake.lagP99), ms(raw.lagP99))
		}
	}
}

// fixedLoad offers b.N calls of op at rate per second and reports what openLoop measured.
func fixedLoad(b *testing.B, rate int, op func() error) loadResult {
	b.ResetTimer()
	r := openLoop(b.N, float64(rate), op)
	b.StopTimer()
	if r.errors == int64(b.N) {
		b.Fatalf("every one of %d calls failed: %v", b.N, r.firstErr)
	}
	if r.errors > 0 {
		b.Logf("%d of %d calls failed, the first with: %v", r.errors, b.N, r.firstErr)
	}
	b.ReportMetric(r.offered, "offered/s")
	b.ReportMetric(r.achieved, "achieved/s")
	b.ReportMetric(msf(r.p50), "p50-ms")
	b.ReportMetric(msf(r.p95), "p95-ms")
	b.ReportMetric(msf(r.p99), "p99-ms")
	b.ReportMetric(msf(r.max), "max-ms")
	b.ReportMetric(msf(r.lagP99), "start-lag-p99-ms")
	b.ReportMetric(float64(r.errors), "errors")
	return r
}

func msf(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func ms(d time.Duration) string { return fmt.Sprintf("%.2fms", msf(d)) }

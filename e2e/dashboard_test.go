package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/storeline/storeline/testkit"
)

// TestDashboardCommandsSurviveKill9: objectives created through the binary's API (dev-mode
// authentication), the process killed with SIGKILL right after an answer, restarted: every
// answered command is in the log exactly once and readable with its consistency token.
func TestDashboardCommandsSurviveKill9(t *testing.T) {
	d := newDeployment(t)
	d.extraEnv = append(d.extraEnv, `STORELINE_SHOPIFY_SHOPS=[{"domain":"e2e.myshopify.com","currency":"EUR"}]`)
	d.start()

	type answered struct{ id, token string }
	var done []answered
	create := func(i int) answered {
		body := fmt.Sprintf(`{"name":"objective %d","scope":{"type":"tag","tag":"linen"},"metric":"units_sold","comparison":"at_least","target":{"value":%d},"period":{"kind":"weekly"}}`, i, i)
		resp, err := http.Post("http://"+d.addr+"/api/v1/objectives", "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusCreated {
			t.Fatalf("create %d: %d %s", i, resp.StatusCode, b)
		}
		var o struct{ ID string }
		if err := json.Unmarshal(b, &o); err != nil {
			t.Fatal(err)
		}
		return answered{o.ID, resp.Header.Get("X-Consistency-Token")}
	}
	for round := range 3 {
		for i := range 10 {
			done = append(done, create(round*10+i))
		}
		d.kill() // right after the last answer: its event may not be relayed yet
		d.start()
	}
	for _, a := range done {
		resp, err := http.Get("http://" + d.addr + "/api/v1/objectives/" + a.id + "?consistency=" + a.token)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || resp.Header.Get("ETag") != `"1"` {
			t.Fatalf("objective %s after the kills: %d %s", a.id, resp.StatusCode, b)
		}
	}

	// The deep health check sees every part.
	resp, err := http.Get("http://" + d.addr + "/api/v1/health")
	if err != nil {
		t.Fatal(err)
	}
	var health struct {
		Status string
		Checks map[string]struct {
			OK    bool
			Error string
		}
	}
	err = json.NewDecoder(resp.Body).Decode(&health)
	resp.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"kafka", "postgres", "outbox", "sink:iceberg", "projection:orders", "projection:objectives", "projection:tags", "projection:plans", "projection:products"} {
		if c, ok := health.Checks[name]; !ok || !c.OK {
			t.Errorf("health check %s: %+v (present %v)", name, c, ok)
		}
	}
	if resp.StatusCode != http.StatusOK || health.Status != "ok" {
		t.Errorf("health %d %+v", resp.StatusCode, health)
	}

	// The log holds each decision exactly once.
	cl, err := kgo.NewClient(kgo.SeedBrokers(strings.Split(os.Getenv(testkit.EnvBrokers), ",")...), kgo.ConsumeTopics(d.prefix+"publication"),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	seen := map[string]int{}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for n := 0; n < len(done) && ctx.Err() == nil; {
		for _, r := range cl.PollFetches(ctx).Records() {
			seen[string(r.Key)]++
			n++
		}
	}
	extra, cancel2 := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel2()
	for _, r := range cl.PollFetches(extra).Records() {
		seen[string(r.Key)]++
	}
	for _, a := range done {
		if seen[a.id] != 1 {
			t.Errorf("objective %s: %d events in the log, want 1", a.id, seen[a.id])
		}
	}
	if len(seen) != len(done) {
		t.Errorf("%d aggregates in the log, want %d", len(seen), len(done))
	}
}

// TestProductionRefusesDevAuthentication: with STORELINE_PRODUCTION=true and no identity
// provider, storeline does not start (the API would be open).
func TestProductionRefusesDevAuthentication(t *testing.T) {
	d := newDeployment(t)
	cmd := exec.Command(binary(t), "run")
	cmd.Env = append(d.env(), "STORELINE_PRODUCTION=true")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	done := make(chan error, 1)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err == nil || !strings.Contains(out.String(), "auth-issuer") {
			t.Fatalf("exit %v, output:\n%s", err, out.String())
		}
	case <-time.After(60 * time.Second):
		_ = cmd.Process.Kill()
		t.Fatal("storeline kept running in production without authentication")
	}
}

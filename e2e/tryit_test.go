package e2e

import (
	"bytes"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/storeline/storeline/testkit"
)

// TestEmbeddedDefaultsAsANewUser does what the README tells a new user: `storeline run` with
// nothing configured (embedded Kafka, a private PostgreSQL cluster, a local warehouse), paste the
// printed webhook command, read the order back, then run the README's PyIceberg snippet.
func TestEmbeddedDefaultsAsANewUser(t *testing.T) {
	python := testkit.Python(t)
	dir, err := os.MkdirTemp("/tmp", "storeline-tryit-") // the postgres user must reach it
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	addr := freeAddr(t)
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "STORELINE_") {
			env = append(env, kv)
		}
	}
	cmd := exec.Command(binary(t), "run", "--http-addr", addr)
	cmd.Dir, cmd.Env = dir, env
	stdout, logs := &lockedBuffer{}, &lockedBuffer{}
	cmd.Stdout, cmd.Stderr = stdout, logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	stopped := false
	t.Cleanup(func() {
		if !stopped {
			_ = cmd.Process.Kill()
			<-exited
		}
		if t.Failed() {
			t.Logf("stdout:\n%s\nlogs:\n%s", stdout.String(), logs.String())
		}
	})

	curl := regexp.MustCompile(`(?s)curl -sS -X POST .*?--data-binary @\S+`)
	var send string
	testkit.WaitFor(t, 90*time.Second, "the printed webhook command", func() error {
		select {
		case <-exited:
			t.Fatalf("storeline exited")
		default:
		}
		if send = curl.FindString(stdout.String()); send == "" {
			return fmt.Errorf("not printed yet")
		}
		return nil
	})
	out, err := exec.Command("bash", "-c", send+" -w ' %{http_code}'").CombinedOutput()
	if err != nil || !strings.HasSuffix(strings.TrimSpace(string(out)), " 200") {
		t.Fatalf("the printed command: %v: %s", err, out)
	}
	acked := time.Now()
	testkit.WaitFor(t, 5*time.Second, "the order in the API", func() error {
		resp, err := http.Get("http://" + addr + "/api/v1/orders/5801234567890")
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			return fmt.Errorf("status %d", resp.StatusCode)
		}
		return nil
	})
	t.Logf("order readable %s after the webhook's 200", time.Since(acked).Round(time.Millisecond))

	snippet := readmePython(t)
	testkit.WaitFor(t, 40*time.Second, "the README's PyIceberg snippet to print the order", func() error {
		c := exec.Command(python, "-c", snippet)
		c.Dir = dir
		var b bytes.Buffer
		c.Stdout, c.Stderr = &b, &b
		if err := c.Run(); err != nil {
			return fmt.Errorf("%v: %s", err, lastLine(b.String()))
		}
		if !strings.Contains(b.String(), "5801234567890") {
			return fmt.Errorf("printed %q", b.String())
		}
		return nil
	})
	t.Logf("lake row readable %s after the webhook's 200", time.Since(acked).Round(time.Millisecond))

	// The demo shop's orders arrive without anything to do.
	demoRead := regexp.MustCompile(`curl -sS (http://\S+/api/v1/orders/(\d+))`)
	var demoURL string
	for _, m := range demoRead.FindAllStringSubmatch(stdout.String(), -1) {
		if m[2] != "5801234567890" {
			demoURL = m[1]
		}
	}
	if demoURL == "" {
		t.Fatalf("no demo shop order printed:\n%s", stdout.String())
	}
	testkit.WaitFor(t, 60*time.Second, "the demo shop's order in the API", func() error {
		resp, err := http.Get(demoURL)
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			return fmt.Errorf("status %d", resp.StatusCode)
		}
		return nil
	})

	_ = cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-exited:
	case <-time.After(45 * time.Second):
		t.Fatal("no clean stop within 45s of SIGTERM")
	}
	stopped = true
	if code := cmd.ProcessState.ExitCode(); code != 0 {
		t.Fatalf("exit code %d after SIGTERM", code)
	}
	if _, err := os.Stat(filepath.Join(dir, ".storeline", "pg", "data", "postmaster.pid")); err == nil {
		t.Error("the embedded PostgreSQL is still running after storeline stopped")
	}
}

// readmePython returns the README's first python code block.
func readmePython(t *testing.T) string {
	b, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile("(?s)```python\n(.*?)```").FindSubmatch(b)
	if m == nil {
		t.Fatal("README.md has no python snippet")
	}
	return string(m[1])
}

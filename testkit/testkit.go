// Package testkit holds what integration tests share: the real Kafka and Postgres started by
// scripts/testenv (through STORELINE_TEST_* variables), a fresh database and fresh topics per
// test, and waiting on a condition with a deadline. Tests sign webhooks with package webhooksig, as
// the gateway verifies them.
package testkit

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/storeline/storeline/migrations"
	"github.com/storeline/storeline/registry"
)

// Environment variables set by scripts/testenv (make test sets them all).
const (
	EnvIntegration = "STORELINE_INTEGRATION"
	EnvBrokers     = "STORELINE_TEST_KAFKA_BROKERS"
	EnvDatabaseURL = "STORELINE_TEST_DATABASE_URL"
	EnvPython      = "STORELINE_TEST_PYTHON"
)

// Integration skips the test unless the integration tier is on (STORELINE_INTEGRATION=1, as
// make test sets it), and fails it when the tier is on but a service it needs is not given.
func Integration(t testing.TB) {
	t.Helper()
	if os.Getenv(EnvIntegration) != "1" {
		t.Skip("integration tier off: run make test (it starts Kafka and Postgres)")
	}
	for _, v := range []string{EnvBrokers, EnvDatabaseURL} {
		if os.Getenv(v) == "" {
			t.Fatalf("%s=1 but %s is empty: start the services with scripts/testenv up", EnvIntegration, v)
		}
	}
}

// Brokers returns the test Kafka's bootstrap addresses.
func Brokers(t testing.TB) []string {
	t.Helper()
	Integration(t)
	return strings.Split(os.Getenv(EnvBrokers), ",")
}

// Python returns the cross-engine virtualenv's python, failing the test if there is none.
func Python(t testing.TB) string {
	t.Helper()
	Integration(t)
	p := os.Getenv(EnvPython)
	if p == "" {
		t.Fatalf("%s is empty: scripts/testenv up makes the virtualenv", EnvPython)
	}
	return p
}

// Unique returns a short random name with the given prefix, safe for topics and databases.
func Unique(prefix string) string {
	var b [6]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err)
	}
	return prefix + hex.EncodeToString(b[:])
}

// FreshDatabaseURL creates an empty database with every migration applied, drops it when the
// test ends, and returns its URL.
func FreshDatabaseURL(t testing.TB) string {
	t.Helper()
	Integration(t)
	base := os.Getenv(EnvDatabaseURL)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	admin, err := pgx.Connect(ctx, base)
	if err != nil {
		t.Fatalf("connect to test postgres: %v", err)
	}
	defer admin.Close(ctx)
	name := Unique("t_")
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatalf("create database: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		c, err := pgx.Connect(ctx, base)
		if err != nil {
			t.Logf("drop database %s: %v", name, err)
			return
		}
		defer c.Close(ctx)
		if _, err := c.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			t.Logf("drop database %s: %v", name, err)
		}
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("parse %s: %v", EnvDatabaseURL, err)
	}
	u.Path = "/" + name
	dbURL := u.String()
	pool, err := pgxpool.New(ctx, dbURL)
	if err != nil {
		t.Fatalf("open fresh database: %v", err)
	}
	defer pool.Close()
	if err := migrations.Up(ctx, pool); err != nil {
		t.Fatalf("migrate fresh database: %v", err)
	}
	return dbURL
}

// FreshDatabase is FreshDatabaseURL with a pool on it, closed when the test ends.
func FreshDatabase(t testing.TB) *pgxpool.Pool {
	t.Helper()
	pool, err := pgxpool.New(context.Background(), FreshDatabaseURL(t))
	if err != nil {
		t.Fatalf("open fresh database: %v", err)
	}
	t.Cleanup(pool.Close)
	return pool
}

// FreshTopicPrefix returns a new topic prefix and creates prefix+topic for each topic given,
// with the given partition count; the topics are deleted when the test ends.
func FreshTopicPrefix(t testing.TB, partitions int32, topics ...string) string {
	t.Helper()
	brokers := Brokers(t)
	prefix := Unique("t") + "."
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...))
	if err != nil {
		t.Fatalf("kafka client: %v", err)
	}
	adm := kadm.NewClient(cl)
	names := make([]string, len(topics))
	for i, tp := range topics {
		names[i] = prefix + tp
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	resp, err := adm.CreateTopics(ctx, partitions, 1, nil, names...)
	if err == nil {
		err = resp.Error()
	}
	if err != nil {
		cl.Close()
		t.Fatalf("create topics %v: %v", names, err)
	}
	t.Cleanup(func() {
		defer cl.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		// Every topic of the prefix: those made here and those the code under test made
		// (dead-letter topics, the registry's).
		all, err := adm.ListTopics(ctx)
		if err != nil {
			t.Logf("list topics: %v", err)
			return
		}
		var mine []string
		for _, name := range all.Names() {
			if strings.HasPrefix(name, prefix) {
				mine = append(mine, name)
			}
		}
		if _, err := adm.DeleteTopics(ctx, mine...); err != nil {
			t.Logf("delete topics: %v", err)
		}
	})
	return prefix
}

// Registry starts the embedded schema registry on prefix's registry topic, closed when the
// test ends.
func Registry(t testing.TB, prefix string) *registry.Store {
	t.Helper()
	s, err := registry.NewStore(registry.StoreConfig{Brokers: Brokers(t), Topic: registry.TopicName(prefix), ReplicationFactor: 1})
	if err != nil {
		t.Fatalf("schema registry: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := s.Start(ctx); err != nil {
		t.Fatalf("start schema registry: %v", err)
	}
	t.Cleanup(s.Close)
	return s
}

// WaitFor polls cond until it returns nil, failing the test with cond's last error when the
// deadline passes. Use it instead of sleeping.
func WaitFor(t testing.TB, timeout time.Duration, what string, cond func() error) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	delay := 5 * time.Millisecond
	for {
		err := cond()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("waited %s for %s: %v", timeout, what, err)
		}
		time.Sleep(delay)
		if delay < 200*time.Millisecond {
			delay *= 2
		}
	}
}

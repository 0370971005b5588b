package embedded

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// Postgres is a private PostgreSQL cluster under a directory of storeline's.
type Postgres struct {
	bin     string // directory of initdb, pg_ctl
	dataDir string
	runAs   string // user to run the server as when we are root ("" otherwise)
	port    int
	log     *slog.Logger
	started bool // started by us (and so stopped by us)
}

// StartPostgres creates (first time) and starts a cluster under dir, listening on loopback only,
// and returns once it accepts connections. PostgreSQL refuses to run as root, so when storeline
// runs as root the cluster belongs to, and runs as, the postgres user.
func StartPostgres(ctx context.Context, dir string, log *slog.Logger) (*Postgres, error) {
	bin, err := postgresBin(ctx, log)
	if err != nil {
		return nil, err
	}
	dir, err = filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	p := &Postgres{bin: bin, dataDir: filepath.Join(dir, "data"), log: log}
	if os.Geteuid() == 0 {
		p.runAs = "postgres"
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("embedded postgres dir: %w", err)
	}
	if err := p.chown(dir); err != nil {
		return nil, err
	}
	if _, err := os.Stat(filepath.Join(p.dataDir, "PG_VERSION")); errors.Is(err, os.ErrNotExist) {
		log.Info("creating embedded postgres cluster", "dir", p.dataDir)
		if out, err := p.run(ctx, "initdb", "-D", p.dataDir, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-instructions"); err != nil {
			return nil, fmt.Errorf("initdb: %w: %s", err, out)
		}
	}
	if port, ok := p.runningPort(); ok {
		p.port = port
		log.Info("embedded postgres already running", "port", port)
	} else {
		if p.port, err = freePort(); err != nil {
			return nil, err
		}
		opts := fmt.Sprintf("-p %d -c listen_addresses=127.0.0.1 -k %s", p.port, dir)
		if out, err := p.run(ctx, "pg_ctl", "-D", p.dataDir, "-l", filepath.Join(dir, "postgres.log"), "-o", opts, "-w", "-t", "60", "start"); err != nil {
			return nil, fmt.Errorf("start embedded postgres: %w: %s", err, out)
		}
		p.started = true
		log.Info("embedded postgres started (for trying storeline out)", "port", p.port, "dir", p.dataDir)
	}
	if err := p.ensureDatabase(ctx); err != nil {
		return nil, err
	}
	return p, nil
}

// URL returns the connection URL of the storeline database.
func (p *Postgres) URL() string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/storeline?sslmode=disable", p.port)
}

// Stop stops the cluster if this process started it.
func (p *Postgres) Stop(ctx context.Context) error {
	if !p.started {
		return nil
	}
	if out, err := p.run(ctx, "pg_ctl", "-D", p.dataDir, "-m", "fast", "-w", "stop"); err != nil {
		return fmt.Errorf("stop embedded postgres: %w: %s", err, out)
	}
	return nil
}

func (p *Postgres) ensureDatabase(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	c, err := pgx.Connect(ctx, fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", p.port))
	if err != nil {
		return fmt.Errorf("connect to embedded postgres: %w", err)
	}
	defer c.Close(ctx)
	var exists bool
	if err := c.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = 'storeline')").Scan(&exists); err != nil {
		return fmt.Errorf("look up database: %w", err)
	}
	if !exists {
		if _, err := c.Exec(ctx, "CREATE DATABASE storeline"); err != nil {
			return fmt.Errorf("create database storeline: %w", err)
		}
	}
	return nil
}

// runningPort reads the port of a server already running on the data directory (left by a
// previous run that was killed), from postmaster.pid.
func (p *Postgres) runningPort() (int, bool) {
	f, err := os.Open(filepath.Join(p.dataDir, "postmaster.pid"))
	if err != nil {
		return 0, false
	}
	defer f.Close()
	var lines []string
	for s := bufio.NewScanner(f); s.Scan(); {
		lines = append(lines, s.Text())
	}
	if len(lines) < 4 {
		return 0, false
	}
	pid, err1 := strconv.Atoi(strings.TrimSpace(lines[0]))
	port, err2 := strconv.Atoi(strings.TrimSpace(lines[3]))
	if err1 != nil || err2 != nil {
		return 0, false
	}
	if !alive(pid) {
		return 0, false
	}
	conn, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", port), time.Second)
	if err != nil {
		return 0, false
	}
	conn.Close()
	return port, true
}

func (p *Postgres) run(ctx context.Context, tool string, args ...string) ([]byte, error) {
	path := filepath.Join(p.bin, tool)
	var cmd *exec.Cmd
	if p.runAs != "" {
		cmd = exec.CommandContext(ctx, "runuser", append([]string{"-u", p.runAs, "--", path}, args...)...)
	} else {
		cmd = exec.CommandContext(ctx, path, args...)
	}
	// The server must outlive a Ctrl-C sent to storeline's process group: storeline stops it itself.
	cmd.SysProcAttr = detached()
	return cmd.CombinedOutput()
}

func (p *Postgres) chown(dir string) error {
	if p.runAs == "" {
		return nil
	}
	u, err := user.Lookup(p.runAs)
	if err != nil {
		return fmt.Errorf("running as root needs the %s user (apt-get install postgresql): %w", p.runAs, err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	if err := os.Chown(dir, uid, gid); err != nil {
		return fmt.Errorf("chown %s: %w", dir, err)
	}
	// The postgres user must be able to reach dir through its parents.
	for d := filepath.Dir(dir); d != "/" && d != "."; d = filepath.Dir(d) {
		fi, err := os.Stat(d)
		if err != nil {
			return err
		}
		if fi.Mode().Perm()&0o001 == 0 {
			return fmt.Errorf("%s is not traversable by the %s user: chmod o+x it or set STORELINE_DATABASE_URL", d, p.runAs)
		}
	}
	return nil
}

// postgresBin finds the newest installed PostgreSQL's binaries, installing PostgreSQL with apt
// when none is there and we may.
func postgresBin(ctx context.Context, log *slog.Logger) (string, error) {
	find := func() string {
		dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
		sort.Slice(dirs, func(i, j int) bool { return versionOf(dirs[i]) > versionOf(dirs[j]) })
		for _, d := range dirs {
			if _, err := os.Stat(filepath.Join(d, "initdb")); err == nil {
				return d
			}
		}
		return ""
	}
	if d := find(); d != "" {
		return d, nil
	}
	if os.Geteuid() != 0 {
		return "", errors.New("no PostgreSQL binaries in /usr/lib/postgresql: install postgresql or set STORELINE_DATABASE_URL")
	}
	log.Info("installing postgresql with apt-get (first run)")
	for _, args := range [][]string{{"update"}, {"install", "-y", "postgresql"}} {
		cmd := exec.CommandContext(ctx, "apt-get", args...)
		cmd.Env = append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
		if out, err := cmd.CombinedOutput(); err != nil {
			return "", fmt.Errorf("apt-get %s: %w: %s", strings.Join(args, " "), err, out)
		}
	}
	if d := find(); d != "" {
		return d, nil
	}
	return "", errors.New("postgresql installed but no initdb found in /usr/lib/postgresql/*/bin")
}

func versionOf(binDir string) int {
	v, _ := strconv.Atoi(filepath.Base(filepath.Dir(binDir)))
	return v
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// Package scheduler is the scheduler role: it starts recurring work at fixed times, the way the
// system it replaces used cron triggers. Each firing is recorded as an event (a request the
// workflows role carries out), with an id derived from the job and the firing time, so that two
// scheduler replicas firing the same minute request the same run once.
package scheduler

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/robfig/cron/v3"
)

// Job is one recurring piece of work.
type Job struct {
	Name string // e.g. bulk-sync
	Spec string // cron expression in UTC, e.g. "0 6 * * *"
	// Fire requests the work for the firing at time at; it must be idempotent for a given at.
	Fire func(ctx context.Context, at time.Time) error
}

// DailyBulkSync is the bulk sync's schedule: every day at 06:00 UTC.
const DailyBulkSync = "0 6 * * *"

// Scheduler fires jobs on their schedules until its context ends.
type Scheduler struct {
	jobs  []Job
	log   *slog.Logger
	now   func() time.Time
	sleep func(context.Context, time.Duration) bool // false when ctx ended first
}

// New returns a scheduler of jobs. It refuses a job whose spec does not parse.
func New(jobs []Job, log *slog.Logger) (*Scheduler, error) {
	for _, j := range jobs {
		if _, err := cron.ParseStandard(j.Spec); err != nil {
			return nil, fmt.Errorf("schedule of %s: %w", j.Name, err)
		}
	}
	return &Scheduler{jobs: jobs, log: log, now: time.Now, sleep: sleep}, nil
}

// Run fires each job at each time its schedule names, until ctx ends. A firing that fails is
// retried with backoff until it succeeds or the next firing of the job is due.
func (s *Scheduler) Run(ctx context.Context) error {
	c := cron.New(cron.WithLocation(time.UTC), cron.WithParser(cron.NewParser(
		cron.Minute|cron.Hour|cron.Dom|cron.Month|cron.Dow|cron.Descriptor)))
	for _, j := range s.jobs {
		sched, _ := cron.ParseStandard(j.Spec)
		c.Schedule(sched, cron.FuncJob(func() {
			at := s.now().UTC().Truncate(time.Minute)
			s.fire(ctx, j, at, sched.Next(at))
		}))
		s.log.Info("job scheduled", "job", j.Name, "spec", j.Spec, "next", sched.Next(s.now()).UTC())
	}
	c.Start()
	<-ctx.Done()
	<-c.Stop().Done()
	return nil
}

func (s *Scheduler) fire(ctx context.Context, j Job, at, next time.Time) {
	delay := time.Second
	for {
		err := j.Fire(ctx, at)
		if err == nil {
			s.log.Info("job fired", "job", j.Name, "at", at)
			return
		}
		s.log.Error("job firing failed; retrying", "job", j.Name, "at", at, "err", err, "retry_in", delay)
		if s.now().Add(delay).After(next) {
			s.log.Error("job firing abandoned: the next one is due", "job", j.Name, "at", at)
			return
		}
		if !s.sleep(ctx, delay) {
			return
		}
		delay = min(2*delay, time.Minute)
	}
}

func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

func cronParse(spec string) (cron.Schedule, error) { return cron.ParseStandard(spec) }

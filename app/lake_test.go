package app

import (
	"io"
	"log/slog"
	"testing"

	"github.com/storeline/storeline/config"
)

// The scheduler role gets a maintenance job per configured schedule, none for an empty one.
func TestLakeJobsFollowTheSchedules(t *testing.T) {
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	names := func(cfg *config.Config) []string {
		var out []string
		for _, j := range lakeJobs(cfg, "", nil, log) {
			out = append(out, j.Name+" "+j.Spec)
		}
		return out
	}
	if got := names(&config.Config{}); len(got) != 0 {
		t.Errorf("no schedules gave jobs %v", got)
	}
	got := names(&config.Config{LakeMaintenance: "15 * * * *", LakeOrphanCleanup: "45 3 * * *"})
	if len(got) != 2 || got[0] != "lake-maintenance 15 * * * *" || got[1] != "lake-orphan-cleanup 45 3 * * *" {
		t.Errorf("jobs %v", got)
	}
}

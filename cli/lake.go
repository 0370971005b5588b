package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/storeline/storeline/app"
	icebergsink "github.com/storeline/storeline/sinks/iceberg"
)

func lakeCmd() *cobra.Command {
	lake := &cobra.Command{Use: "lake", Short: "The Iceberg tables: their state, compaction of small files, snapshot expiry and orphan-file cleanup",
		Long: "Tables are named namespace.table (e.g. commerce.orders); none means every table of the catalog. " +
			"The scheduler role runs the same maintenance on --lake-maintenance and --lake-orphan-cleanup."}
	lake.AddCommand(lakeStatusCmd(), lakeCompactCmd(), lakeExpireCmd())
	return lake
}

func openLake(cmd *cobra.Command) (*app.Lake, icebergsink.MaintenanceOptions, error) {
	cfg, log, err := load(cmd)
	if err != nil {
		return nil, icebergsink.MaintenanceOptions{}, err
	}
	l, err := app.OpenLake(cmd.Context(), cfg, log)
	if err != nil {
		return nil, icebergsink.MaintenanceOptions{}, err
	}
	return l, app.LakeOptions(cfg, log), nil
}

func lakeStatusCmd() *cobra.Command {
	var asJSON bool
	status := &cobra.Command{
		Use:   "status [TABLE...]",
		Short: "Each table's snapshots, data files, size, rows, files per partition (day) and the sink's offsets",
		RunE: func(cmd *cobra.Command, args []string) error {
			l, _, err := openLake(cmd)
			if err != nil {
				return err
			}
			defer l.Close()
			st, err := l.Status(cmd.Context(), args)
			if err != nil {
				return err
			}
			if asJSON {
				return json.NewEncoder(cmd.OutOrStdout()).Encode(st)
			}
			w := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			fmt.Fprintln(w, "TABLE\tSNAPSHOTS\tCURRENT\tFILES\tSIZE\tROWS\tDAYS\tFILES/DAY MAX\tAVG\tOFFSETS")
			for _, s := range st {
				cur := "-"
				if s.CurrentSnapshotAt != nil {
					cur = fmt.Sprintf("%s ago (%s)", time.Since(*s.CurrentSnapshotAt).Round(time.Second), s.Operation)
				}
				fmt.Fprintf(w, "%s\t%d\t%s\t%d\t%s\t%d\t%d\t%d\t%.1f\t%s\n", s.Table, s.Snapshots, cur, s.DataFiles,
					bytesString(s.TotalBytes), s.Rows, s.Partitions, s.MaxFilesPerPartition, s.AvgFilesPerPartition, offsetsString(s.Offsets))
			}
			return w.Flush()
		},
	}
	status.Flags().BoolVar(&asJSON, "json", false, "print JSON (with the files of every partition)")
	return status
}

func lakeCompactCmd() *cobra.Command {
	var asJSON, dryRun bool
	var target int64
	compact := &cobra.Command{
		Use:   "compact [TABLE...]",
		Short: "Merge each day's small files into files of about --target-file-size, in one snapshot per table that keeps the sink's offsets",
		Long: "A day's files under 75% of the target are merged once there are two. The commit is a compare-and-swap on the snapshot " +
			"the compaction read: when the sink commits meanwhile, the same merged files are committed again on its snapshot, or the " +
			"round is given up if their inputs changed. Safe while the sink runs.",
		RunE: func(cmd *cobra.Command, args []string) error {
			l, opts, err := openLake(cmd)
			if err != nil {
				return err
			}
			defer l.Close()
			if cmd.Flags().Changed("target-file-size") {
				if target < 1<<20 {
					return fmt.Errorf("--target-file-size: want at least 1 MiB")
				}
				opts.TargetFileSize = target
			}
			opts.DryRun = dryRun
			rep, err := l.Maintain(cmd.Context(), args, icebergsink.MaintenanceTasks{Compact: true}, opts)
			if perr := printReport(cmd.OutOrStdout(), rep, asJSON); perr != nil {
				return perr
			}
			return err
		},
	}
	compact.Flags().Int64Var(&target, "target-file-size", 0, "size in bytes of the files written (default: the --lake-target-file-size setting, 128 MiB)")
	compact.Flags().BoolVar(&dryRun, "dry-run", false, "only show what would be merged")
	compact.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return compact
}

func lakeExpireCmd() *cobra.Command {
	var asJSON, dryRun, orphans bool
	var olderThan, orphanAge time.Duration
	var retainLast int
	expire := &cobra.Command{
		Use:   "expire [TABLE...] [--older-than 168h] [--retain-last 5] [--orphans] [--dry-run]",
		Short: "Expire snapshots older than --older-than beyond the newest --retain-last, deleting the files only they held; with --orphans, also delete unreferenced files",
		Long: "The current snapshot is always kept, and the sink's offsets must read the same afterwards (they are mirrored in a table " +
			"property), or nothing is committed. --orphans deletes the files under a table's location that no metadata file or snapshot " +
			"references once older than --orphan-age (a running sink's uncommitted files are younger).",
		RunE: func(cmd *cobra.Command, args []string) error {
			l, opts, err := openLake(cmd)
			if err != nil {
				return err
			}
			defer l.Close()
			if cmd.Flags().Changed("older-than") {
				opts.SnapshotRetention = olderThan
			}
			if cmd.Flags().Changed("retain-last") {
				opts.RetainSnapshots = retainLast
			}
			if cmd.Flags().Changed("orphan-age") {
				opts.OrphanAge = orphanAge
			}
			if opts.SnapshotRetention <= 0 || opts.RetainSnapshots < 1 {
				return fmt.Errorf("--older-than must be positive and --retain-last at least 1")
			}
			opts.DryRun = dryRun
			rep, err := l.Maintain(cmd.Context(), args, icebergsink.MaintenanceTasks{Expire: true, Orphans: orphans}, opts)
			if perr := printReport(cmd.OutOrStdout(), rep, asJSON); perr != nil {
				return perr
			}
			return err
		},
	}
	expire.Flags().DurationVar(&olderThan, "older-than", 0, "expire snapshots older than this (default: the --lake-snapshot-retention setting, 168h)")
	expire.Flags().IntVar(&retainLast, "retain-last", 0, "always keep this many newest snapshots (default: the --lake-retain-snapshots setting, 5)")
	expire.Flags().BoolVar(&orphans, "orphans", false, "also delete unreferenced files older than --orphan-age")
	expire.Flags().DurationVar(&orphanAge, "orphan-age", 0, "how old an unreferenced file must be to go, at least 1h (default: the --lake-orphan-age setting, 24h)")
	expire.Flags().BoolVar(&dryRun, "dry-run", false, "only show what would be expired and deleted")
	expire.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return expire
}

func printReport(out io.Writer, rep icebergsink.MaintenanceReport, asJSON bool) error {
	if asJSON {
		return json.NewEncoder(out).Encode(rep)
	}
	w := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	if len(rep.Compacted) > 0 {
		fmt.Fprintln(w, "TABLE\tPARTITIONS\tFILES\tSIZE\tROWS\tATTEMPTS\tRESULT")
		for _, c := range rep.Compacted {
			result := "nothing to do"
			switch {
			case c.GaveUp != "":
				result = "gave up: " + c.GaveUp
			case c.DryRun && c.Groups > 0:
				result = "would compact (dry run)"
			case c.SnapshotID != 0:
				result = fmt.Sprintf("snapshot %d", c.SnapshotID)
			}
			files, size := fmt.Sprint(c.RemovedFiles), bytesString(c.BytesBefore)
			if !c.DryRun && c.Groups > 0 {
				files += fmt.Sprintf(" -> %d", c.AddedFiles)
				size += " -> " + bytesString(c.BytesAfter)
			}
			fmt.Fprintf(w, "%s\t%d\t%s\t%s\t%d\t%d\t%s\n", c.Table, c.Groups, files, size, c.Rows, c.Attempts, result)
		}
		fmt.Fprintln(w)
	}
	if len(rep.Expired) > 0 {
		fmt.Fprintln(w, "TABLE\tSNAPSHOTS\tEXPIRED\t")
		for _, e := range rep.Expired {
			note := ""
			if e.DryRun && len(e.Expired) > 0 {
				note = "(dry run)"
			}
			fmt.Fprintf(w, "%s\t%d -> %d\t%d\t%s\n", e.Table, e.SnapshotsBefore, e.SnapshotsAfter, len(e.Expired), note)
		}
		fmt.Fprintln(w)
	}
	if len(rep.Orphans) > 0 {
		fmt.Fprintln(w, "TABLE\tORPHAN FILES\tSIZE\tDELETED")
		for _, o := range rep.Orphans {
			fmt.Fprintf(w, "%s\t%d\t%s\t%d\n", o.Table, len(o.Orphans), bytesString(o.Bytes), o.Deleted)
			if o.DryRun {
				for _, p := range o.Orphans {
					fmt.Fprintf(w, "  %s\t\t\t\n", p)
				}
			}
		}
	}
	return w.Flush()
}

func offsetsString(offs map[string]icebergsink.Offsets) string {
	var groups []string
	for g, o := range offs {
		var parts []string
		for topic, ps := range o {
			for p, next := range ps {
				parts = append(parts, fmt.Sprintf("%s/%d=%d", topic, p, next))
			}
		}
		slices.Sort(parts)
		groups = append(groups, g+": "+strings.Join(parts, ","))
	}
	slices.Sort(groups)
	if len(groups) == 0 {
		return "-"
	}
	return strings.Join(groups, "; ")
}

func bytesString(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}
